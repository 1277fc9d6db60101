import Testing
import DataflowKernels

/// `Elementwise.run` (the block evaluator) against the same program evaluated one op at
/// a time with `unary`/`binary`/`ternary` into separate tensors: bitwise equal for
/// random programs over every op, random layouts (contiguous, padded rows, transposed,
/// row/column/scalar broadcasts), odd sizes that leave partial vectors and partial
/// blocks, an output aliasing an input, in Float and Double.
@Suite struct FusedProgramTests {
    static let unaries: [UnaryOp] = [.neg, .exp, .log, .sigmoid, .tanh, .relu, .square, .sqrt, .reciprocal, .abs, .rsqrt,
                                     .log1p, .expm1, .sign, .pow(3)]
    static let binaries: [BinaryOp] = [.add, .sub, .mul, .div, .maximum, .minimum, .sigmoidBackward, .tanhBackward,
                                       .reluBackward, .greater, .equal, .greaterEqual, .less, .lessEqual, .notEqual]

    /// An input view of shape rows×cols in one of five layouts.
    static func input<T: KernelScalar>(_: T.Type, rows: Int, cols: Int, layout: Int, seed: UInt64) -> MatrixView<T> {
        switch layout {
        case 0: return randomMatrix(T.self, rows: rows, cols: cols, seed: seed)
        case 1: return randomMatrix(T.self, rows: rows, cols: cols, ld: cols + 3, seed: seed)
        case 2:   // transposed storage: colStride = rows
            let t = randomMatrix(T.self, rows: cols, cols: rows, seed: seed)
            return MatrixView(t.buffer, offset: t.offset, rows: rows, cols: cols, rowStride: 1, colStride: rows)
        case 3:   // one row broadcast over the rows (a bias)
            let r = randomMatrix(T.self, rows: 1, cols: cols, seed: seed)
            return MatrixView(r.buffer, offset: r.offset, rows: rows, cols: cols, rowStride: 0, colStride: 1)
        case 4:   // one column broadcast over the columns
            let c = randomMatrix(T.self, rows: rows, cols: 1, seed: seed)
            return MatrixView(c.buffer, offset: c.offset, rows: rows, cols: cols, rowStride: 1, colStride: 0)
        default:  // one scalar
            let s = randomMatrix(T.self, rows: 1, cols: 1, seed: seed)
            return MatrixView(s.buffer, offset: s.offset, rows: rows, cols: cols, rowStride: 0, colStride: 0)
        }
    }

    static func check<T: KernelScalar>(_: T.Type, rows: Int, cols: Int, seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        func draw(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let inputCount = 1 + draw(4)
        let inputs = (0..<inputCount).map { k in
            input(T.self, rows: rows, cols: cols, layout: draw(6), seed: seed &* 31 &+ UInt64(k))
        }
        var code: [ElementwiseProgram.Instruction] = (0..<inputCount).map { .input($0) }
        for _ in 0..<(2 + draw(12)) {
            let n = code.count
            switch draw(8) {
            case 0: code.append(.constant([0.5, -2, 3][draw(3)]))
            case 1, 2, 3: code.append(.unary(unaries[draw(unaries.count)], draw(n)))
            case 4, 5, 6: code.append(.binary(binaries[draw(binaries.count)], draw(n), draw(n)))
            default: code.append(.ternary(draw(2) == 0 ? .select : .clamp, draw(n), draw(n), draw(n)))
            }
        }
        let program = ElementwiseProgram(inputCount: inputCount, instructions: code)
        // One op at a time, every value its own contiguous tensor.
        var values: [MatrixView<T>] = []
        for instruction in code {
            let v = MatrixView(TensorBuffer<T>(count: rows * cols), rows: rows, cols: cols)
            switch instruction {
            case .input(let k): try Elementwise.copy(inputs[k], into: v)
            case .constant(let c): try Elementwise.fill(T(c), into: v)
            case .unary(let op, let x): try Elementwise.unary(op, values[x], into: v)
            case .binary(let op, let a, let b): try Elementwise.binary(op, values[a], values[b], into: v)
            case .ternary(let op, let a, let b, let c): try Elementwise.ternary(op, values[a], values[b], values[c], into: v)
            }
            values.append(v)
        }
        let want = values.last!.elements
        let y = MatrixView(TensorBuffer<T>(count: rows * cols), rows: rows, cols: cols)
        try Elementwise.run(program, inputs: inputs, into: y)
        let layouts = inputs.map { ($0.rowStride, $0.colStride) }
        if let i = Self.firstDifference(y.elements, want) {
            Issue.record("program \(code) on \(rows)×\(cols), layouts \(layouts): element \(i) is \(y.elements[i]), op by op \(want[i])")
        }
        // The output may alias an input exactly.
        if let k = inputs.firstIndex(where: { $0.colStride == 1 && $0.rowStride == cols }) {
            let copy = MatrixView(TensorBuffer<T>(count: rows * cols), rows: rows, cols: cols)
            try Elementwise.copy(inputs[k], into: copy)
            var aliased = inputs
            aliased[k] = copy
            try Elementwise.run(program, inputs: aliased, into: copy)
            if let i = Self.firstDifference(copy.elements, want) {
                Issue.record("aliased input \(k), program \(code): element \(i) is \(copy.elements[i]), op by op \(want[i])")
            }
        }
    }

    /// The first index whose bits differ (NaNs compared by bits too).
    static func firstDifference<T: KernelScalar>(_ a: [T], _ b: [T]) -> Int? {
        a.indices.first { Double(a[$0]).bitPattern != Double(b[$0]).bitPattern }
    }

    @Test(arguments: [(1, 1), (1, 15), (3, 17), (2, 16), (5, 33), (7, 300), (2, 1100), (40, 64), (1, 4099), (37, 32), (6, 48)])
    func blockEvaluatorMatchesOpByOp(rows: Int, cols: Int) throws {
        for seed in 0..<UInt64(12) {
            try Self.check(Float.self, rows: rows, cols: cols, seed: seed &+ UInt64(rows * 10_000 + cols))
            try Self.check(Double.self, rows: rows, cols: cols, seed: seed &+ UInt64(rows * 10_000 + cols) &+ 7)
        }
    }
}
