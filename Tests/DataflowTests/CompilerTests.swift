import DataflowKernels
import Testing
@testable import Dataflow

@Suite("Compiler and runtime")
struct CompilerTests {
    @Test("seed-like MLP: compiled loss and gradients match the interpreter", arguments: [DType.float64, .float32])
    func mlpMatchesInterpreter(dtype: DType) throws {
        let net = try CompilerMLP(sizes: [37, 29, 17, 11, 5], dtype: dtype)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let outputs = [net.loss] + grads
        let f = try compile(inputs: [net.x, net.y], outputs: outputs, options: CompileOptions(workers: 2))
        let feeds = net.feeds(batch: 13)
        let compiled = try f(feeds)
        let reference = try evaluate(outputs, feeds: feeds)
        let (atol, rtol) = dtype == .float64 ? (1e-12, 1e-10) : (1e-5, 1e-3)
        for (k, (c, r)) in zip(compiled, reference).enumerated() {
            #expect(c.shape == r.shape)
            let (ratio, at) = toleranceRatio(c, r, atol: atol, rtol: rtol)
            #expect(ratio <= 1, "output \(k) (\(outputs[k].label)) differs at element \(at): ratio \(ratio)")
        }
    }

    @Test("outputs are bitwise identical for 1, 2, 4 and 8 workers and across tilings")
    func bitwiseAcrossWorkers() throws {
        let net = try CompilerMLP(sizes: [70, 130, 66, 9], dtype: .float32)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let feeds = net.feeds(batch: 50)
        var options = CompileOptions(workers: 1)
        options.minimumTileFlops = 1e3   // force tiling even at this small size
        let reference = try compile(inputs: [net.x, net.y], outputs: [net.loss] + grads, options: options)(feeds)
        for workers in [1, 2, 4, 8] {
            for tiles in [1, 3, 16] {
                var o = CompileOptions(workers: workers, tilesPerMatmul: tiles)
                o.minimumTileFlops = 1e3
                o.elementsPerTask = 64
                let f = try compile(inputs: [net.x, net.y], outputs: [net.loss] + grads, options: o)
                #expect(try f.program(for: feeds).taskCount > 0)
                for _ in 0..<3 {
                    let out = try f(feeds)
                    for (k, (a, b)) in zip(out, reference).enumerated() {
                        #expect(bitwiseEqual(a, b), "output \(k) differs with \(workers) workers, \(tiles) tiles")
                    }
                }
            }
        }
    }

    @Test("separate grad calls compile to exactly the joint program")
    func separateEqualsJoint() throws {
        let net = try CompilerMLP(sizes: [12, 10, 8, 4])
        let joint = try grad(of: net.loss, wrt: net.parameters)
        let separate = try net.parameters.map { try grad(of: net.loss, wrt: $0) }
        #expect(joint == separate)
        let feeds = net.feeds(batch: 6)
        let pj = try compile(inputs: [net.x, net.y], outputs: [net.loss] + joint).program(for: feeds)
        let ps = try compile(inputs: [net.x, net.y], outputs: [net.loss] + separate).program(for: feeds)
        #expect(pj.listing == ps.listing)
        #expect(pj.taskCount == ps.taskCount)
    }

    @Test("fusion: bias + sigmoid and sigmoid gradients live in matmul epilogues; no transposes; no gradient for x")
    func fusionAndPruning() throws {
        let net = try CompilerMLP(sizes: [16, 12, 10, 6])
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let p = try compile(inputs: [net.x, net.y], outputs: [net.loss] + grads).program(for: net.feeds(batch: 8))
        let text = p.listing.joined(separator: "\n")
        #expect(p.listing.filter { $0.contains("bias(DataflowKernels.Activation.sigmoid)") }.count == 2, "\(text)")
        #expect(p.listing.filter { $0.contains("activationGradient(DataflowKernels.Activation.sigmoid)") }.count == 2, "\(text)")
        #expect(!text.contains("transpose"), "\(text)")
        #expect(!text.contains("sigmoidGrad"), "\(text)")
        // Nothing of x's shape [8, 16] is computed: the gradient with respect to x is pruned.
        #expect(!p.listing.dropFirst().contains(where: { $0.contains("[8, 16] ←") }), "\(text)")
    }

