import DataflowScheduler
import Foundation
import Synchronization

/// A STREAM-style triad (`a[i] = b[i] + s · c[i]`, McCalpin's STREAM benchmark) to
/// measure this machine's memory bandwidth for 1, 2, … threads: each thread streams
/// its own three arrays, far larger than the caches. Bytes counted: 24 per element
/// (two reads, one write; the write-allocate read is not counted, as in STREAM).
enum StreamBandwidth {
    /// Bytes per second that `threads` threads stream together (median of `reps`).
    static func measure(threads: Int, megabytesPerThread: Int = 96, reps: Int = 5) throws -> Double {
        let elements = megabytesPerThread * 1_048_576 / 24
        let arrays = (0..<threads).map { _ in TriadArrays(count: elements) }
        let executor = Executor(workers: threads)
        var graph = TaskGraph()
        for k in 0..<threads { graph.addTask("triad \(k)") { arrays[k].triad() } }
        try executor.run(graph)  // first touch and warm-up
        var samples: [Double] = []
        for _ in 0..<reps {
            let t0 = now()
            try executor.run(graph)
            samples.append(now() - t0)
        }
        return Double(threads * elements * 24) / median(samples)
    }
}

/// One thread's three arrays. Only the task of that thread touches them.
final class TriadArrays: Sendable {
    private let a = Mutex<[Double]>([])
    private let b: [Double]
    private let c: [Double]

    init(count: Int) {
        a.withLock { $0 = [Double](repeating: 0, count: count) }
        b = [Double](repeating: 1, count: count)
        c = [Double](repeating: 2, count: count)
    }

    func triad() {
        a.withLock { a in
            let b = self.b, c = self.c
            for i in a.indices { a[i] = b[i] + 3 * c[i] }
        }
    }
}
