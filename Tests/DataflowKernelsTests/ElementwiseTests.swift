import Testing
import DataflowKernels

/// Special and ordinary inputs for the transcendental functions.
let specialInputs: [Double] = [0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 0.1, -0.3, 0.5, 1, -1, 2.5, -3.7, 10, -10, 20, -20,
                               44, -44, 87.9, -87.9, 88, -88, 88.7, 100, -100, 700, -700, 1000, -1000, .infinity, -.infinity, .nan]

func unaryReference(_ op: UnaryOp, _ x: Double) -> Double {
    switch op {
    case .neg: return -x
    case .exp: return _exp(x)
    case .log: return _log(x)
    case .sigmoid: return x >= 0 ? 1 / (1 + _exp(-x)) : _exp(x) / (1 + _exp(x))
    case .tanh: return _tanh(x)
    case .relu: return x.isNaN ? x : max(x, 0)
    case .square: return x * x
    case .sqrt: return x.squareRoot()
    case .reciprocal: return 1 / x
    case .abs: return abs(x)
    case .rsqrt: return 1 / x.squareRoot()
    case .log1p: return _log1p(x)
    case .expm1: return _expm1(x)
    case .sign: return x > 0 ? 1 : x < 0 ? -1 : x
    case .pow(let p): return _pow(x, p)
    }
}

/// Relative error in units of the type's ε (ulps, roughly); matching infinities and
/// NaNs count as 0; results below the smallest normal compare absolutely.
func ulpError<T: KernelScalar>(_ got: T, _ want: Double, _: T.Type) -> Double {
    if want.isNaN { return got.isNaN ? 0 : .infinity }
    let w = Double(T(want))   // the correctly rounded target
    if w.isInfinite || Double(got).isInfinite { return Double(got) == w ? 0 : .infinity }
    let err = abs(Double(got) - want)
    return err / (max(abs(want), Double(T.leastNormalMagnitude)) * Double(T.ulpOfOne))
}

@Suite struct ElementwiseTests {
    @Test(arguments: [UnaryOp.neg, .exp, .log, .sigmoid, .tanh, .relu, .square, .sqrt, .reciprocal, .abs])
    func unaryMatchesLibm(op: UnaryOp) throws {
        // Tolerance: 4 ulps (exp, log, sigmoid, tanh; ~1-2 observed), exact-ish for the rest.
        try check(Float.self, op)
        try check(Double.self, op)
    }

    func check<T: KernelScalar>(_: T.Type, _ op: UnaryOp) throws {
        var inputs = specialInputs
        var rng = SplitMix(seed: 99)
        for _ in 0..<500 { inputs.append((Double(rng.next() >> 11) / Double(1 << 53) - 0.5) * 60) }
        let n = inputs.count
        let x = MatrixView(TensorBuffer<T>(inputs.map { T($0) }), rows: 1, cols: n)
        let y = MatrixView(TensorBuffer<T>(count: n), rows: 1, cols: n)
        try Elementwise.unary(op, x, into: y)
        var worst = 0.0, worstAt = 0.0
        for i in 0..<n {
            let xi = Double(x[0, i])
            let e = ulpError(y[0, i], unaryReference(op, xi), T.self)
            if !(e <= worst) { worst = e; worstAt = xi }
        }
        #expect(worst <= 4, "\(T.self) \(op): worst \(worst) ulp at x = \(worstAt)")
        // A strided transposed view computes the same values bitwise.
        let col = MatrixView(TensorBuffer<T>(count: 2 * n), rows: n, cols: 1, rowStride: 2, colStride: 1)
        try Elementwise.unary(op, MatrixView(x.buffer, rows: n, cols: 1, rowStride: 1), into: col)
        #expect((0..<n).allSatisfy { Double(col[$0, 0]).bitPattern == Double(y[0, $0]).bitPattern })
    }

    static let binaryOps: [BinaryOp] = [.add, .sub, .mul, .div, .maximum, .minimum, .sigmoidBackward, .tanhBackward,
                                        .reluBackward, .greater, .equal]

