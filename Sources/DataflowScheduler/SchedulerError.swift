/// An error of the scheduler itself: an invalid graph or a cancelled run.
///
/// Errors thrown by task bodies are rethrown unchanged by `Executor.run`; this type
/// covers what the scheduler detects on its own.
///
/// ```swift
/// do { try graph.validate() } catch { print(error.message) }  // "cycle: task 'b' (#1) …"
/// ```
public struct SchedulerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, in a form a program can switch over.
    public enum Kind: Sendable, Equatable {
        /// The graph has a dependency cycle; the message names a task on it.
        case cycle
        /// A dependency refers to a task id that is not in the graph.
        case invalidTaskID
        /// The run was cancelled through its `CancellationToken` before every task ran.
        case cancelled
    }

    /// The category of the error.
    public let kind: Kind
    /// A readable explanation that names the task involved, if any.
    public let message: String

    /// Makes an error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The error a run throws when it was cancelled from outside.
    public static let cancelled = SchedulerError(.cancelled,
                                                 "run cancelled through its CancellationToken; tasks not yet started were skipped")
}
