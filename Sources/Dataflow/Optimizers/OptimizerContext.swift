/// What every optimizer checks and creates: the parameters' graph and dtype, state
/// parameters named after the parameters, rank-0 hyperparameters of that dtype.
struct OptimizerContext {
    let graph: Graph
    let dtype: DType
    /// The optimizer's name prefix, e.g. "adam": state is "adam.m.w1".
    let prefix: String
    /// The parameters' names (their `name`, or `op#id` when unnamed).
    let names: [String]
    /// The parameters' concrete shapes.
    let shapes: [[Int]]
    /// The state parameters created so far, in order.
    private(set) var state: [Tensor] = []

    /// Checks the parameters and gradients; `nil` when there is nothing to train.
    ///
    /// - Throws: `GraphError` as documented by `Optimizer.updates(for:gradients:)`.
    init?(parameters: [Tensor], gradients: [Tensor], prefix: String, optimizer: String) throws {
        guard parameters.count == gradients.count else {
            throw GraphError("\(optimizer): \(parameters.count) parameters but \(gradients.count) gradients",
                             kind: .wrongInputCount)
        }
        guard let first = parameters.first else { return nil }
        let graph = first.graph
        var shapes: [[Int]] = []
        for (p, g) in zip(parameters, gradients) {
            for t in [p, g] where t.graph !== graph {
                throw GraphError("\(optimizer): \(t.label) belongs to another graph than \(first.label)", kind: .foreignTensor)
            }
            // Not `graph.value(of:)`: it would mark the buffer as handed out, and the
            // first in-place update would then copy it.
            guard case .parameter = p.op else {
                throw GraphError("\(optimizer): \(p.label) is a \(p.op.name), not a parameter", kind: .notAParameter)
            }
            let shape = p.shape.dims.compactMap { $0 }
            precondition(shape.count == p.shape.rank, "a parameter's shape is concrete")
            guard p.dtype.isFloatingPoint else {
                throw GraphError("\(optimizer): parameter \(p.label) is \(p.dtype); optimizers train float32 or float64",
                                 kind: .dtypeMismatch)
            }
            guard p.dtype == first.dtype else {
                throw GraphError("\(optimizer): parameter \(p.label) is \(p.dtype) but \(first.label) is \(first.dtype); "
                                 + "one optimizer trains parameters of one dtype", kind: .dtypeMismatch)
            }
            guard g.dtype == p.dtype else {
                throw GraphError("\(optimizer): gradient \(g.label) is \(g.dtype); parameter \(p.label) is \(p.dtype)",
                                 kind: .dtypeMismatch)
            }
            guard g.shape == p.shape else {
                throw GraphError("\(optimizer): gradient \(g.label) \(g.shape) does not fit parameter \(p.label) \(p.shape)",
                                 kind: .shapeMismatch)
            }
            shapes.append(shape)
        }
        guard Set(parameters).count == parameters.count else {
            throw GraphError("\(optimizer): a parameter is listed twice", kind: .invalidArgument)
        }
        self.graph = graph
        self.dtype = first.dtype
        self.prefix = prefix
        self.names = parameters.map { $0.name ?? $0.label }
        self.shapes = shapes
    }

    /// A new zero-filled state parameter shaped like parameter `index`, named
    /// "<prefix>.<kind>.<parameter name>".
    mutating func buffer(_ kind: String, like index: Int) throws -> Tensor {
        let t = graph.parameter("\(prefix).\(kind).\(names[index])", try .zeros(shapes[index], dtype))
        state.append(t)
        return t
    }

    /// A new rank-0 state parameter "<prefix>.<kind>" holding `initial`.
    mutating func scalarState(_ kind: String, initial: Double) -> Tensor {
        let t = graph.parameter("\(prefix).\(kind)", TensorValue(scalar: initial, dtype))
        state.append(t)
        return t
    }

    /// `value` as a rank-0 tensor of the parameters' dtype.
    func scalar(_ value: Double) -> Tensor {
        graph.scalar(value, dtype)
    }

    /// A rank-0 hyperparameter (learning rate) as a tensor of the parameters' dtype.
    func hyperparameter(_ value: any ScalarHyperparameter, _ name: String) throws -> Tensor {
        try value.scalarTensor(in: graph, dtype: dtype, name: name)
    }
}

/// Checks `value` against a closed or half-open range for an optimizer's error.
/// - Throws: `GraphError` (`.invalidArgument`) naming the hyperparameter.
func checkHyperparameter(_ value: Double, _ name: String, _ optimizer: String,
                         atLeast low: Double = 0, below high: Double? = nil) throws {
    let ok = value.isFinite && value >= low && (high.map { value < $0 } ?? true)
    guard ok else {
        let range = high.map { "[\(low), \($0))" } ?? "≥ \(low)"
        throw GraphError("\(optimizer): \(name) \(value) must be finite and in \(range)", kind: .invalidArgument)
    }
}
