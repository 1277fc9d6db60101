import DataflowKernels
import Foundation
import Synchronization
import Testing
@testable import Dataflow

/// Issue 7: deep graphs, concurrency, faults, memory.
@Suite("Reliability")
struct ReliabilityTests {
    @Test("a 100 000-op chain builds, differentiates, compiles and runs without recursion")
    func deepChain() throws {
        let g = Graph()
        let chain = try DeepChain(in: g, depth: 100_000, width: 4)
        let dx = try grad(of: chain.loss, wrt: chain.x)
        let f = try compile(inputs: [chain.x], outputs: [chain.loss, dx], options: CompileOptions(workers: 2))
        let x = try TensorValue(shape: [4], doubles: [0.5, -0.25, 1.5, 0.01])
        let out = try f(["x": x])
        // Analytic: h_{k+1} = tanh(h_k); d sum(h_n)/dx = Π (1 − h_{k+1}²).
        for (i, x0) in x.asDoubles().enumerated() {
            var h = x0, d = 1.0
            for _ in 0..<100_000 { h = Foundation.tanh(h); d *= 1 - h * h }
            #expect(abs(out[1].asDoubles()[i] - d) <= 1e-12 + 1e-9 * abs(d))
        }
        #expect(try f.program(for: ["x": x]).taskCount > 100_000)
    }

    @Test("one Function called from several threads at once: serialised, never corrupted")
    func concurrentCalls() throws {
        let net = try CompilerMLP(sizes: [20, 16, 4], dtype: .float32)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss] + grads, options: CompileOptions(workers: 2))
        let feeds = (0..<4).map { net.feeds(batch: 8 + $0, seed: UInt64($0)) }
        let expected = try feeds.map { try f($0) }
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            for _ in 0..<10 {
                guard let out = try? f(feeds[i % 4]) else { failures.withLock { $0 += 1 }; continue }
                if !zip(out, expected[i % 4]).allSatisfy({ bitwiseEqual($0, $1) }) { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }

    @Test("a task that throws mid-run: the run throws it, the next run is correct")
    func faultMidRun() throws {
        let net = try CompilerMLP(sizes: [12, 10, 6], dtype: .float64)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss] + grads, options: CompileOptions(workers: 2))
        let good = net.feeds(batch: 9)
        let reference = try f(good)
        var bad = good
        bad["y"] = try TensorValue(shape: [9], int32s: [0, 1, 2, 3, 4, 5, 99, 1, 2])   // the loss task fails
        for _ in 0..<20 {
            #expect(throws: RuntimeError.self) { _ = try f(bad) }
            let again = try f(good)
            #expect(zip(again, reference).allSatisfy { bitwiseEqual($0, $1) })
        }
    }

    @Test("replacing a parameter's value is seen by the next call; a wrong shape is refused")
    func parameterReplacement() throws {
        let net = try CompilerMLP(sizes: [5, 4, 3])
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss])
        let feeds = net.feeds(batch: 4)
        _ = try f(feeds)
        try net.graph.setValue(.uniform([5, 4], .float64, in: -2...2, seed: 99), of: net.weights[0])
        let out = try f(feeds)[0]
        let ref = try evaluate([net.loss], feeds: feeds)[0]
        #expect(toleranceRatio(out, ref, atol: 1e-12, rtol: 1e-10).ratio <= 1)
        #expect(throws: (any Error).self) { try net.graph.setValue(.zeros([4, 5], .float64), of: net.weights[0]) }
    }

    @Test("empty batches and zero-sized dimensions are refused with a clear error")
    func emptyBatch() throws {
        let net = try CompilerMLP(sizes: [5, 4, 3])
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss])
        do {
            _ = try f(["x": .zeros([0, 5], .float64), "y": try TensorValue(shape: [0], int32s: [])])
            Issue.record("an empty batch was accepted")
        } catch {
            #expect("\(error)".contains("zero-sized"), "\(error)")
        }
        #expect(try f(net.feeds(batch: 2))[0].shape == [])
    }

    @Test("1 000 repeated steps reuse the same buffers: no allocation per step once warm")
    func buffersAreReused() throws {
        let net = try CompilerMLP(sizes: [32, 64, 10], dtype: .float32)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let lr = net.graph.scalar(0.01, .float32)
        let updates = try zip(net.parameters, grads).map { ParameterUpdate($0, try $0 - lr * $1) }
        let f = try compile(inputs: [net.x, net.y], outputs: [net.loss], updates: updates, options: CompileOptions(workers: 2))
        let feeds = net.feeds(batch: 64)
        for _ in 0..<10 { _ = try f(feeds) }
        let program = try f.program(for: feeds)
        let before = program.bindings.buffers.map { $0.map(ObjectIdentifier.init) }
        for _ in 0..<1000 { _ = try f(feeds) }
        let after = program.bindings.buffers.map { $0.map(ObjectIdentifier.init) }
        #expect(before == after)
        // Resident memory over 1 000 steps is measured by `dataflow-bench soak` (run by
        // scripts/reliability.sh): tests share this process and run in parallel, so its RSS
        // is not this test's alone.
    }
}
