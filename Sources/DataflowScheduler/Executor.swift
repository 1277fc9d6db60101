import Foundation

/// Runs `TaskGraph`s on a pool of work-stealing workers.
///
/// Each worker owns a Chase–Lev deque; a finished task runs its best newly ready
/// successor inline and pushes the others; idle workers steal, then sleep. The thread
/// that calls `run` works as slot 0 until its graph is done, so a small graph often runs
/// entirely on the caller without a thread switch.
///
/// ```swift
/// let executor = Executor(workers: 4)
/// var graph = TaskGraph()
/// let a = graph.addTask("a") { print("a") }
/// let b = graph.addTask("b") { print("b") }
/// graph.addDependency(a, b)
/// try executor.run(graph)            // prints a, then b
/// try executor.run(graph)            // re-running is cheap
/// ```
///
/// Memory: the executor keeps the compiled arrays and join counters of the last graph it
/// compiled that was released (about 16 bytes per task and 8 per edge), and reuses them
/// for the next graph, so building and running a fresh graph per step does not fault
/// in new pages for them each time; they are freed with the executor.
///
/// Threads: `workers: N` starts `N − 1` background workers (on Dispatch, see
/// `ExecutorCore.startWorkers`); the calling thread is the N-th, so at most N threads run
/// tasks of this executor at a time and `workers: 1` runs everything on the caller.
/// Runs started from outside at the same time take turns for the caller slot (they are
/// serialised); a run started from inside a task (a nested run) proceeds at once, its
/// thread helping until the nested graph is done.
public final class Executor: Sendable {
    let core: ExecutorCore

    /// Starts an executor with `workers` threads of execution, the caller included.
    ///
    /// - Parameter workers: The number of threads that may run tasks at once (≥ 1).
    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        core = ExecutorCore(workers: workers)
        if workers > 1 { core.startWorkers() }
    }

    deinit {
        core.shutdown()
    }

    /// The number of threads that run tasks, the calling thread included.
    public var workerCount: Int { core.workerCount }

    /// Runs every task of `graph` once, each after all its predecessors, and returns when
    /// all are done.
    ///
    /// - Parameters:
    ///   - graph: The graph to run; validated once per graph version.
    ///   - observer: Receives every task's start, end and worker (e.g. `TraceRecorder`).
    ///   - cancellation: Cancelling it skips every task not yet started.
    /// - Throws: The first error a task threw (after the run drained; tasks not yet
    ///   started were skipped); `SchedulerError.cancelled` if cancelled from outside;
    ///   `SchedulerError` of kind `.cycle` or `.invalidTaskID` for an invalid graph.
    ///   The executor works normally afterwards.
    /// - Complexity: O(tasks + edges) atomic operations; no allocation per task.
    public func run(_ graph: TaskGraph, observer: (any TaskObserver)? = nil, cancellation: CancellationToken? = nil) throws {
        let compiled = graph.structure(recycler: core.recycler)
        if let error = compiled.error { throw error }
        if let cancellation, cancellation.isCancelled { throw SchedulerError.cancelled }
        if compiled.count == 0 {
            if let observer {
                let t = DispatchTime.now().uptimeNanoseconds
                observer.runStarted(taskCount: 0, at: t)
                observer.runFinished(at: t)
            }
            return
        }
        if let ctx = WorkerContext.current, ctx.coreID == core.id, ctx.isOwnedByCurrentThread {
            // Nested: this thread is already one of ours; it helps until done.
            try core.run(compiled, observer: observer, token: cancellation, ctx: ctx)
            return
        }
        core.callerSlot.wait()
        defer { core.callerSlot.signal() }
        let ctx = core.contexts[0]
        ctx.setOwner(WorkerContext.currentThread)
        defer { ctx.setOwner(nil) }
        try WorkerContext.$current.withValue(ctx) {
            try core.run(compiled, observer: observer, token: cancellation, ctx: ctx)
        }
    }
}
