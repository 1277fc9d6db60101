/// The memory-bandwidth model of `ScheduleSimulator`, and the bounds that say what
/// limits a predicted schedule.
///
/// Model (a roofline per task): on P cores a task takes the larger of its compute time
/// and the time to move its bytes at its share of the bandwidth, where P busy cores
/// share `MemoryBandwidth.available(cores: P)` equally:
///
///     d_P(i) = max(d(i), bytes(i) · P / B(P)),   B(P) = min(P · perCore, total)
///
/// `d(i)` is measured on one core, so it already includes moving the task's bytes at
/// one core's bandwidth; the model only ever lengthens tasks. It assumes every core is
/// busy (a pessimistic share when fewer tasks run) and ignores caches shared between
/// tasks (bytes are what misses the last-level cache).
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

        /// The bandwidth `cores` busy cores share: `min(cores · perCore, total)`.
        public func available(cores: Int) -> Double { Swift.min(Double(cores) * perCore, total) }
    }

    /// What bounds a predicted schedule on P cores (seconds each).
    public struct Bounds: Sendable, Equatable {
        /// Total work divided by P (with bandwidth-stretched durations).
        public var work: Double
        /// The longest path (with bandwidth-stretched durations).
        public var span: Double
        /// All tasks' bytes at the bandwidth of P cores.
        public var bandwidth: Double
        /// The scheduler's per-task overhead over P cores: tasks × overhead / P, plus
        /// the overhead along the longest path in tasks.
        public var overhead: Double
        /// The simulated makespan (list scheduling), plus the overhead term.
        public var makespan: Double

        /// The bound closest to the makespan among span, bandwidth and overhead, or
        /// `"work"` when the work bound is the largest (the program still scales).
        /// Ties go to span, bandwidth, overhead before work.
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

    /// Task durations on `processors` cores under the bandwidth model.
    ///
    /// - Parameters:
    ///   - durations: One-core seconds per task.
    ///   - bytes: Bytes each task moves to or from memory.
    ///   - processors: P ≥ 1.
    ///   - bandwidth: The machine's bandwidth.
    /// - Returns: `max(durations[i], bytes[i] · P / B(P))` per task.
    public static func durations(_ durations: [Double], bytes: [Double], processors: Int, bandwidth: MemoryBandwidth) -> [Double] {
        precondition(durations.count == bytes.count, "\(durations.count) durations for \(bytes.count) byte counts")
        let share = bandwidth.available(cores: processors) / Double(processors)
        return zip(durations, bytes).map { Swift.max($0, $1 / share) }
    }

    /// The predicted schedule on `processors` cores and the bounds that limit it.
    ///
    /// ```swift
    /// let b = ScheduleSimulator.bounds(of: graph, durations: d, bytes: bytes, processors: 16,
    ///                                  bandwidth: bw, overheadPerTask: 20e-9)
    /// print(b.makespan, b.limit)   // e.g. 0.051 "bandwidth"
    /// ```
    /// - Parameters:
    ///   - overheadPerTask: Seconds the scheduler spends per task (e.g. the re-run
    ///     figure of `dataflow-bench sched`), added outside the simulated schedule.
    /// - Complexity: O((tasks + edges) log tasks).
    public static func bounds(of graph: TaskGraph, durations oneCore: [Double], bytes: [Double], processors: Int,
                              bandwidth: MemoryBandwidth, overheadPerTask: Double = 0) -> Bounds {
        let d = durations(oneCore, bytes: bytes, processors: processors, bandwidth: bandwidth)
        let c = graph.structure()
        let p = Double(processors)
        let span = c.longestPath(d)
        let depth = c.longestPath([Double](repeating: 1, count: c.count))
        let overhead = overheadPerTask * (Double(c.count) / p + depth)
        let makespan = schedule(of: graph, durations: d, processors: processors).makespan + overheadPerTask * Double(c.count) / p
        return Bounds(work: d.reduce(0, +) / p, span: span, bandwidth: bytes.reduce(0, +) / bandwidth.available(cores: processors),
                      overhead: overhead, makespan: makespan)
    }
}
