// Reductions with a fixed summation order, independent of strides and of how a
// caller splits columns:
//   - along a row: element j goes to vector lane j mod W, lanes are accumulated in
//     ascending j, then summed pairwise (`laneSum`);
//   - down a column: i ascending, one lane per column (so column sub-views give
//     bitwise-identical results);
//   - all: the row results above, added in ascending row order.

/// What a reduction computes.
public enum ReduceOp: Sendable, Hashable {
    case sum, mean, max
}

/// Sum, mean and max along rows, columns or over everything.
public enum Reduce {
    /// y[i] = op over j of x[i, j].
    ///
    /// ```swift
    /// try Reduce.rows(.max, logits, into: rowMax)   // rowMax is m×1 (or 1×m)
    /// ```
    /// - Parameters:
    ///   - x: the m×n input (any strides).
    ///   - y: a line of m elements (m×1 or 1×m).
    /// - Throws: `KernelError` naming "x" or "y".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func rows<T: KernelScalar>(_ op: ReduceOp, _ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {
        let name = { "Reduce.rows(\(op))" }   // built only for an error message
        try _checkBounds(x, "x", name())
        let ys = try _lineStride(y, "y", count: x.rows, name())
        try _checkWritable(y, "y", name())
        x.withUnsafeMatrix { px in
        y.withUnsafeMatrix { py in
            switch _KernelKind(T.self) {
            case .float: _ReduceKernels<SIMD16<Float>>.rows(op, px.cast(to: Float.self), py.cast(to: Float.self).base, ys)
            case .double: _ReduceKernels<SIMD8<Double>>.rows(op, px.cast(to: Double.self), py.cast(to: Double.self).base, ys)
            }
        }}
    }

    /// y[j] = op over i of x[i, j], i ascending, vectorised across j (bias gradients).
    /// Column sub-views of x and y give bitwise-identical results, so callers may
    /// split the columns into tasks.
    ///
    /// ```swift
    /// try Reduce.columns(.sum, dZ, into: dBias)   // dBias is 1×n
    /// ```
    /// - Throws: `KernelError` naming "x" or "y" (y must be 1×cols or cols×1).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func columns<T: KernelScalar>(_ op: ReduceOp, _ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {
        let name = { "Reduce.columns(\(op))" }   // built only for an error message
        try _checkBounds(x, "x", name())
        let ys = try _lineStride(y, "y", count: x.cols, name())
        try _checkWritable(y, "y", name())
        x.withUnsafeMatrix { px in
        y.withUnsafeMatrix { py in
            switch _KernelKind(T.self) {
            case .float: _ReduceKernels<SIMD16<Float>>.columns(op, px.cast(to: Float.self), py.cast(to: Float.self).base, ys)
            case .double: _ReduceKernels<SIMD8<Double>>.columns(op, px.cast(to: Double.self), py.cast(to: Double.self).base, ys)
            }
        }}
    }

    /// y (1×1) = op over all elements of x, in a fixed order (see the file header).
    /// The max of an empty x is −∞, its mean NaN.
    /// - Throws: `KernelError` naming "x" or "y".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func all<T: KernelScalar>(_ op: ReduceOp, _ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {
        let name = { "Reduce.all(\(op))" }   // built only for an error message
        try _checkBounds(x, "x", name())
        try _checkShape(y, "y", rows: 1, cols: 1, name())
        x.withUnsafeMatrix { px in
        y.withUnsafeMatrix { py in
            switch _KernelKind(T.self) {
            case .float: py.cast(to: Float.self).base[0] = _ReduceKernels<SIMD16<Float>>.all(op, px.cast(to: Float.self))
            case .double: py.cast(to: Double.self).base[0] = _ReduceKernels<SIMD8<Double>>.all(op, px.cast(to: Double.self))
            }
        }}
    }
}

enum _ReduceKernels<V: _KernelVector> {
    typealias T = V.Scalar

