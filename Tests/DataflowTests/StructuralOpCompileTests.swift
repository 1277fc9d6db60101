import Testing
@testable import Dataflow

/// The structural ops compiled (`Compiler/Lowering+StructuralOps.swift`): cast, concat,
/// slice and its adjoint, permute, oneHot, the embedding gather and scatter-add, the
/// dropout mask — against the interpreter (Float and Double, ranks 1–4, odd sizes),
/// bitwise equal for 1, 2, 4 and 8 workers, gradients against finite differences,
/// a small compiled training loop, and the run-time errors.
@Suite("Structural ops, compiled")
struct StructuralOpCompileTests {
    /// `checkCompiledAcrossWorkers` (CompilerTestSupport.swift).
    static func check(_ inputs: [Tensor], _ outputs: [Tensor], _ feeds: [String: TensorValue], dtype: DType,
                      _ label: String, bitwiseReference: Bool = false) throws {
        try checkCompiledAcrossWorkers(inputs, outputs, feeds, dtype: dtype, label, bitwiseReference: bitwiseReference)
    }

    static func placeholder(_ g: Graph, _ name: String, _ dtype: DType, _ shape: [Int]) throws -> Tensor {
        try g.placeholder(name, dtype, Shape(shape.map { Optional($0) }))
    }

    /// Int32 indices in 0..<bound with repeats.
    static func indices(_ shape: [Int], bound: Int, seed: Int = 3) throws -> TensorValue {
        let n = shape.reduce(1, *)
        return try TensorValue(shape: shape, int32s: (0..<n).map { Int32(($0 * 7 + seed) % bound) })
    }

    /// The forward value and, through a random projection, the gradient wrt `x`.
    static func withGradient(_ y: Tensor, _ x: Tensor, seed: UInt64) throws -> [Tensor] {
        let shape = y.shape.dims.map { $0! }
        let r = y.graph.constant(try .uniform(shape, y.dtype, in: -1...1, seed: seed), name: "R")
        return [y, try tanh(y) + 1.0, try grad(of: sum(y * r), wrt: x)]
    }

    // MARK: - Forward and backward vs the interpreter

    static let concats: [(shape: [Int], axis: Int)] = [([5], 0), ([3, 5], 0), ([3, 5], 1), ([2, 3, 5], 1), ([3, 1, 2, 5], 3),
                                                       ([2, 3, 3, 3], 0), ([1, 7], 0), ([2, 1, 3, 2, 3], 2)]

    @Test(arguments: 0..<8, [DType.float64, .float32])
    func concatMatchesInterpreter(caseIndex: Int, dtype: DType) throws {
        let (shape, axis) = Self.concats[caseIndex]
        let g = Graph()
        var shapes = [shape, shape, shape]
        shapes[1][axis] += 2
        shapes[2][axis] = 1
        let xs = try shapes.enumerated().map { k, s in try Self.placeholder(g, "x\(k)", dtype, s) }
        let feeds = try Dictionary(uniqueKeysWithValues: shapes.enumerated().map { k, s in
            ("x\(k)", try TensorValue.uniform(s, dtype, in: -2...2, seed: UInt64(k + 1)))
        })
        let y = try concat(xs, axis: axis)
        let r = g.constant(try .uniform(y.shape.dims.map { $0! }, dtype, in: -1...1, seed: 9), name: "R")
        let outputs = [y] + (try grad(of: sum(y * r), wrt: xs))
        try Self.check(xs, outputs, feeds, dtype: dtype, "concat \(shapes) axis \(axis)", bitwiseReference: dtype == .float64)
    }

    static let slices: [(shape: [Int], axis: Int, start: Int, count: Int)] = [
        ([7], 0, 2, 3), ([5, 7], 0, 1, 3), ([5, 7], 1, 2, 5), ([3, 5, 7], 1, 1, 3), ([3, 5, 7], 2, 0, 5),
        ([2, 3, 5, 7], 3, 3, 3), ([3, 2, 5, 3], 0, 1, 1), ([3, 2, 5, 3], 2, 4, 1),
    ]

    @Test(arguments: 0..<8, [DType.float64, .float32])
    func sliceMatchesInterpreter(caseIndex: Int, dtype: DType) throws {
        let c = Self.slices[caseIndex]
        let g = Graph()
        let x = try Self.placeholder(g, "x", dtype, c.shape)
        let y = try slice(x, axis: c.axis, start: c.start, count: c.count)
        let feeds: [String: TensorValue] = ["x": try .uniform(c.shape, dtype, in: -2...2, seed: 4)]
        try Self.check([x], try Self.withGradient(y, x, seed: 5), feeds, dtype: dtype, "slice \(c)")
    }

