// Row-wise kernels of a classifier head: softmax, log-softmax, their gradients,
// cross-entropy with integer labels, gather/scatter by label, argmax.
// Stability: every exp is of (x − rowmax) ≤ 0, so logits of ±1000 stay finite;
// log-softmax is (x − max) − log Σ exp(x − max), never log(softmax).
// Row sums use the fixed lane order of Reduce.swift.

/// Row-wise softmax family and label-indexed operations.
public enum RowOps {
    /// y[i, :] = softmax(x[i, :]), stable at logits of ±1000.
    ///
    /// ```swift
    /// try RowOps.softmax(logits, into: probabilities)
    /// ```
    /// - Throws: `KernelError` naming "x" or "y" (same shape).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func softmax<T: KernelScalar>(_ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {
        try unaryRows("RowOps.softmax", x, y) { k, px, py in k.softmax(px, py, log: false) }
    }

    /// y[i, :] = log-softmax(x[i, :]) = (x − max) − log Σ exp(x − max).
    /// - Throws: `KernelError` naming "x" or "y" (same shape).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func logSoftmax<T: KernelScalar>(_ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {
        try unaryRows("RowOps.logSoftmax", x, y) { k, px, py in k.softmax(px, py, log: true) }
    }

    /// dx = y ⊙ (dy − rowsum(dy ⊙ y)) for y = softmax(x).
    /// - Throws: `KernelError` naming "output", "dy" or "dx" (same shape).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func softmaxBackward<T: KernelScalar>(output y: MatrixView<T>, _ dy: MatrixView<T>,
                                                        into dx: MatrixView<T>) throws(KernelError) {
        try binaryRows("RowOps.softmaxBackward", y, dy, dx) { k, py, pdy, pdx in k.softmaxBackward(py, pdy, pdx, log: false) }
    }

    /// dx = dy − exp(y) ⊙ rowsum(dy) for y = log-softmax(x).
    /// - Throws: `KernelError` naming "output", "dy" or "dx" (same shape).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func logSoftmaxBackward<T: KernelScalar>(output y: MatrixView<T>, _ dy: MatrixView<T>,
                                                           into dx: MatrixView<T>) throws(KernelError) {
        try binaryRows("RowOps.logSoftmaxBackward", y, dy, dx) { k, py, pdy, pdx in k.softmaxBackward(py, pdy, pdx, log: true) }
    }

    /// loss (1×1) = −mean_i logsoftmax(logits)[i, labels[i]].
    ///
    /// ```swift
    /// try RowOps.crossEntropy(logits: z, labels: y, into: loss)
    /// ```
    /// - Parameters:
    ///   - logits: n×classes.
    ///   - labels: n Int32 class indices in a line (n×1 or 1×n).
    ///   - loss: 1×1.
    /// - Throws: `KernelError` naming "labels" with the bad value and its index if a
    ///   label is negative or ≥ classes, or naming the operand of a shape mismatch.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func crossEntropy<T: KernelScalar>(logits: MatrixView<T>, labels: MatrixView<Int32>,
                                                     into loss: MatrixView<T>) throws(KernelError) {
        let name = "RowOps.crossEntropy"
        try _checkBounds(logits, "logits", name)
        let ls = try checkLabels(labels, logits, name)
        try _checkShape(loss, "loss", rows: 1, cols: 1, name)
        logits.withUnsafeMatrix { px in
        labels.withUnsafeMatrix { pl in
        loss.withUnsafeMatrix { py in
            switch _KernelKind(T.self) {
            case .float:
                py.cast(to: Float.self).base[0] = _RowKernels<SIMD16<Float>>.crossEntropy(px.cast(to: Float.self), pl.base, ls)
            case .double:
                py.cast(to: Double.self).base[0] = _RowKernels<SIMD8<Double>>.crossEntropy(px.cast(to: Double.self), pl.base, ls)
            }
        }}}
    }

    /// dlogits = (softmax(logits) − onehot(labels)) · (scale / n).
    /// - Parameters:
    ///   - scale: the incoming gradient of the loss, 1×1.
    /// - Throws: `KernelError` naming "labels", "logits", "scale" or "dlogits".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func crossEntropyBackward<T: KernelScalar>(logits: MatrixView<T>, labels: MatrixView<Int32>, scale: MatrixView<T>,
                                                             into dlogits: MatrixView<T>) throws(KernelError) {
        let name = "RowOps.crossEntropyBackward"
        try _checkBounds(logits, "logits", name)
        let ls = try checkLabels(labels, logits, name)
        try _checkShape(scale, "scale", rows: 1, cols: 1, name)
        try _checkShape(dlogits, "dlogits", rows: logits.rows, cols: logits.cols, name)
        try _checkWritable(dlogits, "dlogits", name)
        logits.withUnsafeMatrix { px in
        labels.withUnsafeMatrix { pl in
        scale.withUnsafeMatrix { ps in
        dlogits.withUnsafeMatrix { pd in
            switch _KernelKind(T.self) {
            case .float:
                _RowKernels<SIMD16<Float>>.crossEntropyBackward(px.cast(to: Float.self), pl.base, ls, ps.cast(to: Float.self).base[0],
                                                                pd.cast(to: Float.self))
            case .double:
                _RowKernels<SIMD8<Double>>.crossEntropyBackward(px.cast(to: Double.self), pl.base, ls, ps.cast(to: Double.self).base[0],
                                                                pd.cast(to: Double.self))
            }
        }}}}
    }

    /// y[i] = x[i, labels[i]]; y is a line of n elements.
    /// - Throws: `KernelError` naming "labels", "x" or "y".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func gather<T: KernelScalar>(_ x: MatrixView<T>, labels: MatrixView<Int32>, into y: MatrixView<T>) throws(KernelError) {
        let name = "RowOps.gather"
        try _checkBounds(x, "x", name)
        let ls = try checkLabels(labels, x, name)
        let ys = try _lineStride(y, "y", count: x.rows, name)
        try _checkWritable(y, "y", name)
        x.withUnsafeMatrix { px in
        labels.withUnsafeMatrix { pl in
        y.withUnsafeMatrix { py in
            for i in 0..<px.rows { py.base[i * ys] = px.at(i, Int(pl.base[i * ls]))[0] }
        }}}
    }

    /// dx = 0 except dx[i, labels[i]] = dy[i]; dy is a line of n elements.
    /// - Throws: `KernelError` naming "labels", "dy" or "dx".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func scatter<T: KernelScalar>(_ dy: MatrixView<T>, labels: MatrixView<Int32>,
                                                into dx: MatrixView<T>) throws(KernelError) {
        let name = "RowOps.scatter"
        try _checkBounds(dx, "dx", name)
        try _checkWritable(dx, "dx", name)
        let ls = try checkLabels(labels, dx, name)
        let ds = try _lineStride(dy, "dy", count: dx.rows, name)
        try Elementwise.fill(0, into: dx)
        dy.withUnsafeMatrix { pdy in
        labels.withUnsafeMatrix { pl in
        dx.withUnsafeMatrix { pdx in
            for i in 0..<pdx.rows { pdx.at(i, Int(pl.base[i * ls]))[0] = pdy.base[i * ds] }
        }}}
    }

    /// y[i] = the index of the first maximum of row i (NaN counts as the maximum;
    /// an empty row gives 0); y is a line of n Int32s.
    /// - Throws: `KernelError` naming "x" or "y".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func argmax<T: KernelScalar>(_ x: MatrixView<T>, into y: MatrixView<Int32>) throws(KernelError) {
        let name = "RowOps.argmax"
        try _checkBounds(x, "x", name)
        let ys = try _lineStride(y, "y", count: x.rows, name)
        try _checkWritable(y, "y", name)
        x.withUnsafeMatrix { px in
        y.withUnsafeMatrix { py in
            for i in 0..<px.rows {
                let row = px.at(i, 0)
                var best = 0
                for j in 1..<max(1, px.cols) where !row[best * px.colStride].isNaN {
                    if row[j * px.colStride] > row[best * px.colStride] || row[j * px.colStride].isNaN { best = j }
                }
                py.base[i * ys] = Int32(best)
            }
        }}
    }

    // MARK: Checks and dispatch

    @inline(never)
    static func checkLabels<T>(_ labels: MatrixView<Int32>, _ x: MatrixView<T>, _ name: String) throws(KernelError) -> Int {
        let ls = try _lineStride(labels, "labels", count: x.rows, name)
        let classes = x.cols
        var bad: (Int, Int32)? = nil
        labels.withUnsafeMatrix { pl in
            for i in 0..<x.rows {
                let l = pl.base[i * ls]
                if l < 0 || Int(l) >= classes { bad = (i, l); break }
            }
        }
        if let (i, l) = bad {
            throw KernelError("\(name): labels[\(i)] = \(l) is out of range 0..<\(classes) (the number of classes)")
        }
        return ls
    }

    static func unaryRows<T: KernelScalar>(
        _ name: String, _ x: MatrixView<T>, _ y: MatrixView<T>,
        _ body: (_RowKernelsDispatch.Type, _UnsafeMatrix<T>, _UnsafeMatrix<T>) -> Void
    ) throws(KernelError) {
        try _checkShape(x, "x", rows: y.rows, cols: y.cols, name)
        try _checkBounds(y, "y", name)
        try _checkWritable(y, "y", name)
        x.withUnsafeMatrix { px in y.withUnsafeMatrix { py in body(_RowKernelsDispatch.self, px, py) } }
    }

    static func binaryRows<T: KernelScalar>(
        _ name: String, _ y: MatrixView<T>, _ dy: MatrixView<T>, _ dx: MatrixView<T>,
        _ body: (_RowKernelsDispatch.Type, _UnsafeMatrix<T>, _UnsafeMatrix<T>, _UnsafeMatrix<T>) -> Void
    ) throws(KernelError) {
        try _checkShape(y, "output", rows: dx.rows, cols: dx.cols, name)
        try _checkShape(dy, "dy", rows: dx.rows, cols: dx.cols, name)
        try _checkBounds(dx, "dx", name)
        try _checkWritable(dx, "dx", name)
        y.withUnsafeMatrix { py in dy.withUnsafeMatrix { pdy in dx.withUnsafeMatrix { pdx in
            body(_RowKernelsDispatch.self, py, pdy, pdx)
        }}}
    }
}

