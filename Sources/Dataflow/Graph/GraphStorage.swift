/// The mutable state of a `Graph`, kept behind the graph's mutex: the nodes, the
/// hash-consing index and the parameter and constant stores.
///
/// Every node is created by `make`, which checks arity, applies the construction
/// rewrites (when enabled), infers dtype and shape, and returns the existing node
/// when the same op already has the same inputs.
struct GraphStorage: Sendable {
    /// The key under which a non-leaf node (and a scalar) is hash-consed.
    struct Key: Hashable, Sendable {
        let op: Op
        let inputs: [NodeID]
        let dtype: DType
    }

    /// A parameter's readable name, current value and node.
    ///
    /// `shared` is the copy-on-write bit: true once `value`'s buffer has been handed
    /// to anyone outside the graph (the caller who created the parameter, `value(of:)`,
    /// an output of a compiled function). A program that updates the parameter in
    /// place first replaces a shared buffer by a private copy, so a value handed out
    /// never changes (docs/ARCHITECTURE.md, "Values handed out").
    struct Parameter: Sendable {
        let name: String
        var value: TensorValue
        let node: NodeID
        var shared: Bool = true
    }

    var nodes: [Node] = []
    var index: [Key: NodeID] = [:]
    var placeholders: [String: NodeID] = [:]
    var parameters: [Parameter] = []
    var constants: [TensorValue] = []
    /// Whether `make` applies the stabilising rewrites (`log(softmax)`, cross-entropy).
    var stabilizing: Bool

    init(stabilizing: Bool) {
        self.stabilizing = stabilizing
    }

    /// `name`, or `op#id` for an unnamed node.
    func label(_ id: NodeID) -> String {
        let node = nodes[id.rawValue]
        return node.name ?? "\(node.op.name)#\(id.rawValue)"
    }

    /// The label and the static shape, e.g. `x [?, 784]`.
    func labelWithShape(_ id: NodeID) -> String {
        "\(label(id)) \(nodes[id.rawValue].shape)"
    }

    /// Appends a leaf node (placeholder, parameter, constant) without hash-consing.
    mutating func appendLeaf(_ op: Op, dtype: DType, shape: Shape, name: String?) -> NodeID {
        let id = NodeID(nodes.count)
        nodes.append(Node(op: op, inputs: [], dtype: dtype, shape: shape, name: name, isGradient: false))
        return id
    }

    /// The hash-consed scalar node of `value` and `dtype`.
    mutating func scalar(_ value: Double, _ dtype: DType, gradient: Bool = false) -> NodeID {
        let key = Key(op: .scalar(value), inputs: [], dtype: dtype)
        if let existing = index[key] { return existing }
        let id = NodeID(nodes.count)
        nodes.append(Node(op: .scalar(value), inputs: [], dtype: dtype, shape: .scalar, name: nil, isGradient: gradient))
        index[key] = id
        return id
    }

    /// The node computing `op` on `inputs`: an existing one if present, else a new one.
    ///
    /// - Parameters:
    ///   - gradient: marks a new node as created by `grad`.
    ///   - rewrite: apply the stabilising rewrites even if the graph does not at construction.
    /// - Throws: `GraphError` on a wrong input count, dtype or shape.
    mutating func make(_ op: Op, _ inputs: [NodeID], name: String? = nil, gradient: Bool = false, rewrite: Bool = false) throws -> NodeID {
        if op.isLeaf {
            guard case .scalar(let v) = op, inputs.isEmpty else {
                throw GraphError("\(op.name): leaves are created with graph.placeholder, graph.parameter, graph.constant or "
                    + "graph.scalar, not apply")
            }
            return scalar(v, .float32, gradient: gradient)
        }
        guard inputs.count == op.arity else {
            throw GraphError("\(op.name): expects \(op.arity) input(s), got \(inputs.count)", kind: .wrongInputCount)
        }
        guard !inputs.isEmpty else {
            throw GraphError("\(op.name): expects at least one input", kind: .wrongInputCount)
        }
        for input in inputs where input.rawValue < 0 || input.rawValue >= nodes.count {
            throw GraphError("\(op.name): input \(input) is not a node of this graph (it has \(nodes.count) nodes)", kind: .foreignTensor)
        }
        if stabilizing || rewrite, let replaced = try stabilized(op, inputs, name: name, gradient: gradient) {
            return replaced
        }
        var op = op
        var inputs = inputs
        if op.isCommutative, inputs[1] < inputs[0] { inputs.swapAt(0, 1) }
        if case .reshape(let target) = op { op = .reshape(try canonicalReshape(target, of: inputs[0])) }
        // Look up before inferring: a node already present was inferred when built.
        let dtype = op.fixedOutputDType ?? nodes[inputs[0].rawValue].dtype
        let key = Key(op: op, inputs: inputs, dtype: dtype)
        if let existing = index[key] { return existing }
        let (inferred, shape) = try infer(op, inputs)
        guard inferred == dtype else {
            throw GraphError("\(op.name): inferred dtype \(inferred), expected \(dtype)", kind: .dtypeMismatch)
        }
        let id = NodeID(nodes.count)
        nodes.append(Node(op: op, inputs: inputs, dtype: dtype, shape: shape, name: name, isGradient: gradient))
        index[key] = id
        return id
    }
}
