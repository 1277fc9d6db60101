/// The ops as free functions, so code reads like the seed's Theano:
///
/// ```swift
/// let p = try softmax(sigmoid(x • w1 + b1) • w2 + b2)
/// let loss = try -mean(log(p).gather(y))   // built as crossEntropy(z, y)
/// ```
/// Every function throws `GraphError` naming the tensors on a shape or dtype mismatch.

/// `op(a) · op(b)` for rank-2 `a`, `b`; `op` transposes when its flag is set.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
    try a.applying(.matmul(transposeA: transposeA, transposeB: transposeB), [b])
}

/// The transpose of a rank-2 tensor.
public func transpose(_ x: Tensor) throws -> Tensor { try x.applying(.transpose) }

/// `x` with shape `shape` (row-major); at most one dimension may be `nil`.
public func reshape(_ x: Tensor, _ shape: Shape) throws -> Tensor { try x.applying(.reshape(shape)) }

public func exp(_ x: Tensor) throws -> Tensor { try x.applying(.exp) }
public func log(_ x: Tensor) throws -> Tensor { try x.applying(.log) }
public func sigmoid(_ x: Tensor) throws -> Tensor { try x.applying(.sigmoid) }
public func tanh(_ x: Tensor) throws -> Tensor { try x.applying(.tanh) }
public func relu(_ x: Tensor) throws -> Tensor { try x.applying(.relu) }

/// Softmax over the last axis, any rank ≥ 1 (`softmax(_:axis:)` for another axis).
/// Above rank 2 the leading axes are flattened around the last (a reshape, no copy).
public func softmax(_ x: Tensor) throws -> Tensor {
    try requireRankAtLeastOne(x, "softmax")
    return x.shape.rank > 2 ? try softmax(x, axis: -1) : try x.applying(.softmax)
}
/// Log-softmax over the last axis, any rank ≥ 1 (stable; `logSoftmax(_:axis:)` for another axis).
public func logSoftmax(_ x: Tensor) throws -> Tensor {
    try requireRankAtLeastOne(x, "logSoftmax")
    return x.shape.rank > 2 ? try logSoftmax(x, axis: -1) : try x.applying(.logSoftmax)
}

/// The row ops need an axis to normalise over.
private func requireRankAtLeastOne(_ x: Tensor, _ function: String) throws {
    guard x.shape.rank >= 1 else {
        throw GraphError("\(function): operand \(x.label) \(x.shape) has rank 0; expected rank 1 or more (the last axis is normalised)")
    }
}

/// Sorted, non-negative axes; `nil` means all axes. Negative axes count from the end
/// (numpy's rule); an axis out of range or given twice throws (numpy refuses both).
func normalizedAxes(_ axes: [Int]?, of x: Tensor, _ function: String) throws -> [Int] {
    let rank = x.shape.rank
    guard let axes else { return Array(0..<rank) }
    let resolved = axes.map { $0 < 0 ? $0 + rank : $0 }
    for (given, axis) in zip(axes, resolved) where axis < 0 || axis >= rank {
        throw GraphError("\(function): axis \(given) is out of range for \(x.label) \(x.shape) (rank \(rank))", kind: .invalidArgument)
    }
    guard Set(resolved).count == resolved.count else {
        throw GraphError("\(function): axes \(axes) of \(x.label) name an axis twice", kind: .invalidArgument)
    }
    return resolved.sorted()
}

/// The sum over `axes` (all axes when `nil`), which are removed.
public func sum(_ x: Tensor, axes: [Int]? = nil) throws -> Tensor {
    try x.applying(.sum(axes: normalizedAxes(axes, of: x, "sum")))
}

/// The mean over `axes` (all axes when `nil`), which are removed.
public func mean(_ x: Tensor, axes: [Int]? = nil) throws -> Tensor {
    try x.applying(.mean(axes: normalizedAxes(axes, of: x, "mean")))
}

/// The maximum over `axes` (all axes when `nil`), which are removed. Its gradient
/// is split equally among tied maxima.
public func max(_ x: Tensor, axes: [Int]? = nil) throws -> Tensor {
    try x.applying(.max(axes: normalizedAxes(axes, of: x, "max")))
}

/// The int32 index of the first maximum along `axis` (removed). No gradient.
public func argmax(_ x: Tensor, axis: Int) throws -> Tensor {
    try x.applying(.argmax(axis: axis < 0 ? axis + x.shape.rank : axis))
}

/// `out[i] = x[i, labels[i]]`: the seed's `log(p)[arange(n), y]`.
public func gatherLabels(_ x: Tensor, _ labels: Tensor) throws -> Tensor {
    try x.applying(.gatherLabels, [labels])
}

/// `−mean_i logSoftmax(logits)[i, labels[i]]`, fused and stable. Classes are the last
/// axis; above rank 2 the mean runs over every position (`crossEntropy(_:_:axis:)` for
/// another class axis).
public func crossEntropy(_ logits: Tensor, _ labels: Tensor) throws -> Tensor {
    logits.shape.rank > 2 ? try crossEntropy(logits, labels, axis: -1) : try logits.applying(.crossEntropy, [labels])
}

/// `x` forward, zero gradient (Theano's `consider_constant` on one tensor).
public func stopGradient(_ x: Tensor) throws -> Tensor { try x.applying(.stopGradient) }

/// Zeros of `x`'s shape and dtype.
public func zerosLike(_ x: Tensor) throws -> Tensor { try x.applying(.zerosLike) }

/// `x` broadcast to `like`'s shape (numpy rules).
public func broadcastLike(_ x: Tensor, _ like: Tensor) throws -> Tensor { try x.applying(.broadcastLike, [like]) }

/// `x` summed over broadcast axes down to `like`'s shape.
public func sumToShapeOf(_ x: Tensor, _ like: Tensor) throws -> Tensor { try x.applying(.sumToShapeOf, [like]) }

extension Tensor {
    /// `out[i] = self[i, labels[i]]`, like `x[arange(n), y]`.
    public func gather(_ labels: Tensor) throws -> Tensor { try gatherLabels(self, labels) }
    /// The transpose of a rank-2 tensor.
    public var T: Tensor { get throws { try transpose(self) } }
    /// See `sum(_:axes:)`.
    public func sum(axes: [Int]? = nil) throws -> Tensor { try Dataflow.sum(self, axes: axes) }
    /// See `mean(_:axes:)`.
    public func mean(axes: [Int]? = nil) throws -> Tensor { try Dataflow.mean(self, axes: axes) }
    /// See `max(_:axes:)`.
    public func max(axes: [Int]? = nil) throws -> Tensor { try Dataflow.max(self, axes: axes) }
    /// See `argmax(_:axis:)`.
    public func argmax(axis: Int) throws -> Tensor { try Dataflow.argmax(self, axis: axis) }
    /// See `reshape(_:_:)`.
    public func reshaped(_ shape: Shape) throws -> Tensor { try reshape(self, shape) }
}
