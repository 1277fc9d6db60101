import Testing
@testable import Dataflow

/// Compiled programs above rank 2: element-wise ops with any numpy broadcast (up to
/// rank 6), reductions over any set of axes and their gradients, batched matmul —
/// against the interpreter (Float and Double), finite differences (Double), and
/// bitwise equal for 1, 2, 4 and 8 workers.
@Suite("Rank-N, compiled")
struct RankNCompileTests {
    /// `checkCompiledAcrossWorkers` (CompilerTestSupport.swift).
    static func check(_ inputs: [Tensor], _ outputs: [Tensor], _ feeds: [String: TensorValue], dtype: DType,
                      _ label: String) throws {
        try checkCompiledAcrossWorkers(inputs, outputs, feeds, dtype: dtype, label)
    }

    static let broadcasts: [([Int], [Int])] = [
        ([2, 3, 4], [3, 1]), ([2, 1, 4], [2, 3, 1]), ([4, 1, 2], [3, 4, 5, 2]), ([2, 3, 1, 5], [1, 3, 4, 1]),
        ([1, 2, 1, 3, 1, 2], [2, 2, 3, 3, 2, 2]), ([2, 2, 2, 2, 2, 3], [3]), ([5, 1, 1], [1, 1, 1]),
    ]

    @Test(arguments: 0..<7, [DType.float64, .float32])
    func elementwiseBroadcastMatchesInterpreter(caseIndex: Int, dtype: DType) throws {
        let (sa, sb) = RankNCompileTests.broadcasts[caseIndex]
        let g = Graph()
        let a = try g.placeholder("a", dtype, Shape(sa.map { Optional($0) }))
        let b = try g.placeholder("b", dtype, Shape(sb.map { Optional($0) }))
        let outputs = [try a + b, try maximum(a, b) * exp(b) - a, try `where`(greater(a, b), a, b * 2.0), try relu(a * b) + 1.0]
        let feeds: [String: TensorValue] = ["a": try .uniform(sa, dtype, in: -2...2, seed: 1), "b": try .uniform(sb, dtype, in: -2...2, seed: 2)]
        try RankNCompileTests.check([a, b], outputs, feeds, dtype: dtype, "\(sa) ⊕ \(sb)")
    }

    static let reductions: [([Int], [Int])] = [
        ([2, 3, 4], [0, 2]), ([2, 3, 4], [1]), ([3, 2, 2, 3], [1, 3]), ([2, 3, 2, 2, 3], [0, 2, 4]), ([2, 2, 3, 2, 2, 2], [2]),
    ]

    @Test(arguments: 0..<5, [DType.float64, .float32])
    func reductionsOverAnyAxesMatchInterpreter(caseIndex: Int, dtype: DType) throws {
        let (shape, axes) = RankNCompileTests.reductions[caseIndex]
        let g = Graph()
        let x = try g.placeholder("x", dtype, Shape(shape.map { Optional($0) }))
        let outputs = [try sum(x, axes: axes), try mean(x * x, axes: axes), try Dataflow.max(x, axes: axes)]
        let feeds: [String: TensorValue] = ["x": try .uniform(shape, dtype, in: -2...2, seed: 7)]
        try RankNCompileTests.check([x], outputs, feeds, dtype: dtype, "\(shape) over \(axes)")
    }

    /// Gradients through rank-N broadcasts and reductions, compiled, against central
    /// differences of the compiled loss (Double).
    @Test(arguments: 0..<5)
    func reductionGradientsMatchFiniteDifferences(caseIndex: Int) throws {
        let (shape, axes) = RankNCompileTests.reductions[caseIndex]
        let g = Graph()
        let x = try g.placeholder("x", .float64, Shape(shape.map { Optional($0) }))
        let reducedShape = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
        let w = try g.parameter("w", TensorValue.uniform(reducedShape, .float64, in: -1...1, seed: 3))
        // max's gradient is checked where the maxima are unique (random inputs).
        let loss = try sum(square(sum(x * w, axes: axes))) + sum(Dataflow.max(x * x, axes: axes) * 0.5) + mean(tanh(x + w))
        let feeds: [String: TensorValue] = ["x": try .uniform(shape, .float64, in: -1...1, seed: 8)]
        let result = try gradientCheck(of: loss, wrt: [x, w], feeds: feeds) { outputs, feeds in
            try compile(inputs: [x], outputs: outputs, options: CompileOptions(workers: 2))(feeds)
        }
        #expect(result.passed, "\(shape) over \(axes): \(result)")
    }

    static let products: [(a: [Int], b: [Int], ta: Bool, tb: Bool)] = [
        ([3, 4, 5], [5, 6], false, false),       // shared right operand: one 2-D product
        ([3, 4, 5], [3, 5, 6], false, false),    // one product per batch element
        ([2, 5, 4], [2, 6, 5], true, true),      // transposes
        ([2, 1, 4, 5], [3, 5, 6], false, false), // broadcast batch axes
        ([4, 5], [2, 3, 5, 6], false, false),    // batched right operand only
        ([3, 5, 4], [5, 6], true, false),        // transposed A with a shared B
    ]