/// Enters the concrete row kernels for T.
enum _RowKernelsDispatch {
    static func softmax<T>(_ x: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>, log: Bool) {
        switch _KernelKind(T.self) {
        case .float: _RowKernels<SIMD16<Float>>.softmax(x.cast(to: Float.self), y.cast(to: Float.self), log: log)
        case .double: _RowKernels<SIMD8<Double>>.softmax(x.cast(to: Double.self), y.cast(to: Double.self), log: log)
        }
    }

    static func softmaxBackward<T>(_ y: _UnsafeMatrix<T>, _ dy: _UnsafeMatrix<T>, _ dx: _UnsafeMatrix<T>, log: Bool) {
        switch _KernelKind(T.self) {
        case .float:
            _RowKernels<SIMD16<Float>>.softmaxBackward(y.cast(to: Float.self), dy.cast(to: Float.self), dx.cast(to: Float.self), log: log)
        case .double:
            _RowKernels<SIMD8<Double>>.softmaxBackward(y.cast(to: Double.self), dy.cast(to: Double.self), dx.cast(to: Double.self),
                                                       log: log)
        }
    }
}

enum _RowKernels<V: _KernelVector> {
    typealias T = V.Scalar
    typealias R = _ReduceKernels<V>
    typealias E = _ElementwiseKernels<V>

