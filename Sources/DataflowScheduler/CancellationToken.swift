import Synchronization

/// A flag that cancels a run from outside.
///
/// Pass it to `Executor.run`; calling `cancel()` from any thread makes the run skip every
/// task not yet started, and the run then throws `SchedulerError.cancelled` (tasks already
/// running finish normally). A token stays cancelled; use a new one for the next run.
///
/// ```swift
/// let token = CancellationToken()
/// DispatchQueue.global().asyncAfter(deadline: .now() + 1) { token.cancel() }
/// try executor.run(graph, cancellation: token)   // throws SchedulerError.cancelled
/// ```
public final class CancellationToken: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Makes a token that is not cancelled.
    public init() {}

    /// Cancels every run that uses this token. Idempotent, callable from any thread.
    public func cancel() { flag.store(true, ordering: .releasing) }

    /// Whether `cancel()` has been called.
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }

    /// The cheap check the executor makes before each task.
    @inline(__always) var isCancelledRelaxed: Bool { flag.load(ordering: .relaxed) }
}