    @Test("a new batch size compiles a new specialisation and just works")
    func newBatchSize() throws {
        let net = try CompilerMLP(sizes: [9, 7, 3])
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss, net.logits])
        for batch in [4, 1, 17, 4] {
            let feeds = net.feeds(batch: batch, seed: UInt64(batch))
            let out = try f(feeds)
            let ref = try evaluate([net.loss, net.logits], feeds: feeds)
            #expect(out[1].shape == [batch, 3])
            #expect(toleranceRatio(out[0], ref[0], atol: 1e-12, rtol: 1e-10).ratio <= 1)
            #expect(toleranceRatio(out[1], ref[1], atol: 1e-12, rtol: 1e-10).ratio <= 1)
        }
    }

    @Test("a kept result is never overwritten by the next call; a dropped one is reused")
    func outputBuffers() throws {
        let net = try CompilerMLP(sizes: [9, 7, 3])
        let f = try compile(inputs: [net.x, net.y], outputs: [net.logits])
        let first = try f(net.feeds(batch: 5, seed: 1))[0]
        let copy = first.asDoubles()
        _ = try f(net.feeds(batch: 5, seed: 2))
        #expect(first.asDoubles() == copy)
    }

    @Test("training with in-place updates: the loss falls, held values keep their numbers, buffers are reused")
    func trainingStep() throws {
        let net = try CompilerMLP(sizes: [10, 16, 3], dtype: .float32)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let lr = net.graph.scalar(0.5, .float32)
        let updates = try zip(net.parameters, grads).map { ParameterUpdate($0, try $0 - lr * $1) }
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss], updates: updates)
        let feeds = net.feeds(batch: 32)
        let before = try net.graph.value(of: net.weights[0])
        let initial = before.asDoubles()
        let firstLoss = try f(feeds)[0].asDoubles()[0]
        // After the first step nobody outside holds w1's buffer: later steps update it in place.
        guard case .parameter(let id) = net.weights[0].op else { Issue.record("w1 is not a parameter"); return }
        let buffer = ObjectIdentifier(net.graph.parameterForReading(id).storageObject)
        var loss = firstLoss
        for _ in 0..<60 { loss = try f(feeds)[0].asDoubles()[0] }
        #expect(loss < firstLoss * 0.7, "loss \(firstLoss) → \(loss)")
        #expect(ObjectIdentifier(net.graph.parameterForReading(id).storageObject) == buffer, "in place after the first step")
        let after = try net.graph.value(of: net.weights[0])
        #expect(before.asDoubles() == initial, "a value read before training keeps its numbers")
        #expect(after.asDoubles() != initial, "training changed w1")
    }

    @Test("in-place update equals the interpreter's w − lr·g")
    func updateMatchesReference() throws {
        let net = try CompilerMLP(sizes: [6, 5, 3])
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let feeds = net.feeds(batch: 4)
        let old = try net.parameters.map { try net.graph.value(of: $0).asDoubles() }
        let g = try evaluate(grads, feeds: feeds).map { $0.asDoubles() }
        let lr = net.graph.scalar(0.1, .float64)
        let updates = try zip(net.parameters, grads).map { ParameterUpdate($0, try $0 - lr * $1) }
        _ = try compile(inputs: [net.x, net.y], outputs: [net.loss], updates: updates)(feeds)
        for (k, p) in net.parameters.enumerated() {
            let new = try net.graph.value(of: p).asDoubles()
            for i in new.indices {
                #expect(abs(new[i] - (old[k][i] - 0.1 * g[k][i])) <= 1e-12)
            }
        }
    }

    @Test("bad feeds are refused with a message naming the tensor")
    func badFeeds() throws {
        let net = try CompilerMLP(sizes: [4, 3, 2])
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss])
        let good = net.feeds(batch: 3)
        func message(_ feeds: [String: TensorValue]) -> String {
            do { _ = try f(feeds); return "no error" } catch { return "\(error)" }
        }
        #expect(message(["x": good["x"]!]).contains("missing feed for placeholder 'y'"))
        var extra = good; extra["z"] = good["y"]!
        #expect(message(extra).contains("unknown feed 'z'"))
        var wrongType = good; wrongType["x"] = try .zeros([3, 4], .float32)
        #expect(message(wrongType).contains("feed 'x': expected element type"))
        var wrongRank = good; wrongRank["x"] = try .zeros([12], .float64)
        #expect(message(wrongRank).contains("feed 'x': expected rank 2"))
        var wrongShape = good; wrongShape["x"] = try .zeros([3, 5], .float64)
        #expect(message(wrongShape).contains("feed 'x': expected shape"))
        var badLabels = good; badLabels["y"] = try TensorValue(shape: [3], int32s: [0, 2, 1])
        #expect(message(badLabels).contains("'y'"), "\(message(badLabels))")
        var negative = good; negative["y"] = try TensorValue(shape: [3], int32s: [0, -1, 1])
        #expect(message(negative).contains("'y'"))
        // The function still works afterwards.
        #expect(try f(good)[0].shape == [])
    }

    @Test("guard mode names the first op that produced a NaN")
    func guardMode() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float64, [3])
        let y = try log(x) * 2.0
        let f = try compile(inputs: [x], outputs: [y], options: CompileOptions(checkNumerics: true))
        #expect(throws: RuntimeError.self) { _ = try f(["x": try TensorValue(shape: [3], doubles: [1, -1, 2])]) }
        do { _ = try f(["x": try TensorValue(shape: [3], doubles: [1, -1, 2])]) } catch {
            #expect("\(error)".contains("log"), "\(error)")
        }
        #expect(try f(["x": try TensorValue(shape: [3], doubles: [1, 3, 2])])[0].shape == [3])
    }

    @Test("the memory plan keeps activations and in-flight gradients, and reuses the rest")
    func memoryPlan() throws {
        let net = try CompilerMLP(sizes: [64, 48, 32, 16, 8], dtype: .float32)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let batch = 20
        let p = try compile(inputs: [net.x, net.y], outputs: [net.loss] + grads).program(for: net.feeds(batch: batch))
        // Activations kept for backward (batch × hidden, and logits) + the largest pair of
        // backward deltas alive at once, with 64-byte alignment slack per buffer.
        let activations = [48, 32, 16, 8].map { batch * $0 }.reduce(0, +)
        let deltas = [48, 32, 16, 8].map { batch * $0 }.reduce(0, +)
        let bound = (activations + deltas) * 4 + 16 * 4 * 16
        #expect(p.peakIntermediateBytes <= bound, "peak \(p.peakIntermediateBytes) > \(bound)")
        #expect(p.peakIntermediateBytes > 0)
    }

    @Test("the compiled seed network (7-5-4-3, Double) matches the hand-written backprop", arguments: [1, 2, 4])
    func seedNetworkAgainstHandWrittenBackprop(workers: Int) throws {
        let g = Graph()
        let net = try SeedNetwork(in: g, sizes: [7, 5, 4, 3], dtype: .float64, seed: 3)
        let feeds = ["x": randomValue([6, 7], seed: 11), "y": try TensorValue.labels(count: 6, classes: 3, seed: 12)]
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss, net.probabilities] + grads,
                            options: CompileOptions(workers: workers))
        let values = try f(feeds)
        try expectMatchesReferenceMLP(values, of: net, in: g, sizes: [7, 5, 4, 3], feeds: feeds)
    }

    @Test("compiled gradients against central finite differences of the compiled loss")
    func compiledGradientCheck() throws {
        let g = Graph()
        let net = try SeedNetwork(in: g, sizes: [6, 5, 3], dtype: .float64, seed: 5)
        let feeds = ["x": randomValue([4, 6], seed: 1), "y": try TensorValue.labels(count: 4, classes: 3, seed: 2)]
        let result = try gradientCheck(of: net.loss, wrt: net.parameters, feeds: feeds) { outputs, feeds in
            try compile(inputs: [net.x, net.y], outputs: outputs, options: CompileOptions(workers: 2))(feeds)
        }
        #expect(result.passed, "\(result)")
    }
}