    /// Applies f to row i of x (and optionally row i of z) writing row i of y, W at a time.
    @inline(__always)
    static func mapRow(_ x: _UnsafeMatrix<T>, _ z: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>, _ i: Int, _ f: (V, V) -> V) {
        let w = V.lanes
        var j = 0
        while j < y.cols {
            let n = min(w, y.cols - j)
            let a = E.load(x.at(i, j), x.colStride, n), b = E.load(z.at(i, j), z.colStride, n)
            E.store(f(a, b), y.at(i, j), y.colStride, n)
            j += w
        }
    }

    /// (max, log Σ exp(x − max)) of row i.
    @inline(__always)
    static func rowLogSumExp(_ x: _UnsafeMatrix<T>, _ i: Int) -> (max: T, logSum: T, sum: T) {
        let p = x.at(i, 0)
        let m = R.rowMax(p, x.colStride, x.cols)
        let vm = V(repeating: m)
        let s = R.rowMapReduce(p, x.colStride, x.cols, identity: 0, { V.exp($0 - vm) }, { $0 + $1 }).laneSum()
        return (m, V.log(V(repeating: s))[0], s)
    }

    static func softmax(_ x: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>, log: Bool) {
        for i in 0..<y.rows {
            let (m, logSum, sum) = rowLogSumExp(x, i)
            let vm = V(repeating: m)
            if log {
                let vl = V(repeating: logSum)
                mapRow(x, x, y, i) { a, _ in (a - vm) - vl }
            } else {
                let vs = V(repeating: sum)
                mapRow(x, x, y, i) { a, _ in V.exp(a - vm) / vs }
            }
        }
    }

