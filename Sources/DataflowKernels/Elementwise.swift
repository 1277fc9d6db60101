// Element-wise kernels. Every element, whatever the layout of its operands (dense,
// strided, broadcast), is computed by the same vector function in the same lane
// arithmetic: tails and strided rows are gathered into a vector, computed, and
// scattered. So results never depend on how a caller tiles a tensor.

/// A point-wise function of one operand.
///
/// Accuracy (vs. the C library, on every input including ±0, ±∞ and NaN):
/// neg, square, sqrt, reciprocal, abs, relu, sign and rsqrt are IEEE operations (rsqrt
/// is `1 / x.squareRoot()`, two correctly rounded steps, not a hardware estimate);
/// exp, log, sigmoid, tanh, log1p and expm1 are vector polynomials within 4 ulps;
/// pow is the C library's `pow`/`powf` lane by lane (bitwise equal to it).
public enum UnaryOp: Sendable, Hashable {
    case neg, exp, log, sigmoid, tanh, relu, square, sqrt, reciprocal, abs
    /// 1/√x (two correctly rounded operations: `1 / x.squareRoot()`).
    case rsqrt
    /// log(1 + x), accurate for tiny x.
    case log1p
    /// exp(x) − 1, accurate for tiny x.
    case expm1
    /// 1 for x > 0, −1 for x < 0, x itself otherwise (±0 keep their sign, NaN stays NaN).
    case sign
    /// x raised to a constant exponent p (`pow(x, p)` of the C library, lane by lane;
    /// p == 2 is `x·x`, p == 1 is `x`, both equal to libm's result). The exponent
    /// is a payload rather than a second operand because every use in a graph
    /// (x², x⁻¹ᐟ², the derivative p·x^(p−1)) has a constant exponent.
    case pow(Double)
}

/// A point-wise function of two operands.
public enum BinaryOp: Sendable, Hashable {
    case add, sub, mul, div, maximum, minimum
    /// (y, dy) → dy·y·(1−y)
    case sigmoidBackward
    /// (y, dy) → dy·(1−y²)
    case tanhBackward
    /// (x, dy) → x > 0 ? dy : 0
    case reluBackward
    /// (a, b) → a > b ? 1 : 0
    case greater
    /// (a, b) → a == b ? 1 : 0
    case equal
    /// (a, b) → a ≥ b ? 1 : 0
    case greaterEqual
    /// (a, b) → a < b ? 1 : 0
    case less
    /// (a, b) → a ≤ b ? 1 : 0
    case lessEqual
    /// (a, b) → a ≠ b ? 1 : 0 (the only comparison that is 1 when an operand is NaN;
    /// all comparisons follow IEEE 754: NaN is unordered).
    case notEqual
}

/// A point-wise function of three operands.
///
/// They run alone through `Elementwise.ternary` or fused as `ElementwiseProgram`'s
/// `.ternary` instruction.
public enum TernaryOp: Sendable, Hashable {
    /// (mask, a, b) → mask ≠ 0 ? a : b (`where`); a NaN mask counts as ≠ 0, so it
    /// selects a. Exact: the chosen operand is copied bitwise.
    case select
    /// (x, lo, hi) → min(max(x, lo), hi) with NaN propagating from any operand
    /// (the kernels' `maximum`/`minimum`); lo > hi gives hi.
    case clamp
}

