/// One task's execution as seen by an observer: which task, on which worker, when.
///
/// Times are nanoseconds of the monotonic clock (`DispatchTime.now().uptimeNanoseconds`).
public struct TaskEvent: Sendable, Equatable {
    /// The task that ran.
    public let task: TaskID
    /// The worker slot that ran it: `0` is the thread that called `run` (or the
    /// slot's current owner), `1..<workerCount` are the executor's own workers.
    public let worker: Int
    /// When the body started, in monotonic nanoseconds.
    public let start: UInt64
    /// When the body returned (or threw), in monotonic nanoseconds.
    public let end: UInt64

    /// Makes an event.
    public init(task: TaskID, worker: Int, start: UInt64, end: UInt64) {
        self.task = task
        self.worker = worker
        self.start = start
        self.end = end
    }
}

/// Receives a callback around every task an executor runs (and around each run).
///
/// Callbacks arrive concurrently from all workers, so implementations must be
/// thread-safe. Skipped (cancelled) tasks are not reported. `TraceRecorder` is the
/// ready-made implementation.
///
/// ```swift
/// let trace = TraceRecorder()
/// try executor.run(graph, observer: trace)
/// print(trace.summary(for: graph))
/// ```
public protocol TaskObserver: AnyObject, Sendable {
    /// Called on the worker thread just before `task`'s body runs.
    func taskStarted(_ task: TaskID, worker: Int, at time: UInt64)
    /// Called on the worker thread just after `task`'s body returned or threw.
    func taskFinished(_ event: TaskEvent)
    /// Called on the calling thread when a run begins, before any task starts.
    func runStarted(taskCount: Int, at time: UInt64)
    /// Called on the calling thread when a run has finished, after every task.
    func runFinished(at time: UInt64)
}

extension TaskObserver {
    public func taskStarted(_ task: TaskID, worker: Int, at time: UInt64) {}
    public func runStarted(taskCount: Int, at time: UInt64) {}
    public func runFinished(at time: UInt64) {}
}
