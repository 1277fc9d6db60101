import Testing
import Dataflow
import DataflowScheduler

/// `IR.fuseProductSums`: a weight shared by several products (a recurrent layer over
/// time) gets its gradient as one accumulated GEMM. Compiled against the interpreter,
/// bitwise across 1, 2, 4 and 8 workers, and the fusion must actually happen.
@Suite struct ProductSumFusionTests {
    static func values(_ count: Int, seed: UInt64, dtype: DType, shape: [Int]) throws -> TensorValue {
        var rng = SeededGenerator(seed: seed)
        let xs = (0..<count).map { _ in Double.random(in: -1..<1, using: &rng) }
        return dtype == .float64 ? try TensorValue(shape: shape, doubles: xs) : try TensorValue(shape: shape, floats: xs.map(Float.init))
    }

    /// h_{t+1} = tanh(x_t·Wx + h_t·Wh): the gradients of Wx and Wh are sums over the
    /// steps (4 steps: one accumulated product each; 9 and 11: groups of 8 plus the rest,
    /// a group of one left a plain product).
    @Test(arguments: [(DType.float32, false, 4), (.float64, true, 4), (.float64, false, 9), (.float32, true, 11), (.float64, false, 11)])
    func recurrentWeightGradients(dtype: DType, transposedWeights: Bool, steps: Int) throws {
        let g = Graph()
        let (batch, features, hidden) = (5, 3, 7)
        let wx = g.parameter("Wx", try Self.values(features * hidden, seed: 1, dtype: dtype, shape: [features, hidden]))
        let wh = g.parameter("Wh", try Self.values(hidden * hidden, seed: 2, dtype: dtype, shape: [hidden, hidden]))
        let xs = try (0..<steps).map { try g.placeholder("x\($0)", dtype, [nil, features]) }
        var h = try tanh(xs[0] • wx)
        for t in 1..<steps {
            let recurrent = transposedWeights ? try matmul(h, wh, transposeB: true) : try h • wh
            h = try tanh(xs[t] • wx + recurrent)
        }
        let loss = try sum(h * h)
        let grads = try grad(of: loss, wrt: [wx, wh])
        var feeds: [String: TensorValue] = [:]
        for t in 0..<steps { feeds["x\(t)"] = try Self.values(batch * features, seed: 10 + UInt64(t), dtype: dtype, shape: [batch, features]) }
        try checkCompiledAcrossWorkers(xs, grads, feeds, dtype: dtype, "recurrent \(dtype) transposed \(transposedWeights), \(steps) steps")
        var verified = CompileOptions(workers: 2)
        verified.verifyPasses = true   // IR.verify after every pass, product-sum fusion included
        let program = try compile(inputs: xs, outputs: grads, options: verified).program(for: feeds)
        let names = (0..<program.taskCount).map { program.taskGraph.name(of: TaskID(index: $0)) }
        #expect(names.filter { $0.contains("sumOfProducts") }.count >= 2, "no fused product sum among \(Set(names))")
    }

    /// Products of different shapes, or a product that is also an output, are not fused.
    @Test func leavesMixedSumsAlone() throws {
        let g = Graph()
        let w = g.parameter("W", try Self.values(12, seed: 3, dtype: .float64, shape: [3, 4]))
        let a = try g.placeholder("a", .float64, [2, 3]), b = try g.placeholder("b", .float64, [2, 3])
        let p = try a • w, q = try b • w
        let s = try p + q
        let feeds = ["a": try Self.values(6, seed: 4, dtype: .float64, shape: [2, 3]),
                     "b": try Self.values(6, seed: 5, dtype: .float64, shape: [2, 3])]
        try checkCompiledAcrossWorkers([a, b], [s, p], feeds, dtype: .float64, "sum with an exposed term")
        let program = try compile(inputs: [a, b], outputs: [s, p]).program(for: feeds)
        let names = (0..<program.taskCount).map { program.taskGraph.name(of: TaskID(index: $0)) }
        #expect(!names.contains { $0.contains("sumOfProducts") })
    }
}
