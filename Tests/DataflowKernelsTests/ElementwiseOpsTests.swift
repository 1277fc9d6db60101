import Testing
import DataflowKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func _log1p(_ x: Double) -> Double { log1p(x) }
func _expm1(_ x: Double) -> Double { expm1(x) }
func _pow(_ x: Double, _ p: Double) -> Double { pow(x, p) }

/// The scalar twin of the exact unary ops in T's own arithmetic (nil: approximate op,
/// compared in ulps against the C library instead).
func exactUnaryTwin<T: KernelScalar>(_ op: UnaryOp, _ x: T) -> T? {
    switch op {
    case .rsqrt: return 1 / x.squareRoot()
    case .sign: return x > 0 ? 1 : x < 0 ? -1 : x
    case .pow(let p):
        if p == 2 { return x * x }
        if p == 1 { return x }
        if T.self == Float.self { return T(powf(Float(x), Float(p))) }
        return T(pow(Double(x), p))
    case .neg, .exp, .log, .sigmoid, .tanh, .relu, .square, .sqrt, .reciprocal, .abs, .log1p, .expm1: return nil
    }
}

/// Values for the new ops: specials, tiny (log1p/expm1 near 0), around −1, negatives.
func newOpInputs(count: Int, seed: UInt64) -> [Double] {
    var rng = SplitMix(seed: seed)
    let fixed: [Double] = [0, -0.0, 1e-30, -1e-30, 1e-9, -1e-9, 1e-4, -1e-4, 0.3, -0.3, 0.5, -0.5, 1, -1, -0.999999, -1.5,
                           2, -2, 3.7, 40, -40, 88, 100, -100, 700, 800, 1e30, .infinity, -.infinity, .nan]
    var out: [Double] = []
    for i in 0..<count {
        if i % 3 == 0 { out.append(fixed[(i / 3) % fixed.count]) }
        else { out.append((Double(rng.next() >> 11) / Double(1 << 53) - 0.5) * (i % 3 == 1 ? 4 : 60)) }
    }
    return out
}

/// Same bits (NaN payloads aside: any NaN matches any NaN).
func sameBits<T: KernelScalar>(_ a: T, _ b: T) -> Bool {
    (a.isNaN && b.isNaN) || Double(a).bitPattern == Double(b).bitPattern
}

@Suite struct ElementwiseOpsTests {
    static let newUnary: [UnaryOp] = [.rsqrt, .log1p, .expm1, .sign, .pow(2), .pow(1), .pow(0.5), .pow(3), .pow(-1), .pow(-0.5),
                                      .pow(0), .pow(2.5), .pow(-3)]

    @Test(arguments: newUnary, [1, 15, 16, 17, 257])
    func newUnaryOps(op: UnaryOp, n: Int) throws {
        try unary(Float.self, op, n)
        try unary(Double.self, op, n)
    }

    func unary<T: KernelScalar>(_: T.Type, _ op: UnaryOp, _ n: Int) throws {
        let inputs = newOpInputs(count: n, seed: UInt64(n))
        let x = MatrixView(TensorBuffer<T>(inputs.map { T($0) }), rows: 1, cols: n)
        let y = MatrixView(TensorBuffer<T>(count: n), rows: 1, cols: n)
        try Elementwise.unary(op, x, into: y)
        for i in 0..<n {
            let xi = x[0, i]
            if let want = exactUnaryTwin(op, xi) {
                #expect(sameBits(y[0, i], want), "\(T.self) \(op)(\(xi)) = \(y[0, i]), twin \(want)")
            } else {
                let e = ulpError(y[0, i], unaryReference(op, Double(xi)), T.self)
                #expect(e <= 4, "\(T.self) \(op)(\(xi)) = \(y[0, i]): \(e) ulp from libm \(unaryReference(op, Double(xi)))")
            }
        }
        // A strided column gives the same bits, and so does a fused program.
        let col = MatrixView(TensorBuffer<T>(count: 3 * n), offset: 1, rows: n, cols: 1, rowStride: 3, colStride: 1)
        try Elementwise.unary(op, MatrixView(x.buffer, rows: n, cols: 1, rowStride: 1), into: col)
        let fused = MatrixView(TensorBuffer<T>(count: n), rows: 1, cols: n)
        try Elementwise.run(ElementwiseProgram(inputCount: 1, instructions: [.input(0), .unary(op, 0)]), inputs: [x], into: fused)
        for i in 0..<n {
            #expect(sameBits(col[i, 0], y[0, i]) && sameBits(fused[0, i], y[0, i]), "\(T.self) \(op) layout dependence at \(i)")
        }
    }

    static let comparisons: [BinaryOp] = [.greater, .greaterEqual, .less, .lessEqual, .equal, .notEqual]