    /// Sum of a row of n elements at stride cs, lane j mod W, pairwise lane sum.
    @inline(__always)
    static func rowSum(_ p: UnsafeMutablePointer<T>, _ cs: Int, _ n: Int) -> T {
        rowReduce(p, cs, n, identity: 0, { $0 + $1 }).laneSum()
    }

    @inline(__always)
    static func rowMax(_ p: UnsafeMutablePointer<T>, _ cs: Int, _ n: Int) -> T {
        rowReduce(p, cs, n, identity: -.infinity, { V.maximum($0, $1) }).laneMax()
    }

    /// Folds a row into one vector: lane l holds the fold of elements l, l+W, ….
    @inline(__always)
    static func rowReduce(_ p: UnsafeMutablePointer<T>, _ cs: Int, _ n: Int, identity: T, _ f: (V, V) -> V) -> V {
        let w = V.lanes
        var acc = V(repeating: identity)
        var j = 0
        if cs == 1 {
            while j + w <= n { acc = f(acc, V.load(p + j)); j += w }
        }
        while j < n {
            // Tail or strided row: the same lanes (element j in lane j mod W).
            let count = min(w, n - j)
            var v = V(repeating: identity)
            for l in 0..<count { v[l] = p[(j + l) * cs] }
            acc = f(acc, v)
            j += w
        }
        return acc
    }

    /// Folds lanes of `f(x[i, j])` along a row: used by softmax-like kernels.
    @inline(__always)
    static func rowMapReduce(_ p: UnsafeMutablePointer<T>, _ cs: Int, _ n: Int, identity: T,
                             _ map: (V) -> V, _ f: (V, V) -> V) -> V {
        let w = V.lanes
        var acc = V(repeating: identity)
        var j = 0
        if cs == 1 {
            while j + w <= n { acc = f(acc, map(V.load(p + j))); j += w }
        }
        while j < n {
            let count = min(w, n - j)
            let mapped = map(V.load(p + j * cs, stride: cs, count: count))
            var v = V(repeating: identity)
            for l in 0..<count { v[l] = mapped[l] }
            acc = f(acc, v)
            j += w
        }
        return acc
    }

    static func rows(_ op: ReduceOp, _ x: _UnsafeMatrix<T>, _ y: UnsafeMutablePointer<T>, _ ys: Int) {
        for i in 0..<x.rows {
            let p = x.at(i, 0)
            let r: T
            switch op {
            case .sum: r = rowSum(p, x.colStride, x.cols)
            case .mean: r = rowSum(p, x.colStride, x.cols) / T(x.cols)
            case .max: r = rowMax(p, x.colStride, x.cols)
            }
            y[i * ys] = r
        }
    }

    static func columns(_ op: ReduceOp, _ x: _UnsafeMatrix<T>, _ y: UnsafeMutablePointer<T>, _ ys: Int) {
        let w = V.lanes
        let identity: T = op == .max ? -.infinity : 0
        var j = 0
        while j < x.cols {
            let n = min(w, x.cols - j)
            var acc = V(repeating: identity)
            for i in 0..<x.rows {
                let p = x.at(i, j)
                let v = (x.colStride == 1 && n == w) ? V.load(p) : V.load(p, stride: x.colStride, count: n)
                acc = op == .max ? V.maximum(acc, v) : acc + v
            }
            if op == .mean { acc = acc / V(repeating: T(x.rows)) }
            acc.store(y + j * ys, stride: ys, count: n)
            j += w
        }
    }

    static func all(_ op: ReduceOp, _ x: _UnsafeMatrix<T>) -> T {
        var r: T = op == .max ? -.infinity : 0
        for i in 0..<x.rows {
            let p = x.at(i, 0)
            if op == .max {
                let m = rowMax(p, x.colStride, x.cols)
                if m > r || m.isNaN { r = m }
            } else {
                r += rowSum(p, x.colStride, x.cols)
            }
        }
        if op == .mean { r /= T(x.rows * x.cols) }
        return r
    }
}
