import Foundation
import Testing
import Dataflow

// Each optimizer compiled into the training program of the tiny network, against a
// hand-written reference loop (interpreter gradients, torch.optim formulas in plain
// Swift doubles); bitwise equality across worker counts; the state parameters;
// Float; a training run; bad arguments. The PyTorch comparison is
// OptimizerPeerCheckTests.swift with Benchmarks/peers/optim_check.py.

@Suite("Optimizer")
struct OptimizerTests {
    @Test("compiled optimizer steps match the reference loop within 1e-12", arguments: OptimizerCase.all)
    func matchesReference(_ c: OptimizerCase) throws {
        var trainer = try c.trainer()
        let reference = try referenceTrajectory(c)
        for k in 0..<OptimizerCase.steps {
            _ = try trainer.run(k)
            let got = try trainer.net.parameters.map { try trainer.net.graph.value(of: $0).asDoubles() }
            let difference = maxRelativeDifference(got, reference[k])
            #expect(difference <= 1e-12, "\(c.name) step \(k + 1): relative difference \(difference)")
            // The step moved the parameters (a no-op optimizer would fail the check above only after step 1).
            #expect(got != (k == 0 ? TinyNet.parameterSpecs.map { TinyNet.values($0.shape, salt: $0.salt) } : reference[k - 1]))
        }
    }

    @Test("parameters and state are bitwise equal with 1 and 4 workers", arguments: OptimizerCase.all)
    func bitwiseAcrossWorkers(_ c: OptimizerCase) throws {
        var one = try c.trainer(workers: 1)
        var four = try c.trainer(workers: 4)
        for k in 0..<OptimizerCase.steps {
            let (a, b) = (try one.run(k), try four.run(k))
            #expect(a.bitPattern == b.bitPattern, "\(c.name) loss at step \(k + 1)")
        }
        let all = { (t: OptimizerCase.Trainer) in t.net.parameters + t.step.state }
        #expect(all(one).count == all(four).count)
        for (p, q) in zip(all(one), all(four)) {
            let (a, b) = (try one.net.graph.value(of: p), try four.net.graph.value(of: q))
            #expect(a.asDoubles().map(\.bitPattern) == b.asDoubles().map(\.bitPattern), "\(c.name): \(p.label)")
        }
    }

