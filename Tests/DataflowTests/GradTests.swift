import Foundation
import Testing
import Dataflow

/// The reverse sweep: options, errors, depth and second order.
@Suite struct GradTests {
    @Test func deepChainOfOneHundredThousandNodes() throws {
        let g = Graph()
        let depth = 100_000
        let chain = try DeepChain(in: g, depth: depth, width: 2)
        let gx = try grad(of: chain.loss, wrt: chain.x)
        #expect(g.nodeCount > 2 * depth)
        let x0 = [0.3, -0.7]
        let value = try evaluate([gx], feeds: ["x": TensorValue(shape: [2], doubles: x0)])[0].asDoubles()
        for (k, start) in x0.enumerated() {
            var h = start, d = 1.0
            for _ in 0..<depth {
                h = Foundation.tanh(h)
                d *= 1 - h * h
            }
            #expect(abs(value[k] - d) <= 1e-12 * Swift.max(1, abs(d)), "element \(k): \(value[k]) vs \(d)")
        }
    }

    @Test func disconnectedInputThrowsNamingIt() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [3])
        let unused = g.parameter("unused", try .zeros([2], .float64))
        let loss = try sum(exp(a))
        let error = #expect(throws: GraphError.self) { try grad(of: loss, wrt: [a, unused]) }
        #expect(error?.message.contains("unused [2]") == true)
        let zeros = try grad(of: loss, wrt: [a, unused], options: .init(disconnected: .zeros))
        #expect(zeros[1].op == .zerosLike)
        let values = try evaluate(zeros, feeds: ["a": randomValue([3], seed: 1)])
        #expect(values[1].asDoubles() == [0, 0])
    }

    @Test func nonScalarLossNeedsAnOutputGradient() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [3])
        let out = try exp(a)
        let error = #expect(throws: GraphError.self) { try grad(of: out, wrt: a) }
        #expect(error?.message.contains("exp#1 [3] is not a scalar") == true)
        let v = try g.placeholder("v", .float64, [3])
        let vjp = try grad(of: out, wrt: a, options: .init(outputGradient: v))
        let feeds = ["a": randomValue([3], seed: 1), "v": randomValue([3], seed: 2)]
        let got = try evaluate([vjp], feeds: feeds)[0].asDoubles()
        let want = zip(feeds["a"]!.asDoubles(), feeds["v"]!.asDoubles()).map { Foundation.exp($0) * $1 }
        #expect(maxAbsDifference(got, want) < 1e-14)
    }

    @Test func considerConstantAndStopGradientBlockTheGradient() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [3])
        let e = try exp(a)
        let loss = try sum(e * a)
        let feeds = ["a": randomValue([3], seed: 1)]
        let av = feeds["a"]!.asDoubles()
        let viaOption = try grad(of: loss, wrt: a, options: .init(considerConstant: [e]))
        let viaOp = try grad(of: try sum(stopGradient(e) * a), wrt: a)
        let full = try grad(of: loss, wrt: a)
        let values = try evaluate([viaOption, viaOp, full], feeds: feeds)
        #expect(maxAbsDifference(values[0].asDoubles(), av.map { Foundation.exp($0) }) < 1e-14)
        #expect(values[1].asDoubles() == values[0].asDoubles())
        #expect(maxAbsDifference(values[2].asDoubles(), av.map { Foundation.exp($0) * (1 + $0) }) < 1e-13)
    }

    @Test func fanOutSumsAdjoints() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [2])
        let loss = try sum(a * a + sigmoid(a) * a)
        let result = try gradientCheck(of: loss, wrt: [a], feeds: ["a": randomValue([2], seed: 3)])
        #expect(result.passed, "\(result)")
    }

    @Test func gradientNodesAreMarked() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [2])
        let loss = try sum(tanh(a))
        let n = g.nodeCount
        let ga = try grad(of: loss, wrt: a)
        #expect(ga.node.isGradient)
        #expect(g.nodes[n...].allSatisfy { $0.isGradient })
        #expect(!loss.node.isGradient)
    }

    @Test func integerAndForeignTensorsAreRefused() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [2])
        let y = try g.placeholder("y", .int32, [2])
        let loss = try sum(a)
        let e1 = #expect(throws: GraphError.self) { try grad(of: loss, wrt: y) }
        #expect(e1?.message.contains("y [2]") == true)
        let other = try Graph().placeholder("b", .float64, [2])
        let e2 = #expect(throws: GraphError.self) { try grad(of: loss, wrt: other) }
        #expect(e2?.message.contains("another graph") == true)
    }

    /// Hessian-vector product of an MLP loss: grad(⟨∇f, v⟩) against finite
    /// differences of the gradient, (∇f(w + εv) − ∇f(w − εv)) / 2ε.
    @Test func hessianVectorProductMatchesFiniteDifferences() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float64, [nil, 4])
        let y = try g.placeholder("y", .int32, [nil])
        let w1 = try g.placeholder("w1", .float64, [4, 5])
        let w2 = try g.placeholder("w2", .float64, [5, 3])
        let b = try g.placeholder("b", .float64, [3])
        let h = try tanh(x • w1)
        let z = try sigmoid(h) • w2 + b
        let loss = try -mean(log(softmax(z)).gather(y)) + sum(max(h, axes: [1])) * 0.1 + mean(relu(h) * h) * 0.3
        let wrt = [w1, w2, b]
        let grads = try grad(of: loss, wrt: wrt)
        let vs = [try g.placeholder("v1", .float64, [4, 5]), try g.placeholder("v2", .float64, [5, 3]), try g.placeholder("v3", .float64,
                                                                                                                          [3])]
        var dotGV = try sum(grads[0] * vs[0])
        for k in 1..<3 { dotGV = try dotGV + sum(grads[k] * vs[k]) }
        let hv = try grad(of: dotGV, wrt: wrt)

        let feeds: [String: TensorValue] = [
            "x": randomValue([6, 4], seed: 1), "y": try .labels(count: 6, classes: 3, seed: 2),
            "w1": randomValue([4, 5], seed: 3), "w2": randomValue([5, 3], seed: 4), "b": randomValue([3], seed: 5),
            "v1": randomValue([4, 5], seed: 6), "v2": randomValue([5, 3], seed: 7), "v3": randomValue([3], seed: 8),
        ]
        let analytic = try evaluate(hv, feeds: feeds).map { $0.asDoubles() }
        let eps = 1e-5
        func gradients(shift: Double) throws -> [[Double]] {
            var f = feeds
            for (k, name) in ["w1", "w2", "b"].enumerated() {
                let w = feeds[name]!, v = feeds["v\(k + 1)"]!.asDoubles()
                f[name] = try TensorValue(shape: w.shape, doubles: zip(w.asDoubles(), v).map { $0 + shift * $1 })
            }
            return try evaluate(grads, feeds: f).map { $0.asDoubles() }
        }
        let plus = try gradients(shift: eps), minus = try gradients(shift: -eps)
        for k in 0..<3 {
            let numeric = zip(plus[k], minus[k]).map { ($0 - $1) / (2 * eps) }
            #expect(maxAbsDifference(analytic[k], numeric) < 1e-7, "H·v for \(wrt[k].label)")
        }
    }
}
