/// Structural ops: casts, concatenation, slices, stacking, permutations, one-hot
/// encodings, embedding lookups, and the ops along any axis (`logSumExp`, and the
/// `axis:` forms of `softmax`, `logSoftmax` and `crossEntropy` in `Tensor+Functions.swift`).
///
/// ```swift
/// let h = try concat([a, b], axis: -1)            // [n, 3] ++ [n, 5] -> [n, 8]
/// let first = try slice(h, axis: 1, start: 0, count: 4)
/// let e = try embedding(table, tokens)             // [V, D] by int32 [b, t] -> [b, t, D]
/// let z = try logSumExp(scores, axis: 1)
/// ```
///
/// Axes may be negative (counted from the end, numpy's rule). Every function throws
/// `GraphError` naming the tensors for a bad axis, mismatched shapes or dtypes; index
/// errors found only at run time (an embedding or one-hot index out of range) are
/// `RuntimeError`s of kind `.labelOutOfRange` naming the indices tensor.

/// `axis` as a non-negative axis of a rank-`rank` tensor, or a `GraphError` naming `x`.
func resolvedAxis(_ axis: Int, rank: Int, of x: Tensor, _ function: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else {
        throw GraphError("\(function): axis \(axis) is out of range for \(x.label) \(x.shape) (rank \(rank))", kind: .invalidArgument)
    }
    return a
}

/// `x` converted to `dtype`: float ↔ float rounds to nearest; float → int32 truncates
/// toward zero, saturating at the int32 range, with NaN → 0; int32 → float is exact in
/// float64. A gradient flows back through float ↔ float casts (cast back to the input's
/// dtype), never into or out of int32.
///
/// ```swift
/// let y64 = try cast(y, to: .float64)
/// ```
/// - Returns: `x` itself when it already has `dtype`.
public func cast(_ x: Tensor, to dtype: DType) throws -> Tensor {
    x.dtype == dtype ? x : try x.applying(.cast(dtype))
}

/// The tensors joined along `axis` (numpy's `concatenate`): same dtype and rank, equal
/// sizes on every other axis.
///
/// ```swift
/// try concat([a, b], axis: 1)   // [2, 3] and [2, 5] -> [2, 8]
/// ```
/// - Parameters:
///   - tensors: at least one tensor, all of one graph.
///   - axis: the axis to join along; negative counts from the end.
/// - Throws: `GraphError` for an empty list, a bad axis, or mismatched ranks, sizes or dtypes.
/// - Complexity: one copy of every element.
public func concat(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
    guard let first = tensors.first else {
        throw GraphError("concat: needs at least one tensor", kind: .invalidArgument)
    }
    let a = try resolvedAxis(axis, rank: first.shape.rank, of: first, "concat")
    if tensors.count == 1 { return first }
    return try first.applying(.concat(axis: a, count: tensors.count), Array(tensors.dropFirst()))
}

/// Elements `start ..< start + count` of `x` along `axis`. Its gradient places the
/// cotangent back into zeros (`sliceGrad`).
///
/// ```swift
/// try slice(x, axis: -1, start: 2, count: 3)   // x[..., 2:5]
/// ```
/// - Throws: `GraphError` for a bad axis, a negative start or count, or a range past a known size
///   (past an unknown size it is a `RuntimeError` when run).
public func slice(_ x: Tensor, axis: Int, start: Int, count: Int) throws -> Tensor {
    let a = try resolvedAxis(axis, rank: x.shape.rank, of: x, "slice")
    return try x.applying(.slice(axis: a, start: start, count: count))
}

/// `x` restricted to a range per axis (`nil` keeps the whole axis), e.g. `x[1:3, :, 0:2]`.
///
/// ```swift
/// try slice(x, [1..<3, nil, 0..<2])
/// ```
/// - Throws: `GraphError` when `ranges` does not have one entry per axis, or as `slice(_:axis:start:count:)`.
public func slice(_ x: Tensor, _ ranges: [Range<Int>?]) throws -> Tensor {
    guard ranges.count == x.shape.rank else {
        throw GraphError("slice: \(ranges.count) ranges for \(x.label) \(x.shape) of rank \(x.shape.rank)", kind: .invalidArgument)
    }
    var y = x
    for (axis, range) in ranges.enumerated() {
        guard let range, range != 0..<(x.shape.dims[axis] ?? -1) else { continue }
        y = try slice(y, axis: axis, start: range.lowerBound, count: range.count)
    }
    return y
}

