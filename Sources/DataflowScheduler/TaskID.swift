/// The identity of one task in a `TaskGraph`: a dense index in insertion order.
///
/// The first task added to a graph is `TaskID(index: 0)`, the next `1`, and so on, so
/// per-task data can live in arrays indexed by `id.index`.
///
/// ```swift
/// var graph = TaskGraph()
/// let a = graph.addTask("a") {}
/// assert(a.index == 0)
/// ```
public struct TaskID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The position of the task in its graph, `0..<graph.count`.
    public let index: Int

    /// Makes the identity of the task at `index` (normally you get ids from `addTask`).
    public init(index: Int) { self.index = index }

    public static func < (lhs: TaskID, rhs: TaskID) -> Bool { lhs.index < rhs.index }

    public var description: String { "#\(index)" }
}