    static let permutations: [(shape: [Int], permutation: [Int])] = [
        ([3, 5, 7], [2, 0, 1]), ([3, 5, 7], [0, 2, 1]), ([2, 3, 5, 3], [3, 1, 0, 2]), ([2, 3, 5, 3], [0, 1, 3, 2]),
        ([1, 3, 1, 5], [2, 3, 0, 1]), ([3, 5], [1, 0]), ([2, 3, 1, 2, 3, 2], [5, 3, 1, 0, 2, 4]),
    ]

    @Test(arguments: 0..<7, [DType.float64, .float32])
    func permuteMatchesInterpreter(caseIndex: Int, dtype: DType) throws {
        let c = Self.permutations[caseIndex]
        let g = Graph()
        let x = try Self.placeholder(g, "x", dtype, c.shape)
        let y = try transpose(x, permutation: c.permutation)
        let feeds: [String: TensorValue] = ["x": try .uniform(c.shape, dtype, in: -2...2, seed: 6)]
        try Self.check([x], try Self.withGradient(y, x, seed: 7), feeds, dtype: dtype, "permute \(c)")
    }

    static let shapes: [[Int]] = [[7], [3, 5], [2, 3, 5], [2, 1, 3, 5]]

    @Test(arguments: 0..<4, [DType.float64, .float32])
    func castMatchesInterpreter(caseIndex: Int, dtype: DType) throws {
        let shape = Self.shapes[caseIndex]
        let other: DType = dtype == .float64 ? .float32 : .float64
        let g = Graph()
        let x = try Self.placeholder(g, "x", dtype, shape)
        let i = try Self.placeholder(g, "i", .int32, shape)
        let outputs = [try cast(x, to: other), try cast(x, to: .int32), try cast(i, to: dtype), try cast(i, to: other),
                       try cast(x, to: other) * 3.0,
                       // int32 structural ops: concat, slice and permute of int32 tensors.
                       try concat([cast(x, to: .int32), i], axis: shape.count - 1), try slice(i, axis: 0, start: 1, count: 1)]
            + (shape.count > 2 ? [try transpose(i, permutation: Array((0..<shape.count).reversed()))] : [])
        let feeds: [String: TensorValue] = ["x": try .uniform(shape, dtype, in: -9...9, seed: 8),
                                            "i": try Self.indices(shape, bound: 11)]
        try Self.check([x, i], outputs, feeds, dtype: dtype, "cast \(shape) \(dtype)", bitwiseReference: true)
    }

    @Test(arguments: 0..<4, [DType.float64, .float32])
    func oneHotMatchesInterpreter(caseIndex: Int, dtype: DType) throws {
        let shape = Self.shapes[caseIndex]
        let g = Graph()
        let i = try Self.placeholder(g, "i", .int32, shape)
        let y = try oneHot(i, classes: 5, dtype: dtype)
        try Self.check([i], [y, try y * 2.0], ["i": try Self.indices(shape, bound: 5)], dtype: dtype, "oneHot \(shape)",
                       bitwiseReference: true)
    }

    /// The embedding gather and, through its gradient, the scatter-add (fixed order).
    @Test(arguments: 0..<4, [DType.float64, .float32])
    func embeddingMatchesInterpreter(caseIndex: Int, dtype: DType) throws {
        let shape = Self.shapes[caseIndex]
        let g = Graph()
        let table = try Self.placeholder(g, "table", dtype, [6, 5])
        let i = try Self.placeholder(g, "i", .int32, shape)
        let y = try embedding(table, i)
        let feeds: [String: TensorValue] = ["table": try .uniform([6, 5], dtype, in: -2...2, seed: 10),
                                            "i": try Self.indices(shape, bound: 6)]
        try Self.check([table, i], try Self.withGradient(y, table, seed: 11), feeds, dtype: dtype, "embedding \(shape)")
    }

    // MARK: - Gradients vs finite differences (Double)

    @Test func gradientsMatchFiniteDifferences() throws {
        let g = Graph()
        let a = try Self.placeholder(g, "a", .float64, [2, 3, 5])
        let b = try Self.placeholder(g, "b", .float64, [2, 1, 5])
        let table = g.parameter("table", try .uniform([6, 3], .float64, in: -1...1, seed: 12))
        let i = try Self.placeholder(g, "i", .int32, [2, 5])
        let joined = try concat([a, b], axis: 1)                                   // [2, 4, 5]
        let cut = try slice(joined, axis: 2, start: 1, count: 3)                   // [2, 4, 3]
        let moved = try transpose(cut, permutation: [1, 2, 0])                      // [4, 3, 2]
        let looked = try transpose(embedding(table, i), permutation: [1, 2, 0])    // [5, 3, 2]
        let mixed = try concat([moved, looked], axis: 0)                            // [9, 3, 2]
        let loss = try sum(square(tanh(mixed)))
        let feeds: [String: TensorValue] = ["a": try .uniform([2, 3, 5], .float64, in: -1...1, seed: 13),
                                            "b": try .uniform([2, 1, 5], .float64, in: -1...1, seed: 14),
                                            "i": try Self.indices([2, 5], bound: 6)]
        let result = try gradientCheck(of: loss, wrt: [a, b, table], feeds: feeds) { outputs, feeds in
            try compile(inputs: [a, b, i], outputs: outputs, options: CompileOptions(workers: 4))(feeds)
        }
        #expect(result.passed, "\(result)")
    }