/// The tensors stacked along a new axis `axis` (numpy's `stack`): each gets a size-1
/// axis there, then they are concatenated.
///
/// ```swift
/// try stack([a, b, c], axis: 0)   // three [4, 5] -> [3, 4, 5]
/// ```
/// - Parameters:
///   - tensors: at least one tensor, all of one shape and dtype.
///   - axis: in `-(rank + 1) ... rank`; negative counts from the end of the result.
/// - Throws: `GraphError` for an empty list, a bad axis, or mismatched shapes.
public func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
    guard let first = tensors.first else {
        throw GraphError("stack: needs at least one tensor", kind: .invalidArgument)
    }
    let a = try resolvedAxis(axis, rank: first.shape.rank + 1, of: first, "stack")
    let expanded = try tensors.map { t in
        guard t.shape.rank == first.shape.rank else {
            throw GraphError("stack: \(first.label) \(first.shape) and \(t.label) \(t.shape) differ in rank", kind: .shapeMismatch)
        }
        var dims = t.shape.dims
        dims.insert(1, at: a)
        return try reshape(t, Shape(dims))
    }
    return try concat(expanded, axis: a)
}

/// `x` with its axes permuted: axis `a` of the result is axis `permutation[a]` of `x`
/// (numpy's `transpose(x, axes)`); negative entries count from the end.
///
/// ```swift
/// try transpose(x, permutation: [0, 2, 1])   // [b, m, n] -> [b, n, m]
/// ```
/// - Throws: `GraphError` unless `permutation` is a permutation of the axes.
public func transpose(_ x: Tensor, permutation: [Int]) throws -> Tensor {
    let rank = x.shape.rank
    let p = permutation.map { $0 < 0 ? $0 + rank : $0 }
    guard p.sorted() == Array(0..<rank) else {
        throw GraphError("transpose: \(permutation) is not a permutation of the \(rank) axes of \(x.label) \(x.shape)",
                         kind: .invalidArgument)
    }
    if p == Array(0..<rank) { return x }
    if rank == 2 { return try transpose(x) }
    return try x.applying(.permute(p))
}

/// One-hot rows: `out[..., c] = indices[...] == c ? 1 : 0`, shape `indices.shape + [classes]`.
/// No gradient.
///
/// ```swift
/// try oneHot(labels, classes: 10)   // int32 [n] -> float32 [n, 10]
/// ```
/// - Parameters:
///   - indices: int32, any shape; each in `0..<classes` (else a `RuntimeError` when run).
///   - classes: ≥ 1.
///   - dtype: float32 or float64.
/// - Throws: `GraphError` for non-int32 indices, `classes < 1` or an int32 `dtype`.
public func oneHot(_ indices: Tensor, classes: Int, dtype: DType = .float32) throws -> Tensor {
    try indices.applying(.oneHot(classes: classes, dtype: dtype))
}

/// An embedding lookup: `out[s..., :] = table[indices[s...], :]`, shape
/// `indices.shape + [D]`. The table's gradient adds the cotangent's rows into their table
/// rows in increasing position order (one fixed order, whatever the worker count).
///
/// ```swift
/// let table = graph.parameter("embed", try .uniform([vocabulary, 64], .float32, in: -0.1...0.1, seed: 1))
/// let vectors = try embedding(table, tokens)   // int32 [batch, time] -> [batch, time, 64]
/// ```
/// - Parameters:
///   - table: a float matrix `[V, D]`.
///   - indices: int32, any shape; each in `0..<V`, else running throws `RuntimeError`
///     (`.labelOutOfRange`) naming `indices` and the position.
/// - Throws: `GraphError` for a table that is not a float matrix or non-int32 indices.
public func embedding(_ table: Tensor, _ indices: Tensor) throws -> Tensor {
    try table.applying(.gatherRows, [indices])
}

/// `log Σ exp(x)` along `axis` (removed), computed stably as `m + log Σ exp(x − m)` with
/// `m` the (clamped, constant) maximum; its gradient is the softmax along the axis. A
/// composition of `max`, `stopGradient`, `exp`, `sum` and `log`.
///
/// ```swift
/// try logSumExp(scores, axis: -1)   // [n, c] -> [n]
/// ```
/// - Throws: `GraphError` for a bad axis or an integer tensor.
public func logSumExp(_ x: Tensor, axis: Int = -1) throws -> Tensor {
    let rank = x.shape.rank
    let a = try resolvedAxis(axis, rank: rank, of: x, "logSumExp")
    // The largest finite magnitude keeps x − m finite where a row's maximum is ±∞.
    let big = x.dtype == .float32 ? Double(Float.greatestFiniteMagnitude) : Double.greatestFiniteMagnitude
    let m = try stopGradient(clamp(max(x, axes: [a]), -big, big))
    var kept = x.shape.dims
    kept[a] = 1
    let shifted = try x - (a == 0 ? m : reshape(m, Shape(kept)))   // a leading axis broadcasts as it is
    return try m + log(sum(exp(shifted), axes: [a]))
}