    static func softmaxBackward(_ y: _UnsafeMatrix<T>, _ dy: _UnsafeMatrix<T>, _ dx: _UnsafeMatrix<T>, log: Bool) {
        let w = V.lanes
        for i in 0..<dx.rows {
            // s = rowsum(dy ⊙ y) (softmax) or rowsum(dy) (log-softmax), lane order fixed.
            var acc = V(repeating: 0)
            var j = 0
            while j < dx.cols {
                let n = min(w, dx.cols - j)
                let g = E.load(dy.at(i, j), dy.colStride, n)
                acc = acc + (log ? g : g * E.load(y.at(i, j), y.colStride, n))
                j += w
            }
            let s = V(repeating: acc.laneSum())
            if log {
                mapRow(y, dy, dx, i) { yv, g in g - V.exp(yv) * s }
            } else {
                mapRow(y, dy, dx, i) { yv, g in yv * (g - s) }
            }
        }
    }

    static func crossEntropy(_ x: _UnsafeMatrix<T>, _ labels: UnsafeMutablePointer<Int32>, _ ls: Int) -> T {
        var total: T = 0
        for i in 0..<x.rows {
            let (m, logSum, _) = rowLogSumExp(x, i)
            let logp = (x.at(i, Int(labels[i * ls]))[0] - m) - logSum
            total += logp
        }
        return -(total / T(x.rows))
    }

    static func crossEntropyBackward(_ x: _UnsafeMatrix<T>, _ labels: UnsafeMutablePointer<Int32>, _ ls: Int, _ scale: T,
                                     _ dx: _UnsafeMatrix<T>) {
        let factor = V(repeating: scale / T(x.rows))
        for i in 0..<x.rows {
            let (m, _, sum) = rowLogSumExp(x, i)
            let vm = V(repeating: m), vs = V(repeating: sum)
            mapRow(x, x, dx, i) { a, _ in (V.exp(a - vm) / vs) * factor }
            let label = Int(labels[i * ls])
            let p = (x.at(i, label)[0] - m)
            let prob = V.exp(V(repeating: p))[0] / sum
            dx.at(i, label)[0] = (prob - 1) * factor[0]
        }
    }
}