/// Vectorised element-wise operations with broadcasting.
public enum Elementwise {
    /// y = op(x), element by element.
    ///
    /// ```swift
    /// try Elementwise.unary(.sigmoid, z, into: a)
    /// ```
    /// - Parameters:
    ///   - op: the function.
    ///   - x: the operand, rows×cols of y; an axis of stride 0 broadcasts.
    ///   - y: the output (may be `x` itself).
    /// - Throws: `KernelError` naming "x" or "y" on a shape or bounds mismatch.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func unary<T: KernelScalar>(_ op: UnaryOp, _ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {
        let name = { "Elementwise.unary(\(op))" }   // built only for an error message
        try _checkShape(x, "x", rows: y.rows, cols: y.cols, name())
        try _checkBounds(y, "y", name())
        try _checkWritable(y, "y", name())
        x.withUnsafeMatrix { px in
        y.withUnsafeMatrix { py in
            switch _KernelKind(T.self) {
            case .float: _ElementwiseKernels<SIMD16<Float>>.unary(op, px.cast(to: Float.self), py.cast(to: Float.self))
            case .double: _ElementwiseKernels<SIMD8<Double>>.unary(op, px.cast(to: Double.self), py.cast(to: Double.self))
            }
        }}
    }

    /// c = op(a, b), broadcasting a and b through stride-0 axes.
    ///
    /// ```swift
    /// // row-vector bias: b is 1×n viewed with rowStride 0 as m×n
    /// try Elementwise.binary(.add, z, MatrixView(bias, rows: m, cols: n, rowStride: 0), into: z)
    /// ```
    /// - Parameters:
    ///   - a, b: operands with c's rows×cols (row vector: rowStride 0; column vector:
    ///     colStride 0; scalar: both 0).
    ///   - c: the output (may alias a or b exactly).
    /// - Throws: `KernelError` naming "a", "b" or "c".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func binary<T: KernelScalar>(_ op: BinaryOp, _ a: MatrixView<T>, _ b: MatrixView<T>,
                                               into c: MatrixView<T>) throws(KernelError) {
        let name = { "Elementwise.binary(\(op))" }   // built only for an error message
        try _checkShape(a, "a", rows: c.rows, cols: c.cols, name())
        try _checkShape(b, "b", rows: c.rows, cols: c.cols, name())
        try _checkBounds(c, "c", name())
        try _checkWritable(c, "c", name())
        a.withUnsafeMatrix { pa in
        b.withUnsafeMatrix { pb in
        c.withUnsafeMatrix { pc in
            switch _KernelKind(T.self) {
            case .float:
                _ElementwiseKernels<SIMD16<Float>>.binary(op, pa.cast(to: Float.self), pb.cast(to: Float.self), pc.cast(to: Float.self))
            case .double:
                _ElementwiseKernels<SIMD8<Double>>.binary(op, pa.cast(to: Double.self), pb.cast(to: Double.self), pc.cast(to: Double.self))
            }
        }}}
    }

    /// d = op(a, b, c), broadcasting every operand through stride-0 axes like `binary`.
    ///
    /// ```swift
    /// // y = mask ? x : 0, with a scalar zero
    /// try Elementwise.ternary(.select, mask, x, MatrixView(zero, rows: m, cols: n, rowStride: 0, colStride: 0), into: y)
    /// ```
    /// - Parameters:
    ///   - op: the function (`select`: a is the mask; `clamp`: a is x, b lo, c hi).
    ///   - a, b, c: operands with d's rows×cols (stride 0 broadcasts).
    ///   - d: the output (may alias an operand exactly).
    /// - Throws: `KernelError` naming "a", "b", "c" or "d".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func ternary<T: KernelScalar>(_ op: TernaryOp, _ a: MatrixView<T>, _ b: MatrixView<T>, _ c: MatrixView<T>,
                                                into d: MatrixView<T>) throws(KernelError) {
        let name = { "Elementwise.ternary(\(op))" }   // built only for an error message
        try _checkShape(a, "a", rows: d.rows, cols: d.cols, name())
        try _checkShape(b, "b", rows: d.rows, cols: d.cols, name())
        try _checkShape(c, "c", rows: d.rows, cols: d.cols, name())
        try _checkBounds(d, "d", name())
        try _checkWritable(d, "d", name())
        a.withUnsafeMatrix { pa in
        b.withUnsafeMatrix { pb in
        c.withUnsafeMatrix { pc in
        d.withUnsafeMatrix { pd in
            switch _KernelKind(T.self) {
            case .float:
                _ElementwiseKernels<SIMD16<Float>>.ternary(op, pa.cast(to: Float.self), pb.cast(to: Float.self),
                                                           pc.cast(to: Float.self), pd.cast(to: Float.self))
            case .double:
                _ElementwiseKernels<SIMD8<Double>>.ternary(op, pa.cast(to: Double.self), pb.cast(to: Double.self),
                                                           pc.cast(to: Double.self), pd.cast(to: Double.self))
            }
        }}}}
    }

    /// Sets every element of y to `value`.
    /// - Throws: `KernelError` naming "y" if it is out of bounds or broadcasts.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func fill<T: KernelScalar>(_ value: T, into y: MatrixView<T>) throws(KernelError) {
        try _checkBounds(y, "y", "Elementwise.fill")
        try _checkWritable(y, "y", "Elementwise.fill")
        y.withUnsafeMatrix { py in
            for i in 0..<py.rows {
                let row = py.at(i, 0)
                if py.colStride == 1 {
                    row.update(repeating: value, count: py.cols)
                } else {
                    for j in 0..<py.cols { row[j * py.colStride] = value }
                }
            }
        }
    }

    /// y = x for any strides (a transpose is a copy with swapped strides).
    ///
    /// ```swift
    /// let t = MatrixView(a.buffer, rows: a.cols, cols: a.rows, rowStride: 1, colStride: a.rowStride)
    /// try Elementwise.copy(t, into: aT)
    /// ```
    /// - Throws: `KernelError` naming "x" or "y". x and y must not overlap (unless equal).
    public static func copy<T: TensorElement>(_ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {
        let name = "Elementwise.copy"
        try _checkShape(x, "x", rows: y.rows, cols: y.cols, name)
        try _checkBounds(y, "y", name)
        try _checkWritable(y, "y", name)
        x.withUnsafeMatrix { px in
        y.withUnsafeMatrix { py in
            _copy(px, py)
        }}
    }

    /// y = alpha·x + beta·y (an SGD step w ← w − lr·g is alpha = −lr, beta = 1).
    /// beta == 0 means y is not read.
    /// - Throws: `KernelError` naming "x" or "y".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func axpby<T: KernelScalar>(alpha: T, _ x: MatrixView<T>, beta: T, into y: MatrixView<T>) throws(KernelError) {
        let name = "Elementwise.axpby"
        try _checkShape(x, "x", rows: y.rows, cols: y.cols, name)
        try _checkBounds(y, "y", name)
        try _checkWritable(y, "y", name)
        x.withUnsafeMatrix { px in
        y.withUnsafeMatrix { py in
            switch _KernelKind(T.self) {
            case .float:
                _ElementwiseKernels<SIMD16<Float>>.axpby(unsafeBitCast(alpha, to: Float.self), px.cast(to: Float.self),
                                                         unsafeBitCast(beta, to: Float.self), py.cast(to: Float.self))
            case .double:
                _ElementwiseKernels<SIMD8<Double>>.axpby(unsafeBitCast(alpha, to: Double.self), px.cast(to: Double.self),
                                                         unsafeBitCast(beta, to: Double.self), py.cast(to: Double.self))
            }
        }}
    }

    /// Evaluates a fused chain of element-wise ops in one pass (no intermediate tensors).
    ///
    /// ```swift
    /// // y = sigmoid(a + b) · c
    /// let p = ElementwiseProgram(inputCount: 3, instructions: [
    ///     .input(0), .input(1), .binary(.add, 0, 1), .unary(.sigmoid, 2), .input(2), .binary(.mul, 3, 4)])
    /// try Elementwise.run(p, inputs: [a, b, c], into: y)
    /// ```
    /// - Parameters:
    ///   - program: the SSA program; its last value is stored.
    ///   - inputs: `program.inputCount` views with y's rows×cols (broadcasting like `binary`).
    ///   - y: the output (may alias an input exactly).
    /// - Throws: `KernelError` naming "inputs[i]" or "y".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func run<T: KernelScalar>(_ program: ElementwiseProgram, inputs: [MatrixView<T>],
                                            into y: MatrixView<T>) throws(KernelError) {
        let name = "Elementwise.run"
        guard inputs.count == program.inputCount else {
            throw KernelError("\(name): inputs has \(inputs.count) views, the program expects \(program.inputCount)")
        }
        for (i, x) in inputs.enumerated() {
            try _checkShape(x, "inputs[\(i)]", rows: y.rows, cols: y.cols, name)
        }
        try _checkBounds(y, "y", name)
        try _checkWritable(y, "y", name)
        func raw<U>(_: U.Type) -> [_UnsafeMatrix<U>] {
            inputs.map { v in
                _UnsafeMatrix(base: v.buffer.base + v.offset, rows: v.rows, cols: v.cols, rowStride: v.rowStride,
                              colStride: v.colStride).cast(to: U.self)
            }
        }
        withExtendedLifetime(inputs) {
            y.withUnsafeMatrix { py in
                switch _KernelKind(T.self) {
                case .float: _ElementwiseKernels<SIMD16<Float>>.runBlocks(program, raw(Float.self), py.cast(to: Float.self))
                case .double: _ElementwiseKernels<SIMD8<Double>>.runBlocks(program, raw(Double.self), py.cast(to: Double.self))
                }
            }
        }
    }
}