    @Test(arguments: 0..<6, [DType.float64, .float32])
    func batchedMatmulMatchesInterpreter(caseIndex: Int, dtype: DType) throws {
        let c = RankNCompileTests.products[caseIndex]
        let g = Graph()
        let a = try g.placeholder("a", dtype, Shape(c.a.map { Optional($0) }))
        let b = try g.placeholder("b", dtype, Shape(c.b.map { Optional($0) }))
        let product = try matmul(a, b, transposeA: c.ta, transposeB: c.tb)
        let feeds: [String: TensorValue] = ["a": try .uniform(c.a, dtype, in: -1...1, seed: 4), "b": try .uniform(c.b, dtype, in: -1...1, seed: 5)]
        try RankNCompileTests.check([a, b], [product, try tanh(product) + 1.0], feeds, dtype: dtype, "\(c)")
    }

    @Test(arguments: 0..<6)
    func batchedMatmulGradientsMatchFiniteDifferences(caseIndex: Int) throws {
        let c = RankNCompileTests.products[caseIndex]
        let g = Graph()
        let a = try g.placeholder("a", .float64, Shape(c.a.map { Optional($0) }))
        let b = try g.parameter("b", TensorValue.uniform(c.b, .float64, in: -1...1, seed: 6))
        let loss = try sum(square(tanh(matmul(a, b, transposeA: c.ta, transposeB: c.tb))))
        let feeds: [String: TensorValue] = ["a": try .uniform(c.a, .float64, in: -1...1, seed: 9)]
        // Both the interpreter's and the compiled gradients.
        #expect(try gradientCheck(of: loss, wrt: [a, b], feeds: feeds).passed, "\(c) interpreted")
        let result = try gradientCheck(of: loss, wrt: [a, b], feeds: feeds) { outputs, feeds in
            try compile(inputs: [a], outputs: outputs, options: CompileOptions(workers: 4))(feeds)
        }
        #expect(result.passed, "\(c) compiled: \(result)")
    }

    /// softmax, log-softmax and cross-entropy default to the last axis at any rank.
    @Test func rowOpsDefaultToTheLastAxisAtAnyRank() throws {
        let g = Graph()
        let z = try g.placeholder("z", .float64, [2, 3, 5])
        let y = try g.placeholder("y", .int32, [2, 3])
        let w = try g.parameter("w", TensorValue.uniform([5], .float64, in: -1...1, seed: 3))
        let logits = try z * w
        let outputs = [try softmax(logits), try logSoftmax(logits), try crossEntropy(logits, y)]
        let feeds: [String: TensorValue] = ["z": try .uniform([2, 3, 5], .float64, in: -2...2, seed: 4),
                                            "y": try TensorValue(shape: [2, 3], int32s: [0, 4, 2, 1, 3, 0])]
        try RankNCompileTests.check([z, y], outputs, feeds, dtype: .float64, "row ops, rank 3")
        // The same values as the explicit last axis.
        let explicit = try evaluate([softmax(logits, axis: 2), crossEntropy(logits, y, axis: -1)], feeds: feeds)
        let plain = try evaluate([outputs[0], outputs[2]], feeds: feeds)
        for (a, b) in zip(plain, explicit) { #expect(bitwiseEqual(a, b)) }
        let result = try gradientCheck(of: outputs[2], wrt: [w], feeds: feeds) { outputs, feeds in
            try compile(inputs: [z, y], outputs: outputs, options: CompileOptions(workers: 2))(feeds)
        }
        #expect(result.passed, "\(result)")
    }

    @Test func batchedMatmulBadShapesThrow() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [2, 3, 4])
        #expect(throws: GraphError.self) { try matmul(a, try g.placeholder("b", .float32, [5, 6])) }
        #expect(throws: GraphError.self) { try matmul(a, try g.placeholder("c", .float32, [3, 4, 6])) }
        #expect(throws: GraphError.self) { try matmul(a, try g.placeholder("d", .float32, [4])) }
        // Batch axes that do not broadcast.
        #expect(throws: GraphError.self) { try matmul(a, try g.placeholder("e", .float32, [3, 4, 6])) }
        // Unknown batch axes that disagree at run time: a thrown RuntimeError, not a trap.
        let u = try g.placeholder("u", .float32, [nil, 3, 4])
        let v = try g.placeholder("v", .float32, [nil, 4, 2])
        let f = try compile(inputs: [u, v], outputs: [try matmul(u, v)])
        let error = #expect(throws: RuntimeError.self) {
            _ = try f(["u": try .zeros([2, 3, 4], .float32), "v": try .zeros([3, 4, 2], .float32)])
        }
        #expect(error?.message.contains("\"u\"") == true && error?.message.contains("[2, 3, 4]") == true
                && error?.message.contains("\"v\"") == true && error?.message.contains("[3, 4, 2]") == true,
                "\(String(describing: error))")
    }
}
