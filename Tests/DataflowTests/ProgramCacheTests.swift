import Foundation
import Testing
import Dataflow

// A function called with many batch sizes keeps a bounded number of programs and
// bytes; a program evicted and compiled again computes the same bits.

@Suite("Program cache bounds")
struct ProgramCacheTests {
    /// An MLP 16-32-4 (float32): outputs loss, logits and the gradients, no updates, so
    /// a batch's results depend on the feeds only.
    private struct Net {
        let net: CompilerMLP
        let outputs: [Tensor]

        init() throws {
            net = try CompilerMLP(sizes: [16, 32, 4], dtype: .float32)
            outputs = [net.loss, net.logits] + (try grad(of: net.loss, wrt: net.parameters))
        }

        func function(_ options: CompileOptions) throws -> Function {
            try compile(inputs: [net.x, net.y], outputs: outputs, options: options)
        }
    }

    private static func options(limit: Int = 16, bytes: Int? = nil) -> CompileOptions {
        var o = CompileOptions(workers: 2)
        o.programCacheLimit = limit
        if let bytes { o.programCacheBytes = bytes }
        return o
    }

    @Test("300 batch sizes: at most programCacheLimit programs, bytes bounded, evicted programs recompute the same bits")
    func manyBatchSizes() throws {
        let n = try Net()
        // The bytes one program for the largest batch keeps (its buffers plus the arenas).
        let single = try n.function(Self.options())
        _ = try single(n.net.feeds(batch: 300))
        let largest = single.cacheUsage.bytes
        #expect(single.cacheUsage.programs == 1)
        #expect(largest > 0)

        let options = Self.options()
        let f = try n.function(options)
        var first: [Int: [TensorValue]] = [:]
        var peakAfterWarmup = 0
        for batch in 1...300 {
            first[batch] = try f(n.net.feeds(batch: batch, seed: UInt64(batch)))
            let usage = f.cacheUsage
            #expect(usage.programs <= options.programCacheLimit, "batch \(batch): \(usage.programs) programs")
            #expect(usage.programs == min(batch, options.programCacheLimit), "batch \(batch): \(usage.programs) programs")
            #expect(usage.bytes <= options.programCacheBytes, "batch \(batch): \(usage.bytes) bytes")
            // Programs for smaller batches hold no more than the largest's, and the arenas are shared.
            #expect(usage.bytes <= options.programCacheLimit * largest, "batch \(batch): \(usage.bytes) bytes > 16 × \(largest)")
            if batch >= 20 { peakAfterWarmup = max(peakAfterWarmup, usage.bytes) }
        }
        let afterFirstPass = f.cacheUsage.bytes
        // Again, in another order: every batch but the last 16 was evicted and is compiled again.
        var order = Array(1...300)
        var state: UInt64 = 12345
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            order.swapAt(i, Int(state >> 33) % (i + 1))
        }
        for batch in order {
            let again = try f(n.net.feeds(batch: batch, seed: UInt64(batch)))
            for (k, v) in again.enumerated() {
                #expect(bitwiseEqual(v, first[batch]![k]), "batch \(batch) output \(k) differs after recompiling")
            }
            let usage = f.cacheUsage
            #expect(usage.programs <= options.programCacheLimit)
            #expect(usage.bytes <= max(afterFirstPass, peakAfterWarmup), "batch \(batch): \(usage.bytes) bytes grew past the first pass")
        }
    }

    @Test("programCacheLimit = 2 and a small programCacheBytes: results equal the unbounded function's")
    func smallCaches() throws {
        let n = try Net()
        let reference = try n.function(Self.options(limit: 16))
        let two = try n.function(Self.options(limit: 2))
        let tiny = try n.function(Self.options(limit: 16, bytes: 1))
        let batches = [5, 9, 5, 100, 9, 1, 5, 300, 100, 5, 2, 300, 1]
        var expected: [Int: [TensorValue]] = [:]
        for batch in Set(batches) { expected[batch] = try reference(n.net.feeds(batch: batch)) }
        for batch in batches {
            for (name, f) in [("limit 2", two), ("1 byte", tiny)] {
                let out = try f(n.net.feeds(batch: batch))
                for (k, v) in out.enumerated() {
                    #expect(bitwiseEqual(v, expected[batch]![k]), "\(name) batch \(batch) output \(k)")
                }
            }
            #expect(two.cacheUsage.programs <= 2)
            #expect(tiny.cacheUsage.programs == 1, "over the byte budget only the program just used stays")
        }
    }

    @Test("a byte budget: over it only the program just used stays")
    func byteBudget() throws {
        let n = try Net()
        let probe = try n.function(Self.options())
        _ = try probe(n.net.feeds(batch: 64))
        let one = probe.cacheUsage.bytes
        let budget = one + one / 4
        let f = try n.function(Self.options(limit: 16, bytes: budget))
        for batch in [64, 63, 62, 61, 60, 64, 1, 2, 3] {
            _ = try f(n.net.feeds(batch: batch))
            let usage = f.cacheUsage
            #expect(usage.programs == 1 || usage.bytes <= budget, "batch \(batch): \(usage) over the budget \(budget)")
            #expect(usage.programs < 9, "batch \(batch): \(usage)")
        }
    }

    @Test("programCacheLimit below 1 is refused at compile", arguments: [0, -1])
    func invalidLimit(limit: Int) throws {
        let n = try Net()
        do {
            _ = try n.function(Self.options(limit: limit))
            Issue.record("programCacheLimit \(limit) compiled")
        } catch let error as CompileError {
            #expect(error.kind == .invalidOption, "\(error)")
            #expect(error.message.contains("\(limit)"), "\(error)")
        }
    }
}