    /// The cast's gradient (the cotangent cast back) through float64 → float32 → float64,
    /// compiled, against central differences with a step large enough for float32's
    /// rounding (the loss is quadratic, so the differences have no truncation error).
    @Test func castGradientMatchesFiniteDifferences() throws {
        let g = Graph()
        let x = try Self.placeholder(g, "x", .float64, [3, 5])
        let w = g.constant(try .uniform([3, 5], .float64, in: -1...1, seed: 15), name: "w")
        let loss = try sum(square(cast(cast(x, to: .float32), to: .float64) * w))
        let feeds: [String: TensorValue] = ["x": try .uniform([3, 5], .float64, in: -1...1, seed: 16)]
        let result = try gradientCheck(of: loss, wrt: [x], feeds: feeds, eps: 1e-3, atol: 1e-4, rtol: 1e-3) { outputs, feeds in
            try compile(inputs: [x], outputs: outputs, options: CompileOptions(workers: 2))(feeds)
        }
        #expect(result.passed, "\(result)")
        // And a float32 cotangent from float64, compiled vs the interpreter.
        let y = try Self.placeholder(g, "y", .float32, [3, 5])
        let dy = try grad(of: sum(square(cast(y, to: .float64) * w)), wrt: y)
        try Self.check([y], [dy], ["y": try .uniform([3, 5], .float32, in: -1...1, seed: 17)], dtype: .float32, "cast gradient")
    }

    // MARK: - Dropout, training, errors

    /// The compiled mask is the interpreter's bit for bit, and the next call (counter
    /// updated by the program) draws another mask, again the interpreter's.
    @Test(arguments: [DType.float64, .float32])
    func dropoutMaskMatchesInterpreterAndAdvances(dtype: DType) throws {
        let g = Graph()
        let x = try Self.placeholder(g, "x", dtype, [3, 2, 7])
        let counter = g.randomCounter()
        let masked = try dropout(x, rate: 0.3, seed: 21, counter: counter.tensor)
        let feeds: [String: TensorValue] = ["x": try TensorValue(shape: [3, 2, 7], converting: [Double](repeating: 1, count: 42),
                                                                  to: dtype)]
        var options = CompileOptions(workers: 4)
        options.elementsPerTask = 8
        let step = try compile(inputs: [x], outputs: [masked], updates: [counter.update], options: options)
        let reference0 = try evaluate([masked], feeds: feeds)[0]
        let first = try step(feeds)[0]
        let reference1 = try evaluate([masked], feeds: feeds)[0]   // the counter is 1 now
        let second = try step(feeds)[0]
        #expect(bitwiseEqual(first, reference0), "call 0")
        #expect(bitwiseEqual(second, reference1), "call 1")
        #expect(!bitwiseEqual(first, second), "the mask of call 1 repeats call 0's")
        #expect(first.asDoubles().contains(0) && first.asDoubles().contains { $0 > 1 }, "\(first.asDoubles())")
        #expect(try g.value(of: counter.tensor).asDoubles() == [2])
        // Bitwise for any worker count.
        for workers in [1, 2, 8] {
            try g.setValue(TensorValue(scalar: 0, .float64), of: counter.tensor)
            let again = try compile(inputs: [x], outputs: [masked], updates: [counter.update], options: CompileOptions(workers: workers))
            #expect(bitwiseEqual(try again(feeds)[0], first), "\(workers) workers")
        }
    }

