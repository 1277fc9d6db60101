/// A symbolic tensor: a node of a graph. Cheap to copy; equal when it is the same
/// node of the same graph.
///
/// ```swift
/// let h = try sigmoid(x • w1 + b1)
/// h.shape   // [?, 100]
/// ```
public struct Tensor: Hashable, Sendable, CustomStringConvertible {
    /// The graph the node belongs to.
    public let graph: Graph
    /// The node's id in `graph`.
    public let id: NodeID

    /// A tensor for a node the library made (ids valid by construction). Callers
    /// outside the library get tensors from ops, or from `Graph.tensor(_:)`, which
    /// checks the id.
    init(graph: Graph, id: NodeID) {
        self.graph = graph
        self.id = id
    }

    /// The node.
    public var node: Node { graph.storedNode(id) }
    /// The static shape.
    public var shape: Shape { node.shape }
    /// The element type.
    public var dtype: DType { node.dtype }
    /// The readable name, if any.
    public var name: String? { node.name }
    /// The op computing it.
    public var op: Op { node.op }
    /// `name`, or `op#id`.
    public var label: String { graph.storedLabel(id) }

    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.graph === rhs.graph && lhs.id == rhs.id
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(graph))
        hasher.combine(id)
    }

    public var description: String {
        let n = node
        return "\(n.name ?? "\(n.op.name)#\(id.rawValue)"): \(n.dtype) \(n.shape)"
    }
}
