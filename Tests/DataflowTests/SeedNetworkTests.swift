import Testing
import Dataflow

/// The seed network at a small size against the hand-written backprop.
@Suite struct SeedNetworkTests {
    static let sizes = [7, 5, 4, 3]
    static let batch = 6

    func makeNetwork() throws -> (Graph, SeedNetwork, [String: TensorValue]) {
        let g = Graph()
        let net = try SeedNetwork(in: g, sizes: Self.sizes, dtype: .float64, seed: 3)
        let feeds = ["x": randomValue([Self.batch, Self.sizes[0]], seed: 11),
                     "y": try TensorValue.labels(count: Self.batch, classes: Self.sizes.last!, seed: 12)]
        return (g, net, feeds)
    }

    @Test func eightGradientsMatchHandWrittenBackprop() throws {
        let (g, net, feeds) = try makeNetwork()
        #expect(net.loss.op == .crossEntropy)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let values = try evaluate([net.loss, net.probabilities] + grads, feeds: feeds)
        try expectMatchesReferenceMLP(values, of: net, in: g, sizes: Self.sizes, feeds: feeds, checkShapes: true)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let (_, net, feeds) = try makeNetwork()
        let result = try gradientCheck(of: net.loss, wrt: net.parameters, feeds: feeds)
        #expect(result.passed, "\(result)")
    }

    @Test func predictionsAreTheArgmaxOfTheProbabilities() throws {
        let (_, net, feeds) = try makeNetwork()
        let values = try evaluate([net.probabilities, net.predictions], feeds: feeds)
        let p = values[0].asDoubles(), c = Self.sizes.last!
        let expected = (0..<Self.batch).map { i in Int32((0..<c).max { p[i * c + $0] < p[i * c + $1] }!) }
        #expect(values[1].int32s == expected)
        #expect(net.predictions.dtype == .int32)
    }

    @Test func jointAndSeparateGradientsAreTheSameNodes() throws {
        let stats = try GradientStats.measure { g in
            let net = try SeedNetwork(in: g, sizes: Self.sizes, dtype: .float64, seed: 3)
            return (net.loss, net.parameters)
        }
        #expect(stats.separateMerged == stats.joint)
        #expect(stats.separateEqualsJoint)
        #expect(stats.separateRaw > 2 * stats.joint, "\(stats)")
    }

    @Test func gradientNeverReachesTheInput() throws {
        let (g, net, _) = try makeNetwork()
        let before = g.nodeCount
        _ = try grad(of: net.loss, wrt: net.parameters)
        let added = g.nodes[before...]
        // No dX = dZ1 · W1ᵀ: the only matmuls with w1 as input are forward ones.
        let w1 = net.weights[0].id
        #expect(!added.contains { $0.op == .matmul(transposeA: false, transposeB: true) && $0.inputs.contains(w1) })
        #expect(added.allSatisfy { $0.isGradient })
    }

    @Test func float32NetworkEvaluates() throws {
        let g = Graph()
        let net = try SeedNetwork(in: g, sizes: Self.sizes, dtype: .float32, seed: 3)
        let feeds = ["x": randomValue([Self.batch, Self.sizes[0]], seed: 11, .float32),
                     "y": try TensorValue.labels(count: Self.batch, classes: 3, seed: 12)]
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let values = try evaluate([net.loss] + grads, feeds: feeds)
        #expect(values.allSatisfy { $0.dtype == .float32 })
        #expect(values[0].scalarValue!.isFinite)
    }
}