    /// Embedding → layerNorm → dropout → linear → cross-entropy, trained by SGD in the
    /// compiled program: the first loss is the interpreter's, and the loss decreases.
    @Test func embeddingDropoutLayerNormTrains() throws {
        let g = Graph()
        let (vocabulary, width, classes) = (11, 6, 3)
        let tokens = try g.placeholder("tokens", .int32, [nil])
        let labels = try g.placeholder("labels", .int32, [nil])
        let table = g.parameter("table", try .uniform([vocabulary, width], .float64, in: -1...1, seed: 30))
        let gain = g.parameter("gain", try TensorValue(shape: [width], doubles: [Double](repeating: 1, count: width)))
        let bias = g.parameter("bias", try .zeros([width], .float64))
        let w = g.parameter("w", try .uniform([width, classes], .float64, in: -0.5...0.5, seed: 31))
        let counter = g.randomCounter()
        let h = try dropout(layerNorm(embedding(table, tokens), gain: gain, bias: bias), rate: 0.2, seed: 5, counter: counter.tensor)
        let loss = try mean(crossEntropy(h • w, labels, axis: -1))
        let parameters = [table, gain, bias, w]
        let gradients = try grad(of: loss, wrt: parameters)
        let updates = try zip(parameters, gradients).map { p, dp in ParameterUpdate(p, try p - dp * 0.5) } + [counter.update]
        let n = 13
        let feeds: [String: TensorValue] = [
            "tokens": try TensorValue(shape: [n], int32s: (0..<n).map { Int32(($0 * 5 + 2) % vocabulary) }),
            "labels": try TensorValue(shape: [n], int32s: (0..<n).map { Int32(($0 * 5 + 2) % vocabulary % classes) }),
        ]
        let reference = try evaluate([loss], feeds: feeds)[0].asDoubles()[0]
        let step = try compile(inputs: [tokens, labels], outputs: [loss], updates: updates, options: CompileOptions(workers: 4))
        // The parameters after step 1 (through the compiled gradients, scatter-add included)
        // are the interpreter's too.
        let updated = try evaluate(updates.map(\.value), feeds: feeds)
        var losses = [try step(feeds)[0].asDoubles()[0]]
        for (u, expected) in zip(updates, updated) {
            let (ratio, at) = toleranceRatio(try g.value(of: u.parameter), expected, atol: 1e-12, rtol: 1e-12)
            #expect(ratio <= 1, "\(u.parameter.label) after step 1: element \(at) off by ratio \(ratio)")
        }
        for _ in 1..<40 { losses.append(try step(feeds)[0].asDoubles()[0]) }
        #expect(abs(losses[0] - reference) <= 1e-12 * max(1, abs(reference)), "step 1: \(losses[0]) vs \(reference)")
        #expect(losses.suffix(5).reduce(0, +) / 5 < 0.5 * losses[0], "\(losses)")
        #expect(try g.value(of: counter.tensor).asDoubles() == [40])
    }

    @Test func outOfRangeIndexThrowsTheInterpretersError() throws {
        let g = Graph()
        let table = try Self.placeholder(g, "table", .float32, [4, 3])
        let i = try g.placeholder("ids", .int32, [nil, 2])
        let bad: [String: TensorValue] = ["table": try .uniform([4, 3], .float32, seed: 1),
                                          "ids": try TensorValue(shape: [3, 2], int32s: [0, 1, 3, 4, 2, -1])]
        for output in [try embedding(table, i), try oneHot(i, classes: 4), try grad(of: sum(embedding(table, i)), wrt: table)] {
            var interpreted: RuntimeError.Kind?
            do { _ = try evaluate([output], feeds: bad) } catch let error as RuntimeError { interpreted = error.kind }
            for workers in [1, 4] {
                var options = CompileOptions(workers: workers)
                options.elementsPerTask = 1
                let f = try compile(inputs: [table, i], outputs: [output], options: options)
                do {
                    _ = try f(bad)
                    Issue.record("\(output.label): no error for index 4")
                } catch let error as RuntimeError {
                    #expect(error.kind == .labelOutOfRange(tensor: "ids", index: 3, label: 4, classes: 4), "\(error)")
                    #expect(error.kind == interpreted, "\(error) vs the interpreter's \(String(describing: interpreted))")
                }
            }
        }
    }

    @Test func runTimeShapeMismatchesThrow() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [nil, 3])
        let b = try g.placeholder("b", .float64, [nil, 2])
        let f = try compile(inputs: [a, b], outputs: [try concat([a, b], axis: 1)])
        #expect(try f(["a": .zeros([2, 3], .float64), "b": .zeros([2, 2], .float64)])[0].shape == [2, 5])
        #expect(throws: RuntimeError.self) { _ = try f(["a": .zeros([2, 3], .float64), "b": .zeros([3, 2], .float64)]) }
        let x = try g.placeholder("x", .float64, [nil])
        let s = try compile(inputs: [x], outputs: [try slice(x, axis: 0, start: 2, count: 3)])
        #expect(try s(["x": .zeros([5], .float64)])[0].shape == [3])
        do {
            _ = try s(["x": .zeros([4], .float64)])
            Issue.record("slice beyond the axis did not throw")
        } catch let error as RuntimeError {
            guard case .shapeMismatch = error.kind else { Issue.record("\(error.kind)"); return }
        }
    }
}
