import Dispatch
import Synchronization

/// A `TaskObserver` that records every task's start, end and worker, for a Chrome
/// trace, a work/span summary or the schedule simulator.
///
/// Events of all runs observed accumulate until `reset()`; per-task figures average
/// over the recorded runs.
///
/// ```swift
/// let trace = TraceRecorder()
/// try executor.run(graph, observer: trace)
/// try trace.chromeTrace(for: graph).write(toFile: "step.json", atomically: true, encoding: .utf8)
/// print(trace.summary(for: graph).parallelism)
/// ```
public final class TraceRecorder: TaskObserver {
    struct State {
        var events: [TaskEvent] = []
        var runStarts: [UInt64] = []
        var runEnds: [UInt64] = []
    }
    let state = Lock(State())

    /// Makes an empty recorder.
    public init() {}

    /// Every task event recorded since the last `reset()`, in completion order.
    public var events: [TaskEvent] { state.withLock { $0.events } }

    /// The number of runs observed since the last `reset()`.
    public var runCount: Int { state.withLock { $0.runEnds.count } }

    /// Forgets every event and run.
    public func reset() { state.withLock { $0 = State() } }

    public func taskFinished(_ event: TaskEvent) {
        state.withLock { $0.events.append(event) }
    }

    public func runStarted(taskCount: Int, at time: UInt64) {
        state.withLock { $0.runStarts.append(time) }
    }

    public func runFinished(at time: UInt64) {
        state.withLock { $0.runEnds.append(time) }
    }

    /// Each task's measured duration in seconds, averaged over the runs in which it ran;
    /// `nil` for a task never recorded.
    ///
    /// - Parameter graph: The graph whose runs were recorded (sizes the result).
    /// - Returns: One entry per task, indexed by `TaskID.index`.
    public func measuredDurations(for graph: TaskGraph) -> [Double?] {
        var sum = [Double](repeating: 0, count: graph.count)
        var n = [Int](repeating: 0, count: graph.count)
        for e in events where e.task.index < graph.count {
            sum[e.task.index] += Double(e.end &- e.start) / 1e9
            n[e.task.index] += 1
        }
        return (0..<graph.count).map { n[$0] == 0 ? nil : sum[$0] / Double(n[$0]) }
    }

    /// Work, span, parallelism and makespan of the recorded runs of `graph`.
    ///
    /// Work is the sum of the tasks' average durations; span the longest path through the
    /// DAG weighted by those durations; makespan the average wall time of a recorded run
    /// (or first start to last end if no run boundary was recorded). Work ≥ span and
    /// makespan ≥ span hold by construction.
    /// - Complexity: O(events + tasks + edges).
    public func summary(for graph: TaskGraph) -> TraceSummary {
        let durations = measuredDurations(for: graph).map { $0 ?? 0 }
        let work = durations.reduce(0, +)
        let span = graph.structure().longestPath(durations)
        let s = state.withLock { $0 }
        var makespan: Double
        let runs = min(s.runStarts.count, s.runEnds.count)
        if runs > 0 {
            var total = 0.0
            for r in 0..<runs { total += Double(s.runEnds[r] &- s.runStarts[r]) / 1e9 }
            makespan = total / Double(runs)
        } else if let first = s.events.map(\.start).min(), let last = s.events.map(\.end).max() {
            makespan = Double(last - first) / 1e9
        } else {
            makespan = 0
        }
        makespan = max(makespan, span)  // guards against clock granularity only
        return TraceSummary(work: work, span: span, parallelism: span > 0 ? work / span : 0, makespan: makespan)
    }
}

/// What a traced run says about a graph's parallelism, in seconds.
///
/// `parallelism = work / span` bounds the speedup any number of cores can give.
public struct TraceSummary: Sendable, Equatable, CustomStringConvertible {
    /// The sum of the task durations.
    public let work: Double
    /// The longest path through the DAG, weighted by task durations.
    public let span: Double
    /// `work / span` (0 for an empty trace).
    public let parallelism: Double
    /// The wall time of a run.
    public let makespan: Double

    /// Makes a summary from its figures.
    public init(work: Double, span: Double, parallelism: Double, makespan: Double) {
        self.work = work
        self.span = span
        self.parallelism = parallelism
        self.makespan = makespan
    }

    public var description: String {
        func ms(_ x: Double) -> String { String(Double(Int((x * 1e6).rounded())) / 1000) + " ms" }
        return "work \(ms(work)), span \(ms(span)), parallelism \(String(Double(Int((parallelism * 100).rounded())) / 100)), makespan "
            + "\(ms(makespan))"
    }
}
