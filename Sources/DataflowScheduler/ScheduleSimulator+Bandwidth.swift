/// The memory-bandwidth model of `ScheduleSimulator`, and the bounds that say what
/// limits a predicted schedule.
///
/// Model (event-driven bandwidth sharing): task i needs `d(i)` seconds of compute
/// (measured on one core, so it already includes moving its bytes at one core's
/// bandwidth) and moves `bytes(i)`. Running at compute speed it would draw
/// `bytes(i) / d(i)` bytes per second, at most `perCore`. The tasks running at a moment
/// share `total` max-min fairly (water-filling): a task that draws less than an equal
/// share keeps what it draws, the rest is split equally among the others. A task
/// progresses at `min(1 / d(i), share(i) / bytes(i))` of itself per second, and the
/// shares are recomputed whenever a task starts or ends. So
///
///  - a task running alone is never slowed down (it gets `perCore` ≥ what it draws when
///    `d(i)` is a one-core measurement);
///  - k like memory-bound tasks running together each take
///    `max(d, bytes / (min(k · perCore, total) / k))`, the roofline with the bandwidth
///    shared by the tasks *running*, not by all P cores;
///  - compute-bound tasks (`bytes` 0) neither use nor lose bandwidth.
///
/// It is deterministic (ties by task id) and ignores caches shared between tasks
/// (bytes are what misses the last-level cache).
extension ScheduleSimulator {
    /// A machine's streaming bandwidth: what one core reaches alone, and the ceiling
    /// of all cores together.
    ///
    /// ```swift
    /// let bw = ScheduleSimulator.MemoryBandwidth(perCore: 12e9, total: 20e9)
    /// bw.available(cores: 4)   // 20e9: four cores saturate it
    /// ```
    public struct MemoryBandwidth: Sendable, Equatable {
        /// Bytes per second one core streams alone.
        public var perCore: Double
        /// Bytes per second all cores together can stream.
        public var total: Double

        /// - Parameters:
        ///   - perCore: Bytes per second one core streams alone (> 0).
        ///   - total: Bytes per second of the whole machine (≥ `perCore`).
        public init(perCore: Double, total: Double) {
            precondition(perCore > 0 && total >= perCore, "bandwidth needs 0 < perCore ≤ total, got \(perCore), \(total)")
            self.perCore = perCore
            self.total = total
        }

        /// The bandwidth `cores` streaming cores share: `min(cores · perCore, total)`.
        public func available(cores: Int) -> Double { Swift.min(Double(cores) * perCore, total) }
    }

    /// What bounds a predicted schedule on P cores (seconds each).
    public struct Bounds: Sendable, Equatable {
        /// Total work divided by P (each task at its one-core duration, or longer if its
        /// bytes alone take longer at `perCore`).
        public var work: Double
        /// The longest path (same durations as `work`).
        public var span: Double
        /// All tasks' bytes at the bandwidth of P cores.
        public var bandwidth: Double
        /// The scheduler's per-task overhead over P cores: tasks × overhead / P, plus
        /// the overhead along the longest path in tasks.
        public var overhead: Double
        /// The simulated makespan (list scheduling with bandwidth sharing), plus
        /// tasks × overhead / P.
        public var makespan: Double

        /// The largest bound among span, bandwidth and overhead, or `"work"` when the
        /// work bound is the largest (the program still scales). Ties go to span,
        /// bandwidth, overhead before work.
        public var limit: String {
            let largest = Swift.max(work, span, bandwidth, overhead)
            let candidates = [("span", span), ("bandwidth", bandwidth), ("overhead", overhead), ("work", work)]
            return candidates.first { $0.1 >= largest * (1 - 1e-12) }!.0
        }
    }

    /// Every task's bytes estimate (`TaskGraph.bytes(of:)`), indexed by `TaskID.index`.
    public static func bytes(of graph: TaskGraph) -> [Double] {
        (0..<graph.count).map { Double(graph.bytes(of: TaskID(index: $0))) }
    }

    /// Each task's duration when it runs alone: `max(durations[i], bytes[i] / perCore)`.
    public static func aloneDurations(_ durations: [Double], bytes: [Double], bandwidth: MemoryBandwidth) -> [Double] {
        precondition(durations.count == bytes.count, "\(durations.count) durations for \(bytes.count) byte counts")
        return zip(durations, bytes).map { Swift.max(0, $0, $1 / bandwidth.perCore) }
    }