/// `body` applied along `axis` of `x`: the op itself for the last axis of a rank-1 or
/// rank-2 tensor; otherwise `axis` is moved last (`transpose(permutation:)`), the other
/// axes flattened (`reshape`), and the result put back. At most one unknown dimension.
func alongAxis(_ x: Tensor, _ axis: Int, _ function: String, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
    let rank = x.shape.rank
    let a = try resolvedAxis(axis, rank: rank, of: x, function)
    if a == rank - 1 && rank <= 2 { return try body(x) }
    var permutation = Array(0..<rank)
    permutation.remove(at: a)
    permutation.append(a)
    let moved = try transpose(x, permutation: permutation)
    let flat = moved.shape.rank == 2 ? moved : try reshape(moved, Shape([nil, moved.shape.dims.last!]))
    let y = try body(flat)
    let back = moved.shape.rank == 2 ? y : try reshape(y, moved.shape)
    var inverse = permutation
    for (k, source) in permutation.enumerated() { inverse[source] = k }
    return try transpose(back, permutation: inverse)
}

/// Cross-entropy of `logits` with class axis `axis` against int32 `labels` shaped like
/// `logits` without that axis, as the mean over every position.
func crossEntropyAlong(_ logits: Tensor, _ labels: Tensor, axis: Int) throws -> Tensor {
    let rank = logits.shape.rank
    let a = try resolvedAxis(axis, rank: rank, of: logits, "crossEntropy")
    if a == rank - 1 && rank == 2 { return try logits.applying(.crossEntropy, [labels]) }
    var expected = logits.shape.dims
    expected.remove(at: a)
    guard labels.shape.rank == expected.count,
          zip(labels.shape.dims, expected).allSatisfy({ $0 == nil || $1 == nil || $0 == $1 }) else {
        throw GraphError("crossEntropy: labels \(labels.label) \(labels.shape) should have the shape \(Shape(expected)) of "
                         + "\(logits.label) \(logits.shape) without axis \(a)", kind: .shapeMismatch)
    }
    var permutation = Array(0..<rank)
    permutation.remove(at: a)
    permutation.append(a)
    let moved = try transpose(logits, permutation: permutation)
    let flat = try reshape(moved, Shape([nil, moved.shape.dims.last!]))
    return try flat.applying(.crossEntropy, [reshape(labels, [nil])])
}

/// Softmax along `axis` (negative counts from the end) of a tensor of any rank. The
/// last axis of a rank-1 or rank-2 tensor is the `softmax` op itself; otherwise the axis
/// is moved last and the other axes flattened around it (at most one unknown dimension).
///
/// ```swift
/// try softmax(scores, axis: 1)   // [b, heads, t] normalised over heads
/// ```
/// - Throws: `GraphError` for a bad axis, an integer tensor, or more than one unknown dimension.
public func softmax(_ x: Tensor, axis: Int) throws -> Tensor {
    try alongAxis(x, axis, "softmax") { try $0.applying(.softmax) }
}

/// Log-softmax along `axis` of a tensor of any rank (stable); as `softmax(_:axis:)`.
///
/// ```swift
/// try logSoftmax(logits, axis: -1)   // [b, t, vocabulary]
/// ```
/// - Throws: as `softmax(_:axis:)`.
public func logSoftmax(_ x: Tensor, axis: Int) throws -> Tensor {
    try alongAxis(x, axis, "logSoftmax") { try $0.applying(.logSoftmax) }
}

/// The mean cross-entropy over every position of `logits` whose class axis is `axis`,
/// against int32 `labels` shaped like `logits` without that axis (PyTorch's
/// `cross_entropy(..., reduction="mean")`); the rank-2, last-axis case is the fused op.
///
/// ```swift
/// try crossEntropy(logits, tokens, axis: -1)   // [b, t, V] against int32 [b, t]
/// try crossEntropy(images, classes, axis: 1)   // [n, C, h, w] against [n, h, w]
/// ```
/// - Throws: `GraphError` for a bad axis, labels of the wrong shape, or more than one unknown dimension.
public func crossEntropy(_ logits: Tensor, _ labels: Tensor, axis: Int) throws -> Tensor {
    try crossEntropyAlong(logits, labels, axis: axis)
}

extension Tensor {
    /// See `cast(_:to:)`.
    public func cast(to dtype: DType) throws -> Tensor { try Dataflow.cast(self, to: dtype) }
    /// See `transpose(_:permutation:)`.
    public func transposed(_ permutation: [Int]) throws -> Tensor { try transpose(self, permutation: permutation) }
}