    func binaryReference(_ op: BinaryOp, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .maximum: return max(a, b)
        case .minimum: return min(a, b)
        case .sigmoidBackward: return b * (a * (1 - a))
        case .tanhBackward: return b * (1 - a * a)
        case .reluBackward: return a > 0 ? b : 0
        case .greater: return a > b ? 1 : 0
        case .equal: return a == b ? 1 : 0
        case .greaterEqual: return a >= b ? 1 : 0
        case .less: return a < b ? 1 : 0
        case .lessEqual: return a <= b ? 1 : 0
        case .notEqual: return a != b ? 1 : 0
        }
    }

    /// Broadcast layouts of b: full, row vector, column vector, scalar; and of a.
    @Test(arguments: binaryOps, [(1, 1), (17, 33), (3, 16), (5, 100)])
    func binaryBroadcasting(op: BinaryOp, shape: (Int, Int)) throws {
        try binary(Float.self, op, shape)
        try binary(Double.self, op, shape)
    }

    func binary<T: KernelScalar>(_: T.Type, _ op: BinaryOp, _ shape: (Int, Int)) throws {
        let (m, n) = shape
        let a = randomMatrix(T.self, rows: m, cols: n, ld: n + 2, seed: 5)
        let base = randomMatrix(T.self, rows: m, cols: n, seed: 6)
        base[0, 0] = a[0, 0]   // one equal pair for .equal
        let views: [(String, MatrixView<T>)] = [
            ("full", base),
            ("row", MatrixView(base.buffer, offset: base.offset, rows: m, cols: n, rowStride: 0, colStride: 1)),
            ("column", MatrixView(base.buffer, offset: base.offset, rows: m, cols: n, rowStride: n, colStride: 0)),
            ("scalar", MatrixView(base.buffer, offset: base.offset, rows: m, cols: n, rowStride: 0, colStride: 0)),
        ]
        for (name, b) in views {
            for swap in [false, true] {
                let (x, z) = swap ? (b, a) : (a, b)
                let c = MatrixView(TensorBuffer<T>(count: m * n), rows: m, cols: n)
                try Elementwise.binary(op, x, z, into: c)
                for i in 0..<m { for j in 0..<n {
                    let want = T(binaryReference(op, Double(x[i, j]), Double(z[i, j])))
                    #expect(abs(Double(c[i, j]) - Double(want)) <= 2 * Double(T.ulpOfOne) * max(1, abs(Double(want))),
                            "\(T.self) \(op) b=\(name) swap=\(swap) at \(i),\(j)")
                }}
            }
        }
    }

    @Test func fillCopyAxpby() throws {
        let x = randomMatrix(Double.self, rows: 7, cols: 19, ld: 23, seed: 1)
        let y = randomMatrix(Double.self, rows: 7, cols: 19, seed: 2)
        let y0 = y.elements
        try Elementwise.axpby(alpha: -0.1, x, beta: 1, into: y)
        for i in 0..<7 { for j in 0..<19 { #expect(abs(y[i, j] - (y0[i * 19 + j] - 0.1 * x[i, j])) < 1e-15) } }
        // copy through a transpose (swapped strides)
        let t = MatrixView(x.buffer, offset: x.offset, rows: 19, cols: 7, rowStride: 1, colStride: 23)
        let out = MatrixView(TensorBuffer<Double>(count: 133), rows: 19, cols: 7)
        try Elementwise.copy(t, into: out)
        for i in 0..<19 { for j in 0..<7 { #expect(out[i, j] == x[j, i]) } }
        let labels = MatrixView(TensorBuffer<Int32>([1, 2, 3]), rows: 1, cols: 3)
        let labelsCopy = MatrixView(TensorBuffer<Int32>(count: 3), rows: 3, cols: 1)
        try Elementwise.copy(MatrixView(labels.buffer, rows: 3, cols: 1), into: labelsCopy)
        #expect(labelsCopy.buffer.toArray() == [1, 2, 3])
        try Elementwise.fill(Float(2.5), into: MatrixView(TensorBuffer<Float>(count: 40), rows: 3, cols: 5, rowStride: 13, colStride: 2))
        let beta0 = MatrixView(TensorBuffer<Float>([.nan, .nan]), rows: 1, cols: 2)
        try Elementwise.axpby(alpha: 2, MatrixView(TensorBuffer<Float>([1, 2]), rows: 1, cols: 2), beta: 0, into: beta0)
        #expect(beta0.buffer.toArray() == [2, 4])
    }

    @Test func fusedProgramMatchesSeparateOps() throws {
        // y = sigmoid(a + bias) · c − 2, bias broadcast as a row vector.
        let (m, n) = (9, 37)
        let a = randomMatrix(Float.self, rows: m, cols: n, seed: 1)
        let bias = randomMatrix(Float.self, rows: 1, cols: n, seed: 2)
        let c = randomMatrix(Float.self, rows: m, cols: n, seed: 3)
        let biasRows = MatrixView(bias.buffer, offset: bias.offset, rows: m, cols: n, rowStride: 0, colStride: 1)
        let program = ElementwiseProgram(inputCount: 3, instructions: [
            .input(0), .input(1), .binary(.add, 0, 1), .unary(.sigmoid, 2), .input(2), .binary(.mul, 3, 4),
            .constant(2), .binary(.sub, 5, 6),
        ])
        let y = MatrixView(TensorBuffer<Float>(count: m * n), rows: m, cols: n)
        try Elementwise.run(program, inputs: [a, biasRows, c], into: y)
        let t = MatrixView(TensorBuffer<Float>(count: m * n), rows: m, cols: n)
        try Elementwise.binary(.add, a, biasRows, into: t)
        try Elementwise.unary(.sigmoid, t, into: t)
        try Elementwise.binary(.mul, t, c, into: t)
        try Elementwise.binary(.sub, t, MatrixView(TensorBuffer<Float>([2]), rows: m, cols: n, rowStride: 0, colStride: 0), into: t)
        #expect(y.elements == t.elements)
    }

    @Test func misuseThrowsNamingTheOperand() {
        let x = randomMatrix(Float.self, rows: 3, cols: 4, seed: 1)
        let y = randomMatrix(Float.self, rows: 4, cols: 3, seed: 2)
        do { try Elementwise.unary(.exp, x,
                                   into: y); Issue.record("no throw") } catch { #expect(error.message.contains("x is 3×4, expected 4×3")) }
        do { try Elementwise.binary(.add, x, y, into: x); Issue.record("no throw") } catch { #expect(error.message.contains("b is 4×3")) }
        let broadcastOut = MatrixView(x.buffer, rows: 3, cols: 4, rowStride: 0, colStride: 1)
        do { try Elementwise.fill(1,
                into: broadcastOut); Issue.record("no throw") } catch { #expect(error.message.contains("y is an output")) }
    }
}