    @Test("Adam's state parameters: named after the parameters, t and β^t after five steps")
    func adamState() throws {
        let c = OptimizerCase.all.first { $0.name == "adam" }!
        var trainer = try c.trainer()
        let names = try trainer.step.state.map { try #require($0.name) }
        #expect(names == ["adam.t", "adam.beta1Power", "adam.beta2Power",
                          "adam.m.w1", "adam.v.w1", "adam.m.b1", "adam.v.b1",
                          "adam.m.w2", "adam.v.w2", "adam.m.b2", "adam.v.b2"])
        #expect(trainer.step.updates.count == 4 + names.count)
        #expect(Set(trainer.net.graph.parameters).isSuperset(of: trainer.step.state))
        for k in 0..<OptimizerCase.steps { _ = try trainer.run(k) }
        let values = try trainer.net.graph.parameterValuesByName()   // what a checkpoint saves
        #expect(values["adam.t"]?.scalarValue == 5)
        #expect(Swift.abs(values["adam.beta1Power"]!.scalarValue! - Foundation.pow(0.9, 5)) < 1e-15)
        #expect(Swift.abs(values["adam.beta2Power"]!.scalarValue! - Foundation.pow(0.999, 5)) < 1e-15)
        #expect(values["adam.m.w1"]?.shape == [3, 4])
        #expect(values["adam.v.b2"]?.shape == [2])
        #expect(values["adam.v.w2"]!.asDoubles().allSatisfy { $0 > 0 })
    }

    @Test("a checkpoint of parameters and optimizer state resumes training bitwise", arguments: ["adam", "rmsprop_centered_momentum",
                                                                                                 "sgd_momentum_scheduled"])
    func checkpointResumes(_ name: String) throws {
        let c = OptimizerCase.all.first { $0.name == name }!
        var straight = try c.trainer()
        for k in 0..<OptimizerCase.steps { _ = try straight.run(k) }
        var first = try c.trainer()
        for k in 0..<2 { _ = try first.run(k) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("optimizer-\(name)-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.net.graph.saveParameters(to: url)
        var resumed = try c.trainer()   // a fresh graph: parameters and state at their initial values
        try resumed.net.graph.loadParameters(from: url)   // strict: every state parameter is in the file
        for k in 2..<OptimizerCase.steps { _ = try resumed.run(k) }
        let want = try straight.net.graph.parameterValuesByName(), got = try resumed.net.graph.parameterValuesByName()
        #expect(Set(want.keys) == Set(got.keys))
        for (key, value) in want {
            #expect(value.asDoubles().map(\.bitPattern) == got[key]?.asDoubles().map(\.bitPattern), "\(name): \(key)")
        }
    }

    @Test("state of SGD with momentum, RMSProp and AdamW; plain SGD has none")
    func otherState() throws {
        func stateNames(_ name: String) throws -> [String] {
            try OptimizerCase.all.first { $0.name == name }!.trainer().step.state.map { $0.name ?? "?" }
        }
        #expect(try stateNames("sgd").isEmpty)
        #expect(try stateNames("clip_sgd_momentum") == ["sgd.momentum.w1", "sgd.momentum.b1", "sgd.momentum.w2", "sgd.momentum.b2"])
        #expect(try stateNames("rmsprop") == ["rmsprop.squareAverage.w1", "rmsprop.squareAverage.b1",
                                             "rmsprop.squareAverage.w2", "rmsprop.squareAverage.b2"])
        #expect(try stateNames("rmsprop_centered_momentum").prefix(3) == ["rmsprop.squareAverage.w1",
                                                                       "rmsprop.gradientAverage.w1", "rmsprop.momentum.w1"])
        #expect(try stateNames("adamw").prefix(4) == ["adamw.t", "adamw.beta1Power", "adamw.beta2Power", "adamw.m.w1"])
    }

    @Test("the parameters' own updates of SGD, momentum, Adam and RMSProp have the in-place form p − s·d, s rank 0")
    func inPlaceForm() throws {
        for name in ["sgd", "sgd_weight_decay", "sgd_momentum", "adam", "rmsprop_centered_momentum", "adam_scheduled"] {
            let trainer = try OptimizerCase.all.first { $0.name == name }!.trainer()
            let g = trainer.net.graph
            for (update, p) in zip(trainer.step.updates, trainer.net.parameters) {
                #expect(update.parameter == p)
                let value = update.value.node
                #expect(value.op == .sub && value.inputs.first == p.id, "\(name): \(p.label) ← \(value.op.name)")
                guard value.op == .sub, value.inputs.count == 2 else { continue }
                let product = try g.node(value.inputs[1])
                // Either factor may be the rank-0 one (the compiler's axpy takes both orders).
                let ranks = try product.inputs.map { try g.node($0).shape.rank }
                #expect(product.op == .mul && ranks.contains(0), "\(name): \(p.label)")
            }
        }
    }

    @Test("a training loop of the tiny network with Adam reduces the loss", arguments: [DType.float64, .float32])
    func adamTrains(_ dtype: DType) throws {
        let net = try TinyNet.build(dtype)
        let step = try Adam(learningRate: 0.05).minimize(net.loss, parameters: net.parameters)
        let train = try compile(inputs: [net.x, net.y], outputs: [net.loss], updates: step.updates)
        let feeds = try TinyNet.feeds(dtype)
        let first = try train(feeds)[0].scalarValue!
        var last = first
        for _ in 0..<200 { last = try train(feeds)[0].scalarValue! }
        #expect(last < 0.1 * first, "loss \(first) → \(last)")
    }

    @Test("Float optimizers follow the Double ones within 1e-5", arguments: OptimizerCase.all)
    func floatFollowsDouble(_ c: OptimizerCase) throws {
        var single = try c.trainer(.float32)
        var double = try c.trainer(.float64)
        for k in 0..<OptimizerCase.steps { _ = (try single.run(k), try double.run(k)) }
        let a = try single.net.parameters.map { try single.net.graph.value(of: $0).asDoubles() }
        let b = try double.net.parameters.map { try double.net.graph.value(of: $0).asDoubles() }
        #expect(single.net.graph.parameters.allSatisfy { $0.dtype == .float32 })
        #expect(maxRelativeDifference(a, b) < 1e-5, "\(c.name)")
    }

    @Test("clipping: a large maxNorm leaves the gradients alone; the scale is min(1, maxNorm/(‖g‖ + 1e-6))")
    func clipping() throws {
        let g = Graph()
        let a = g.constant(try TensorValue(shape: [2], doubles: [3, 0]))
        let b = g.constant(try TensorValue(shape: [1], doubles: [4]))
        let norm = try #require(try ClipGradientNorm.globalNorm([a, b]))
        let clipped = try ClipGradientNorm(maxNorm: 1).transform(gradients: [a, b], parameters: []).gradients
        let kept = try ClipGradientNorm(maxNorm: 10).transform(gradients: [a, b], parameters: []).gradients
        let values = try evaluate([norm] + clipped + kept).map { $0.asDoubles() }
        #expect(values[0] == [5])
        #expect(values[1] == [3 / (5 + 1e-6), 0] && values[2] == [4 / (5 + 1e-6)])
        #expect(values[3] == [3, 0] && values[4] == [4])
        #expect(try ClipGradientNorm.globalNorm([]) == nil)
    }

    @Test("bad arguments throw GraphError with a kind")
    func badArguments() throws {
        let net = try TinyNet.build()
        let grads = try grad(of: net.loss, wrt: net.parameters)
        func kind(_ body: () throws -> Void) -> GraphError.Kind? {
            do { try body(); return nil } catch let error as GraphError { return error.kind } catch { return .other }
        }
        let p = net.parameters
        #expect(kind { _ = try SGD(learningRate: 0.1).updates(for: p, gradients: Array(grads.dropLast())) } == .wrongInputCount)
        #expect(kind { _ = try SGD(learningRate: -1).updates(for: p, gradients: grads) } == .invalidArgument)
        #expect(kind { _ = try SGD(learningRate: Double.nan).updates(for: p, gradients: grads) } == .invalidArgument)
        #expect(kind { _ = try SGD(learningRate: 0.1, nesterov: true).updates(for: p, gradients: grads) } == .invalidArgument)
        #expect(kind { _ = try Adam(beta1: 1).updates(for: p, gradients: grads) } == .invalidArgument)
        #expect(kind { _ = try AdamW(weightDecay: -0.1).updates(for: p, gradients: grads) } == .invalidArgument)
        #expect(kind { _ = try RMSProp(alpha: 1.5).updates(for: p, gradients: grads) } == .invalidArgument)
        #expect(kind { _ = try Adam().clippingGradientNorm(to: 0).updates(for: p, gradients: grads) } == .invalidArgument)
        #expect(kind { _ = try Adam().updates(for: [net.x], gradients: [grads[0]]) } == .notAParameter)
        #expect(kind { _ = try Adam().updates(for: [p[0]], gradients: [grads[1]]) } == .shapeMismatch)
        #expect(kind { _ = try Adam().updates(for: [p[0], p[0]], gradients: [grads[0], grads[0]]) } == .invalidArgument)
        let rank1 = try net.graph.placeholder("lr1", .float64, [1])
        let single = try net.graph.placeholder("lr32", .float32, [])
        #expect(kind { _ = try Adam(learningRate: rank1).updates(for: p, gradients: grads) } == .invalidArgument)
        #expect(kind { _ = try Adam(learningRate: single).updates(for: p, gradients: grads) } == .dtypeMismatch)
        #expect(kind { _ = try Adam(learningRate: Graph().scalar(0.1, .float64)).updates(for: p, gradients: grads) } == .foreignTensor)
        let other = try TinyNet.build(.float32, in: Graph())
        let float32 = other.graph.parameter("w32", try .zeros([3, 4], .float32))
        #expect(kind { _ = try SGD(learningRate: 0.1).updates(for: [float32], gradients: [grads[0]]) } == .foreignTensor)
        #expect(try SGD(learningRate: 0.1).updates(for: [], gradients: []).updates.isEmpty)
    }
}
