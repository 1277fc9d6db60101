/// A rank-0 hyperparameter such as a learning rate: a `Double` constant, or a
/// rank-0 `Tensor` of the parameters' graph and dtype (a placeholder fed at each
/// call, or a parameter), so that a schedule can change it between calls without
/// recompiling.
///
/// ```swift
/// let fixed = SGD(learningRate: 0.1)
/// let lr = try g.placeholder("lr", .float64, [])
/// let scheduled = SGD(learningRate: lr)          // feed ["lr": TensorValue(scalar: 0.05, .float64)]
/// ```
public protocol ScalarHyperparameter: Sendable {
    /// The hyperparameter as a rank-0 tensor of `dtype` in `graph`.
    ///
    /// - Parameters:
    ///   - graph: the graph of the parameters.
    ///   - dtype: the parameters' dtype.
    ///   - name: what the hyperparameter is, for error messages (e.g. "SGD learning rate").
    /// - Returns: a rank-0 tensor.
    /// - Throws: `GraphError` (`.invalidArgument`) for a negative or non-finite
    ///   constant, or a tensor that is not rank 0; `.dtypeMismatch`; `.foreignTensor`.
    func scalarTensor(in graph: Graph, dtype: DType, name: String) throws -> Tensor
}

extension Double: ScalarHyperparameter {
    /// `graph.scalar(self, dtype)`, after checking that the value is finite and ≥ 0.
    ///
    /// ```swift
    /// let lr = try 0.01.scalarTensor(in: g, dtype: .float32, name: "learning rate")
    /// ```
    ///
    /// - Parameters:
    ///   - graph: the graph of the parameters.
    ///   - dtype: the parameters' dtype.
    ///   - name: what the hyperparameter is, for error messages.
    /// - Returns: the hash-consed rank-0 constant.
    /// - Throws: `GraphError` (`.invalidArgument`) for a negative or non-finite value.
    public func scalarTensor(in graph: Graph, dtype: DType, name: String) throws -> Tensor {
        guard isFinite && self >= 0 else {
            throw GraphError("\(name) \(self) must be finite and ≥ 0", kind: .invalidArgument)
        }
        return graph.scalar(self, dtype)
    }
}

extension Tensor: ScalarHyperparameter {
    /// The tensor itself, after checking its graph, rank and dtype.
    ///
    /// ```swift
    /// let lr = try g.placeholder("lr", .float32, [])
    /// _ = try lr.scalarTensor(in: g, dtype: .float32, name: "learning rate")   // lr
    /// ```
    ///
    /// - Parameters:
    ///   - graph: the graph of the parameters.
    ///   - dtype: the parameters' dtype.
    ///   - name: what the hyperparameter is, for error messages.
    /// - Returns: `self`.
    /// - Throws: `GraphError`: `.foreignTensor` for a tensor of another graph,
    ///   `.invalidArgument` if it is not rank 0, `.dtypeMismatch` for another dtype.
    public func scalarTensor(in graph: Graph, dtype: DType, name: String) throws -> Tensor {
        guard self.graph === graph else {
            throw GraphError("\(name) \(label) belongs to another graph than the parameters", kind: .foreignTensor)
        }
        guard shape.rank == 0 else {
            throw GraphError("\(name) \(label) must be rank 0; it is \(shape)", kind: .invalidArgument)
        }
        guard self.dtype == dtype else {
            throw GraphError("\(name) \(label) is \(self.dtype); the parameters are \(dtype)", kind: .dtypeMismatch)
        }
        return self
    }
}
