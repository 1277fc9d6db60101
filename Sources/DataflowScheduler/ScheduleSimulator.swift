/// Predicts the makespan of a graph on P cores from per-task durations: list scheduling
/// under the executor's policy.
///
/// Policy: whenever a core is free and tasks are ready, it starts the ready task of
/// highest priority, ties to the lower id (Graham's list scheduling with the
/// executor's priority order). The real executor approximates this (per-worker deques
/// and inline successors), so the simulation predicts the speedup the DAG allows, not
/// the scheduler's overhead.
///
/// ```swift
/// let trace = TraceRecorder()
/// try Executor(workers: 1).run(graph, observer: trace)
/// let d = ScheduleSimulator.durations(from: trace, for: graph)
/// for p in [1, 2, 4, 8, 16, 32, 64] {
///     print(p, ScheduleSimulator.makespan(of: graph, durations: d, processors: p))
/// }
/// ```
public enum ScheduleSimulator {
    /// The makespan of `graph` on `processors` identical cores.
    ///
    /// - Parameters:
    ///   - graph: A valid (acyclic) graph.
    ///   - durations: Seconds per task, indexed by `TaskID.index`.
    ///   - processors: The number of cores, ≥ 1.
    /// - Returns: The time at which the last task finishes (0 for an empty graph).
    /// - Complexity: O((tasks + edges) log tasks).
    public static func makespan(of graph: TaskGraph, durations: [Double], processors: Int) -> Double {
        schedule(of: graph, durations: durations, processors: processors).makespan
    }

    /// The start time of every task in the simulated schedule, and its makespan.
    ///
    /// - Returns: `starts[i]` is when task i starts; `makespan` when the last ends.
    public static func schedule(of graph: TaskGraph, durations: [Double], processors: Int) -> (starts: [Double], makespan: Double) {
        precondition(processors >= 1, "the simulator needs at least one processor, got \(processors)")
        precondition(durations.count == graph.count, "\(durations.count) durations for a graph of \(graph.count) tasks")
        let c = graph.structure()
        precondition(c.error == nil, "cannot simulate an invalid graph: \(c.error!.message)")
        let n = c.count
        var priority = [Int](repeating: 0, count: n)
        for i in 0..<n { priority[i] = graph.priority(of: TaskID(index: i)) }
        var ready = BinaryHeap<Int> { a, b in priority[a] != priority[b] ? priority[a] > priority[b] : a < b }
        var running = BinaryHeap<(end: Double, task: Int)> { a, b in a.end != b.end ? a.end < b.end : a.task < b.task }
        var remaining = c.inDegree
        for i in 0..<n where remaining[i] == 0 { ready.insert(i) }
        var starts = [Double](repeating: 0, count: n)
        var time = 0.0
        var makespan = 0.0
        while !ready.isEmpty || !running.isEmpty {
            while running.count < processors, let t = ready.popMin() {
                starts[t] = time
                let end = time + max(0, durations[t])
                makespan = max(makespan, end)
                running.insert((end, t))
            }
            guard let next = running.min else { break }
            time = next.end
            // Everything finishing now frees its successors before cores are refilled.
            while let done = running.min, done.end <= time {
                _ = running.popMin()
                for k in Int(c.successorStart[done.task])..<Int(c.successorStart[done.task + 1]) {
                    let s = Int(c.successors[k])
                    remaining[s] -= 1
                    if remaining[s] == 0 { ready.insert(s) }
                }
            }
        }
        return (starts, makespan)
    }

    /// Per-task durations for the simulator: the recorder's average measured duration,
    /// or the task's `cost` hint where it was never measured.
    ///
    /// - Returns: Seconds per task, indexed by `TaskID.index`.
    public static func durations(from recorder: TraceRecorder, for graph: TaskGraph) -> [Double] {
        let measured = recorder.measuredDurations(for: graph)
        return (0..<graph.count).map { measured[$0] ?? graph.cost(of: TaskID(index: $0)) }
    }

    /// Per-task durations from the tasks' `cost` hints alone.
    public static func costHints(of graph: TaskGraph) -> [Double] {
        (0..<graph.count).map { graph.cost(of: TaskID(index: $0)) }
    }
}
