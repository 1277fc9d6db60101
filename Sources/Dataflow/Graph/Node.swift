/// One node of a graph: an op applied to earlier nodes, with its inferred type.
///
/// Nodes are immutable and hash-consed: a graph never holds two nodes with the
/// same op, inputs and dtype (except placeholders, parameters and constants, each
/// of which is its own leaf).
public struct Node: Sendable {
    /// What the node computes.
    public let op: Op
    /// The nodes it reads, in the op's argument order; all have smaller ids.
    public let inputs: [NodeID]
    /// The element type of its value.
    public let dtype: DType
    /// Its static shape (`nil` dimensions are known at run time).
    public let shape: Shape
    /// A readable name, if the user or a model gave one.
    public let name: String?
    /// Whether `grad` created it (drawn dashed in DOT).
    public let isGradient: Bool

    public init(op: Op, inputs: [NodeID], dtype: DType, shape: Shape, name: String?, isGradient: Bool) {
        self.op = op
        self.inputs = inputs
        self.dtype = dtype
        self.shape = shape
        self.name = name
        self.isGradient = isGradient
    }
}