    func compare(_ op: BinaryOp, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .greater: return a > b ? 1 : 0
        case .greaterEqual: return a >= b ? 1 : 0
        case .less: return a < b ? 1 : 0
        case .lessEqual: return a <= b ? 1 : 0
        case .equal: return a == b ? 1 : 0
        case .notEqual: return a != b ? 1 : 0
        default: fatalError("not a comparison")
        }
    }

    @Test(arguments: comparisons, [1, 15, 16, 17, 257])
    func comparisonMasks(op: BinaryOp, n: Int) throws {
        try comparison(Float.self, op, n)
        try comparison(Double.self, op, n)
    }

    func comparison<T: KernelScalar>(_: T.Type, _ op: BinaryOp, _ n: Int) throws {
        // Small integers so that equal pairs are frequent; NaN and ±0 sprinkled in.
        var rng = SplitMix(seed: 7 &+ UInt64(n))
        func value(_ i: Int) -> T {
            switch i % 11 {
            case 3: return .nan
            case 5: return -0.0
            case 6: return 0
            default: return T(Int(rng.next() % 5) - 2)
            }
        }
        let a = MatrixView(TensorBuffer<T>((0..<n).map { value($0) }), rows: 1, cols: n)
        let b = MatrixView(TensorBuffer<T>((0..<n).map { value($0 + 2) }), rows: 1, cols: n)
        let c = MatrixView(TensorBuffer<T>(count: n), rows: 1, cols: n)
        try Elementwise.binary(op, a, b, into: c)
        for i in 0..<n {
            #expect(Double(c[0, i]) == compare(op, Double(a[0, i]), Double(b[0, i])),
                    "\(T.self) \(op)(\(a[0, i]), \(b[0, i])) = \(c[0, i])")
        }
        // Broadcast scalar b.
        let s = MatrixView(b.buffer, rows: 1, cols: n, rowStride: 0, colStride: 0)
        try Elementwise.binary(op, a, s, into: c)
        for i in 0..<n {
            #expect(Double(c[0, i]) == compare(op, Double(a[0, i]), Double(b[0, 0])), "\(T.self) \(op) scalar b at \(i)")
        }
    }

    func ternaryTwin<T: KernelScalar>(_ op: TernaryOp, _ a: T, _ b: T, _ c: T) -> T {
        switch op {
        case .select: return a != 0 ? b : c
        case .clamp:
            // NaN-propagating max then min, as documented.
            let m = (a.isNaN || b.isNaN) ? T.nan : (a < b ? b : a)
            return (m.isNaN || c.isNaN) ? T.nan : (c < m ? c : m)
        }
    }

    @Test(arguments: [TernaryOp.select, .clamp], [(1, 1), (3, 15), (2, 16), (5, 17), (1, 257)])
    func ternaryOps(op: TernaryOp, shape: (Int, Int)) throws {
        try ternary(Float.self, op, shape)
        try ternary(Double.self, op, shape)
    }

    func ternary<T: KernelScalar>(_: T.Type, _ op: TernaryOp, _ shape: (Int, Int)) throws {
        let (m, n) = shape
        let a = randomMatrix(T.self, rows: m, cols: n, ld: n + 1, seed: 11)
        let b = randomMatrix(T.self, rows: m, cols: n, seed: 12)
        let c = randomMatrix(T.self, rows: m, cols: n, seed: 13)
        // Masks with zeros, −0 and NaN; clamp bounds with lo > hi in places.
        for i in 0..<m { for j in 0..<n {
            if op == .select { a[i, j] = (i + j) % 3 == 0 ? 0 : (i + j) % 7 == 1 ? -0.0 : (i + j) % 5 == 2 ? .nan : a[i, j] }
            else if (i + j) % 9 == 4 { a[i, j] = .nan }
        }}
        let rowB = MatrixView(b.buffer, offset: b.offset, rows: m, cols: n, rowStride: 0, colStride: 1)
        let colC = MatrixView(c.buffer, offset: c.offset, rows: m, cols: n, rowStride: n, colStride: 0)
        for (bb, cc) in [(b, c), (rowB, c), (b, colC), (rowB, colC)] {
            let d = MatrixView(TensorBuffer<T>(count: m * n), rows: m, cols: n)
            try Elementwise.ternary(op, a, bb, cc, into: d)
            for i in 0..<m { for j in 0..<n {
                let want = ternaryTwin(op, a[i, j], bb[i, j], cc[i, j])
                #expect(sameBits(d[i, j], want), "\(T.self) \(op)(\(a[i, j]), \(bb[i, j]), \(cc[i, j])) = \(d[i, j]), want \(want)")
            }}
        }
    }

    @Test func ternaryShapeErrorNamesOperand() {
        let x = MatrixView(TensorBuffer<Float>(count: 6), rows: 2, cols: 3)
        let bad = MatrixView(TensorBuffer<Float>(count: 6), rows: 3, cols: 2)
        #expect { try Elementwise.ternary(.select, x, x, bad, into: x) } throws: { e in
            (e as? KernelError)?.message.contains("c is 3×2") == true
        }
    }
}
