import DataflowScheduler
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
///
/// Running is serialised per graph: a call of a compiled `Function`, `value(of:)`,
/// `setValue(_:of:)` and the interpreter's reading of parameters take the graph's run
/// lock, so a parameter is never read or replaced while a program updates it in place,
/// and two functions of one graph called from two threads run one after the other.
public final class Graph: Sendable {
    let storage: Lock<GraphStorage>
    /// Held for the whole of a compiled call and around every public read or write
    /// of a parameter's value (see the type's documentation). Never taken while
    /// `storage` is held.
    let runLock = Lock<Void>(())

    /// An empty graph.
    ///
    /// - Parameter stabilizing: apply the stabilising rewrites as nodes are built.
    public init(stabilizing: Bool = true) {
        storage = Lock(GraphStorage(stabilizing: stabilizing))
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
    /// - Throws: `GraphError` (`.foreignTensor`) if the graph has no node `id`.
    public func node(_ id: NodeID) throws -> Node {
        try storage.withLock { s throws(GraphError) in
            guard id.rawValue >= 0 && id.rawValue < s.nodes.count else {
                throw GraphError("Graph.node: no node \(id) (the graph has \(s.nodes.count) nodes)", kind: .foreignTensor)
            }
            return s.nodes[id.rawValue]
        }
    }

    /// The node `id` of a `Tensor` or an IR value (valid by construction).
    func storedNode(_ id: NodeID) -> Node {
        storage.withLock { $0.nodes[id.rawValue] }
    }

    /// The tensor for node `id` of this graph.
    /// - Throws: `GraphError` (`.foreignTensor`) if the graph has no node `id`.
    public func tensor(_ id: NodeID) throws -> Tensor {
        let count = nodeCount
        guard id.rawValue >= 0 && id.rawValue < count else {
            throw GraphError("Graph.tensor: no node \(id) (the graph has \(count) nodes)", kind: .foreignTensor)
        }
        return Tensor(graph: self, id: id)
    }

    /// `name`, or `op#id` for an unnamed node: how errors and DOT name a node.
    /// - Throws: `GraphError` (`.foreignTensor`) if the graph has no node `id`.
    public func label(_ id: NodeID) throws -> String {
        try storage.withLock { s throws(GraphError) in
            guard id.rawValue >= 0 && id.rawValue < s.nodes.count else {
                throw GraphError("Graph.label: no node \(id) (the graph has \(s.nodes.count) nodes)", kind: .foreignTensor)
            }
            return s.label(id)
        }
    }

    /// The label of node `id` of a `Tensor` or an IR value (valid by construction).
    func storedLabel(_ id: NodeID) -> String {
        storage.withLock { $0.label(id) }
    }

    /// An input fed by name at each run; `nil` dimensions are known at run time.
    ///
    /// ```swift
    /// let x = try g.placeholder("x", .float32, [nil, 784])
    /// ```
    ///
    /// Declaring the same name again with the same dtype and shape returns the same
    /// tensor.
    /// - Throws: `GraphError` (`.redeclared`) if `name` was declared with another dtype
    ///   or shape; (`.invalidArgument`) for a negative dimension.
    public func placeholder(_ name: String, _ dtype: DType, _ shape: Shape) throws -> Tensor {
        if let bad = shape.dims.first(where: { ($0 ?? 0) < 0 }) {
            throw GraphError("placeholder \"\(name)\": dimension \(bad!) in \(shape) is negative (use nil for a dimension known at run "
                + "time)",
                             kind: .invalidArgument)
        }
        let id = try storage.withLock { s throws(GraphError) -> NodeID in
            if let existing = s.placeholders[name] {
                let n = s.nodes[existing.rawValue]
                guard n.dtype == dtype && n.shape == shape else {
                    throw GraphError("placeholder \"\(name)\" redeclared as \(dtype) \(shape); it is \(n.dtype) \(n.shape)",
                                     kind: .redeclared)
                }
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

    /// The current value of parameter `id`: a value that later updates never change
    /// (copy-on-write: the next in-place update works on a copy).
    /// - Throws: `GraphError` (`.foreignTensor`) if the graph has no parameter `id`.
    public func parameterValue(_ id: ParameterID) throws -> TensorValue {
        try runLock.withLock { _ throws(GraphError) in
            try storage.withLock { s throws(GraphError) in
                guard id.rawValue >= 0 && id.rawValue < s.parameters.count else {
                    throw GraphError("parameterValue: no parameter \(id.rawValue) (the graph has \(s.parameters.count))",
                                     kind: .foreignTensor)
                }
                s.parameters[id.rawValue].shared = true
                return s.parameters[id.rawValue].value
            }
        }
    }

    /// The shape of parameter `id` (no copy-on-write bookkeeping: for the compiler).
    func parameterShape(_ id: ParameterID) -> [Int] {
        storage.withLock { $0.parameters[id.rawValue].value.shape }
    }

    /// Parameter `id`'s value for a program that only reads it during a run (the run
    /// lock is held by the caller; the value is not handed out).
    func parameterForReading(_ id: ParameterID) -> TensorValue {
        storage.withLock { $0.parameters[id.rawValue].value }
    }

    /// Parameter `id`'s value for a program that is about to update it in place (the
    /// run lock is held by the caller): if its buffer was handed out, it is first
    /// replaced by a private copy, so what was handed out keeps its numbers.
    func parameterForWriting(_ id: ParameterID) -> TensorValue {
        storage.withLock { s in
            if s.parameters[id.rawValue].shared {
                s.parameters[id.rawValue].value = s.parameters[id.rawValue].value.copy()
                s.parameters[id.rawValue].shared = false
            }
            return s.parameters[id.rawValue].value
        }
    }

    /// Marks parameter `id`'s current buffer as handed out (an output returned it).
    func markShared(_ id: ParameterID) {
        storage.withLock { $0.parameters[id.rawValue].shared = true }
    }

    /// The readable name of parameter `id`.
    /// - Throws: `GraphError` (`.foreignTensor`) if the graph has no parameter `id`.
    public func parameterName(_ id: ParameterID) throws -> String {
        try storage.withLock { s throws(GraphError) in
            guard id.rawValue >= 0 && id.rawValue < s.parameters.count else {
                throw GraphError("parameterName: no parameter \(id.rawValue) (the graph has \(s.parameters.count))",
                                 kind: .foreignTensor)
            }
            return s.parameters[id.rawValue].name
        }
    }

    /// The value of constant `id`.
    /// - Throws: `GraphError` (`.foreignTensor`) if the graph has no constant `id`.
    public func constantValue(_ id: ConstantID) throws -> TensorValue {
        try storage.withLock { s throws(GraphError) in
            guard id.rawValue >= 0 && id.rawValue < s.constants.count else {
                throw GraphError("constantValue: no constant \(id.rawValue) (the graph has \(s.constants.count))",
                                 kind: .foreignTensor)
            }
            return s.constants[id.rawValue]
        }
    }

    /// Constant `id`'s value, for the compiler (ids come from the graph's own nodes).
    func constantForCompiler(_ id: ConstantID) -> TensorValue {
        storage.withLock { $0.constants[id.rawValue] }
    }

    /// The current value of a parameter tensor.
    ///
    /// The value is a snapshot: later training steps do not change it (the step that
    /// next updates the parameter in place first makes its own copy). If a compiled
    /// function of this graph is running, waits for it to finish.
    ///
    /// ```swift
    /// let before = try g.value(of: w)
    /// _ = try step(feeds)          // updates w
    /// before                       // still the old numbers
    /// ```
    /// - Throws: `GraphError` if `parameter` is not a parameter of this graph.
    public func value(of parameter: Tensor) throws -> TensorValue {
        let pid = try parameterID(of: parameter, in: "value(of:)")
        return try parameterValue(pid)
    }

    /// Replaces a parameter's value (the new buffer is shared, not copied: a program
    /// that later updates the parameter in place works on its own copy, so `value`
    /// keeps its numbers). If a compiled function of this graph is running, waits for
    /// it to finish.
    /// - Throws: `GraphError` naming the parameter if `value` has another shape or
    ///   dtype, or if `parameter` is not a parameter of this graph.
    public func setValue(_ value: TensorValue, of parameter: Tensor) throws {
        let pid = try parameterID(of: parameter, in: "setValue")
        try runLock.withLock { _ throws(GraphError) in
            try storage.withLock { s throws(GraphError) in
                let old = s.parameters[pid.rawValue]
                guard old.value.shape == value.shape, old.value.dtype == value.dtype else {
                    throw GraphError("setValue: parameter \(old.name) is \(old.value.dtype) \(Shape.describe(old.value.shape)); "
                                     + "got \(value.dtype) \(Shape.describe(value.shape))",
                                     kind: old.value.dtype == value.dtype ? .shapeMismatch : .dtypeMismatch)
                }
                s.parameters[pid.rawValue].value = value
                s.parameters[pid.rawValue].shared = true
            }
        }
    }

    func parameterID(of tensor: Tensor, in function: String) throws -> ParameterID {
        guard tensor.graph === self else {
            throw GraphError("\(function): \(tensor.label) belongs to another graph", kind: .foreignTensor)
        }
        guard case .parameter(let pid) = storedNode(tensor.id).op else {
            throw GraphError("\(function): \(tensor.label) is a \(storedNode(tensor.id).op.name), not a parameter", kind: .notAParameter)
        }
        return pid
    }
}