    /// The simulated schedule on `processors` cores with bandwidth sharing: list
    /// scheduling by priority (as `schedule(of:durations:processors:)`), where each
    /// running task's speed follows the sharing model above and is recomputed at every
    /// start and end.
    ///
    /// ```swift
    /// let s = ScheduleSimulator.schedule(of: graph, durations: d, bytes: b, processors: 16, bandwidth: bw)
    /// print(s.makespan, s.ends[0] - s.starts[0])
    /// ```
    /// - Returns: `starts[i]` and `ends[i]` of task i, and the time the last task ends.
    /// - Complexity: O(tasks · P log P + edges) (the shares are recomputed per event).
    public static func schedule(of graph: TaskGraph, durations: [Double], bytes: [Double], processors: Int,
                                bandwidth: MemoryBandwidth) -> (starts: [Double], ends: [Double], makespan: Double) {
        precondition(processors >= 1, "the simulator needs at least one processor, got \(processors)")
        precondition(durations.count == graph.count, "\(durations.count) durations for a graph of \(graph.count) tasks")
        precondition(bytes.count == graph.count, "\(bytes.count) byte counts for a graph of \(graph.count) tasks")
        let c = graph.structure()
        precondition(c.error == nil, "cannot simulate an invalid graph: \(c.error!.message)")
        let n = c.count
        var priority = [Int](repeating: 0, count: n)
        for i in 0..<n { priority[i] = graph.priority(of: TaskID(index: i)) }
        var ready = BinaryHeap<Int> { a, b in priority[a] != priority[b] ? priority[a] > priority[b] : a < b }
        var remaining = c.inDegree.map(Int.init)
        for i in 0..<n where remaining[i] == 0 { ready.insert(i) }
        var starts = [Double](repeating: 0, count: n)
        var ends = [Double](repeating: 0, count: n)
        /// Running tasks and the fraction of each still to do, in start order.
        var running: [(task: Int, left: Double)] = []
        var rates: [Double] = []
        var time = 0.0
        var makespan = 0.0
        var finished: [Int] = []
        while !ready.isEmpty || !running.isEmpty {
            while running.count < processors, let t = ready.popMin() {
                starts[t] = time
                running.append((t, 1))
            }
            // Progress rates (fraction of the task per second) under the current sharing.
            shareRates(running.map(\.task), durations, bytes, bandwidth, into: &rates)
            var step = Double.infinity
            for (k, r) in running.enumerated() {
                step = Swift.min(step, rates[k].isInfinite ? 0 : r.left / rates[k])
            }
            time += step
            finished.removeAll(keepingCapacity: true)
            var k = 0
            while k < running.count {
                let rate = rates[k]
                let left = rate.isInfinite ? 0 : running[k].left - rate * step
                // A task whose rest would take less than a relative 1e-12 of the step's end
                // time ends now (floating-point residue, not work).
                if left <= 0 || (rate > 0 && left / rate <= 1e-12 * Swift.max(time, 1e-300)) {
                    finished.append(running[k].task)
                    running.remove(at: k)
                    rates.remove(at: k)
                } else {
                    running[k].left = left
                    k += 1
                }
            }
            finished.sort()
            for t in finished {
                ends[t] = time
                makespan = Swift.max(makespan, time)
                for e in Int(c.successorStart[t])..<Int(c.successorStart[t + 1]) {
                    let s = Int(c.successors[e])
                    remaining[s] -= 1
                    if remaining[s] == 0 { ready.insert(s) }
                }
            }
        }
        return (starts, ends, makespan)
    }

    /// The progress rate of each running task: compute speed `1 / d`, capped by its
    /// max-min fair share of the bandwidth over `bytes`.
    private static func shareRates(_ tasks: [Int], _ durations: [Double], _ bytes: [Double], _ bandwidth: MemoryBandwidth,
                                   into rates: inout [Double]) {
        rates = tasks.map { t in durations[t] > 0 ? 1 / durations[t] : .infinity }
        // Streaming tasks, by how many bytes per second they draw at compute speed
        // (capped at one core's bandwidth), fewest first; ties by task id.
        var demands: [(draw: Double, k: Int)] = []
        for (k, t) in tasks.enumerated() where bytes[t] > 0 {
            let draw = durations[t] > 0 ? Swift.min(bytes[t] / durations[t], bandwidth.perCore) : bandwidth.perCore
            demands.append((draw, k))
        }
        demands.sort { $0.draw != $1.draw ? $0.draw < $1.draw : tasks[$0.k] < tasks[$1.k] }
        var left = bandwidth.total
        for (j, d) in demands.enumerated() {
            let share = Swift.min(d.draw, left / Double(demands.count - j))
            left -= share
            rates[d.k] = Swift.min(rates[d.k], share / bytes[tasks[d.k]])
        }
    }

    /// The predicted schedule on `processors` cores and the bounds that limit it.
    ///
    /// ```swift
    /// let b = ScheduleSimulator.bounds(of: graph, durations: d, bytes: bytes, processors: 16,
    ///                                  bandwidth: bw, overheadPerTask: 20e-9)
    /// print(b.makespan, b.limit)   // e.g. 0.051 "bandwidth"
    /// ```
    /// - Parameters:
    ///   - durations: One-core seconds per task.
    ///   - bytes: Bytes each task moves to or from memory.
    ///   - overheadPerTask: Seconds the scheduler spends per task (e.g. the re-run
    ///     figure of `dataflow-bench sched`), added outside the simulated schedule.
    /// - Complexity: that of `schedule(of:durations:bytes:processors:bandwidth:)`.
    public static func bounds(of graph: TaskGraph, durations oneCore: [Double], bytes: [Double], processors: Int,
                              bandwidth: MemoryBandwidth, overheadPerTask: Double = 0) -> Bounds {
        let alone = aloneDurations(oneCore, bytes: bytes, bandwidth: bandwidth)
        let c = graph.structure()
        let p = Double(processors)
        let span = c.longestPath(alone)
        let depth = c.longestPath([Double](repeating: 1, count: c.count))
        let overhead = overheadPerTask * (Double(c.count) / p + depth)
        let simulated = schedule(of: graph, durations: oneCore, bytes: bytes, processors: processors, bandwidth: bandwidth).makespan
        return Bounds(work: alone.reduce(0, +) / p, span: span, bandwidth: bytes.reduce(0, +) / bandwidth.available(cores: processors),
                      overhead: overhead, makespan: simulated + overheadPerTask * Double(c.count) / p)
    }
}