/// Copies for any element type and strides; row-contiguous rows use memcpy-like updates.
func _copy<T>(_ x: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>) {
    if x.base == y.base && x.rowStride == y.rowStride && x.colStride == y.colStride { return }
    for i in 0..<y.rows {
        let src = x.at(i, 0), dst = y.at(i, 0)
        if x.colStride == 1 && y.colStride == 1 {
            dst.update(from: src, count: y.cols)
        } else {
            for j in 0..<y.cols { dst[j * y.colStride] = src[j * x.colStride] }
        }
    }
}

/// The element-wise loops, generic over the vector type (always specialised).
enum _ElementwiseKernels<V: _KernelVector> {
    typealias T = V.Scalar

    /// Loads `count` ≤ W elements of row pointer p with column stride cs (0 broadcasts).
    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<T>, _ cs: Int, _ count: Int) -> V {
        if cs == 1 && count == V.lanes { return V.load(p) }
        if cs == 0 { return V(repeating: p[0]) }
        return V.load(p, stride: cs, count: count)
    }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<T>, _ cs: Int, _ count: Int) {
        if cs == 1 && count == V.lanes { v.store(p) } else { v.store(p, stride: cs, count: count) }
    }

    /// Runs `f` over every vector position of y (row by row, W columns at a time).
    @inline(__always)
    static func forEachBlock(rows: Int, cols: Int, _ body: (_ i: Int, _ j: Int, _ count: Int) -> Void) {
        let w = V.lanes
        for i in 0..<rows {
            var j = 0
            while j < cols {
                body(i, j, min(w, cols - j))
                j += w
            }
        }
    }

    static func unary(_ op: UnaryOp, _ x: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>) {
        switch op {
        case .neg: unaryLoop(x, y) { -$0 }
        case .exp: unaryLoop(x, y) { V.exp($0) }
        case .log: unaryLoop(x, y) { V.log($0) }
        case .sigmoid: unaryLoop(x, y) { V.sigmoid($0) }
        case .tanh: unaryLoop(x, y) { V.tanh($0) }
        case .relu: unaryLoop(x, y) { V.relu($0) }
        case .square: unaryLoop(x, y) { $0 * $0 }
        case .sqrt: unaryLoop(x, y) { $0.squareRoot() }
        case .reciprocal: unaryLoop(x, y) { V.constant(1) / $0 }
        case .abs: unaryLoop(x, y) { V.absolute($0) }
        case .rsqrt: unaryLoop(x, y) { V.constant(1) / $0.squareRoot() }
        case .log1p: unaryLoop(x, y) { V.log1p($0) }
        case .expm1: unaryLoop(x, y) { V.expm1($0) }
        case .sign: unaryLoop(x, y) { V.sign($0) }
        case .pow(let p): unaryLoop(x, y) { V.pow($0, p) }
        }
    }

    /// `m` (rows×cols) as one row of rows·cols elements in the same order, when it is
    /// contiguous or one broadcast scalar: short rows (a pixel's channels) then run as
    /// whole vectors instead of a partial vector per row.
    @inline(__always)
    static func asOneRow(_ m: _UnsafeMatrix<T>, _ rows: Int, _ cols: Int) -> _UnsafeMatrix<T>? {
        let n = rows * cols
        if m.colStride == 1 && m.rowStride == cols { return _UnsafeMatrix(base: m.base, rows: 1, cols: n, rowStride: n, colStride: 1) }
        if m.colStride == 0 && m.rowStride == 0 { return _UnsafeMatrix(base: m.base, rows: 1, cols: n, rowStride: 0, colStride: 0) }
        return nil
    }

    @inline(__always)
    static func unaryLoop(_ x0: _UnsafeMatrix<T>, _ y0: _UnsafeMatrix<T>, _ f: (V) -> V) {
        var x = x0, y = y0
        if y.rows > 1, let x1 = asOneRow(x, y.rows, y.cols), let y1 = asOneRow(y, y.rows, y.cols), y1.colStride == 1 {
            x = x1
            y = y1
        }
        let w = V.lanes
        for i in 0..<y.rows {
            let px = x.at(i, 0), py = y.at(i, 0)
            var j = 0
            if x.colStride == 1 && y.colStride == 1 {
                while j + w <= y.cols { f(V.load(px + j)).store(py + j); j += w }
            }
            while j < y.cols {
                let n = min(w, y.cols - j)
                store(f(load(px + j * x.colStride, x.colStride, n)), py + j * y.colStride, y.colStride, n)
                j += w
            }
        }
    }

    static func binary(_ op: BinaryOp, _ a: _UnsafeMatrix<T>, _ b: _UnsafeMatrix<T>, _ c: _UnsafeMatrix<T>) {
        switch op {
        case .add: binaryLoop(a, b, c) { $0 + $1 }
        case .sub: binaryLoop(a, b, c) { $0 - $1 }
        case .mul: binaryLoop(a, b, c) { $0 * $1 }
        case .div: binaryLoop(a, b, c) { $0 / $1 }
        default: binaryLoop(a, b, c) { V.apply(op, $0, $1) }
        }
    }

    @inline(__always)
    static func binaryLoop(_ a0: _UnsafeMatrix<T>, _ b0: _UnsafeMatrix<T>, _ c0: _UnsafeMatrix<T>, _ f: (V, V) -> V) {
        var a = a0, b = b0, c = c0
        if c.rows > 1, let a1 = asOneRow(a, c.rows, c.cols), let b1 = asOneRow(b, c.rows, c.cols),
           let c1 = asOneRow(c, c.rows, c.cols), c1.colStride == 1 {
            a = a1
            b = b1
            c = c1
        }
        let w = V.lanes
        for i in 0..<c.rows {
            let pa = a.at(i, 0), pb = b.at(i, 0), pc = c.at(i, 0)
            var j = 0
            if c.colStride == 1 {
                if a.colStride == 1 && b.colStride == 1 {
                    while j + w <= c.cols { f(V.load(pa + j), V.load(pb + j)).store(pc + j); j += w }
                } else if a.colStride == 1 && b.colStride == 0 {
                    let vb = V(repeating: pb[0])
                    while j + w <= c.cols { f(V.load(pa + j), vb).store(pc + j); j += w }
                } else if a.colStride == 0 && b.colStride == 1 {
                    let va = V(repeating: pa[0])
                    while j + w <= c.cols { f(va, V.load(pb + j)).store(pc + j); j += w }
                }
            }
            while j < c.cols {
                let n = min(w, c.cols - j)
                let r = f(load(pa + j * a.colStride, a.colStride, n), load(pb + j * b.colStride, b.colStride, n))
                store(r, pc + j * c.colStride, c.colStride, n)
                j += w
            }
        }
    }

    static func ternary(_ op: TernaryOp, _ a: _UnsafeMatrix<T>, _ b: _UnsafeMatrix<T>, _ c: _UnsafeMatrix<T>, _ d: _UnsafeMatrix<T>) {
        // One path for every layout (gather, compute, scatter per vector): the
        // values do not depend on the layout because select and clamp are exact.
        forEachBlock(rows: d.rows, cols: d.cols) { i, j, n in
            let r = V.apply(op, load(a.at(i, j), a.colStride, n), load(b.at(i, j), b.colStride, n), load(c.at(i, j), c.colStride, n))
            store(r, d.at(i, j), d.colStride, n)
        }
    }

    static func axpby(_ alpha: T, _ x: _UnsafeMatrix<T>, _ beta: T, _ y: _UnsafeMatrix<T>) {
        let va = V(repeating: alpha), vb = V(repeating: beta)
        if beta == 0 {
            unaryLoop(x, y) { va * $0 }
        } else {
            binaryLoop(x, y, y) { va * $0 + vb * $1 }
        }
    }
}
