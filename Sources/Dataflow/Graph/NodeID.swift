/// The identity of a node: its index in `Graph.nodes`.
///
/// Inputs always have smaller ids than the nodes that use them, so increasing ids
/// are a topological order.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "#\(rawValue)" }
}
