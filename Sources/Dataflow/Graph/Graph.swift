import Synchronization

/// A symbolic tensor program: hash-consed nodes in topological order, plus the
/// values of its parameters and constants.
///
/// Building is internally synchronised (a mutex), so several threads may add nodes;
/// node ids are then assigned in lock order.
///
/// ```swift
/// let g = Graph()
/// let x = g.placeholder("x", .float32, [nil, 784])
/// let w = g.parameter("w", .uniform([784, 10], .float32, seed: 1))
/// let b = g.parameter("b", .zeros([10], .float32))
/// let p = try softmax(x • w + b)
/// ```
///
/// By default the graph stabilises at construction: `log(softmax(z))` is built as
/// `logSoftmax(z)`, and `-mean(gatherLabels(logSoftmax(z), y))` as
/// `crossEntropy(z, y)`. `Graph(stabilizing: false)` builds exactly what is
/// written; `stabilize(_:)` applies the same rewrites later.
public final class Graph: Sendable {
    let storage: Mutex<GraphStorage>

    /// An empty graph.
    ///
    /// - Parameter stabilizing: apply the stabilising rewrites as nodes are built.
    public init(stabilizing: Bool = true) {
        storage = Mutex(GraphStorage(stabilizing: stabilizing))
    }

    /// Runs `body` with the storage locked.
    func withStorage<R>(_ body: (inout GraphStorage) throws -> R) rethrows -> R {
        try storage.withLock { (s: inout GraphStorage) throws -> R in try body(&s) }
    }

    /// All nodes, in id (topological) order. A snapshot: O(1), copied on the next write.
    public var nodes: [Node] { storage.withLock { $0.nodes } }

    /// The number of nodes.
    public var nodeCount: Int { storage.withLock { $0.nodes.count } }

    /// The node with id `id`.
    public func node(_ id: NodeID) -> Node {
        storage.withLock { $0.nodes[id.rawValue] }
    }

    /// The tensor for node `id` of this graph.
    public func tensor(_ id: NodeID) -> Tensor {
        precondition(id.rawValue >= 0 && id.rawValue < nodeCount, "Graph.tensor: no node \(id)")
        return Tensor(graph: self, id: id)
    }

    /// `name`, or `op#id` for an unnamed node: how errors and DOT name a node.
    public func label(_ id: NodeID) -> String {
        storage.withLock { $0.label(id) }
    }

    /// An input fed by name at each run; `nil` dimensions are known at run time.
    ///
    /// Declaring the same name again with the same dtype and shape returns the same
    /// tensor.
    /// - Precondition: a name is not redeclared with another dtype or shape.
    public func placeholder(_ name: String, _ dtype: DType, _ shape: Shape) -> Tensor {
        let id = storage.withLock { s -> NodeID in
            if let existing = s.placeholders[name] {
                let n = s.nodes[existing.rawValue]
                precondition(n.dtype == dtype && n.shape == shape,
                             "placeholder \"\(name)\" redeclared as \(dtype) \(shape); it is \(n.dtype) \(n.shape)")
                return existing
            }
            let id = s.appendLeaf(.placeholder(name), dtype: dtype, shape: shape, name: name)
            s.placeholders[name] = id
            return id
        }
        return Tensor(graph: self, id: id)
    }

    /// A parameter holding `value` across runs, like a Theano shared variable. The
    /// value's buffer is shared, not copied.
    public func parameter(_ name: String, _ value: TensorValue) -> Tensor {
        let id = storage.withLock { s -> NodeID in
            let pid = ParameterID(s.parameters.count)
            let id = s.appendLeaf(.parameter(pid), dtype: value.dtype, shape: Shape(value.shape), name: name)
            s.parameters.append(.init(name: name, value: value, node: id))
            return id
        }
        return Tensor(graph: self, id: id)
    }

    /// A fixed value (shared, not copied).
    public func constant(_ value: TensorValue, name: String? = nil) -> Tensor {
        let id = storage.withLock { s -> NodeID in
            let cid = ConstantID(s.constants.count)
            s.constants.append(value)
            return s.appendLeaf(.constant(cid), dtype: value.dtype, shape: Shape(value.shape), name: name)
        }
        return Tensor(graph: self, id: id)
    }

    /// The rank-0 constant `value` of type `dtype` (hash-consed).
    public func scalar(_ value: Double, _ dtype: DType = .float32) -> Tensor {
        Tensor(graph: self, id: storage.withLock { $0.scalar(value, dtype) })
    }

    /// The hash-consed node computing `op` on `inputs`, for the compiler's rewrites.
    ///
    /// Applies shape inference and, if the graph stabilises at construction, the
    /// stabilising rewrites. Leaves other than `.scalar` (created as float32) are
    /// refused: use `placeholder`, `parameter`, `constant`, `scalar(_:_:)`.
    /// - Throws: `GraphError` naming the inputs on a wrong count, dtype or shape.
    public func apply(_ op: Op, _ inputs: [NodeID], name: String? = nil) throws -> NodeID {
        try withStorage { try $0.make(op, inputs, name: name) }
    }

    /// All parameters, in creation order.
    public var parameters: [Tensor] {
        storage.withLock { s in s.parameters.map(\.node) }.map { Tensor(graph: self, id: $0) }
    }

    /// The current value of parameter `id`.
    public func parameterValue(_ id: ParameterID) -> TensorValue {
        storage.withLock { $0.parameters[id.rawValue].value }
    }

    /// The readable name of parameter `id`.
    public func parameterName(_ id: ParameterID) -> String {
        storage.withLock { $0.parameters[id.rawValue].name }
    }

    /// The value of constant `id`.
    public func constantValue(_ id: ConstantID) -> TensorValue {
        storage.withLock { $0.constants[id.rawValue] }
    }

    /// The current value of a parameter tensor.
    /// - Throws: `GraphError` if `parameter` is not a parameter of this graph.
    public func value(of parameter: Tensor) throws -> TensorValue {
        let pid = try parameterID(of: parameter, in: "value(of:)")
        return parameterValue(pid)
    }

    /// Replaces a parameter's value (the new buffer is shared, not copied).
    /// - Throws: `GraphError` naming the parameter if `value` has another shape or
    ///   dtype, or if `parameter` is not a parameter of this graph.
    public func setValue(_ value: TensorValue, of parameter: Tensor) throws {
        let pid = try parameterID(of: parameter, in: "setValue")
        try storage.withLock { s in
            let old = s.parameters[pid.rawValue]
            guard old.value.shape == value.shape, old.value.dtype == value.dtype else {
                throw GraphError("setValue: parameter \(old.name) is \(old.value.dtype) \(Shape.describe(old.value.shape)); got \(value.dtype) \(Shape.describe(value.shape))")
            }
            s.parameters[pid.rawValue].value = value
        }
    }

    func parameterID(of tensor: Tensor, in function: String) throws -> ParameterID {
        guard tensor.graph === self else {
            throw GraphError("\(function): \(tensor.label) belongs to another graph")
        }
        guard case .parameter(let pid) = node(tensor.id).op else {
            throw GraphError("\(function): \(tensor.label) is a \(node(tensor.id).op.name), not a parameter")
        }
        return pid
    }
}
