/// A transformation of gradients applied before an optimizer (optax's
/// `GradientTransformation`): clipping, scaling, noise. Like an optimizer it is a
/// value; any state it needs is made of graph parameters it returns.
///
/// ```swift
/// let optimizer = SGD(learningRate: 0.1).after(ClipGradientNorm(maxNorm: 1))
/// ```
public protocol GradientTransformation: Sendable {
    /// The transformed gradients, with the state updates and parameters it adds.
    ///
    /// - Parameters:
    ///   - gradients: one gradient per parameter.
    ///   - parameters: the parameters, checked to fit the gradients by the caller.
    /// - Returns: the new gradients (one per parameter) and any state.
    /// - Throws: `GraphError` for an invalid hyperparameter or graph error.
    func transform(gradients: [Tensor], parameters: [Tensor]) throws -> TransformedGradients
}

/// What a `GradientTransformation` returns: new gradients, plus the updates and
/// state parameters it added (none for a stateless transformation).
public struct TransformedGradients: Sendable {
    /// One gradient per parameter.
    public var gradients: [Tensor]
    /// Updates of the transformation's own state.
    public var updates: [ParameterUpdate]
    /// The state parameters it created.
    public var state: [Tensor]

    /// Transformed gradients.
    ///
    /// - Parameters:
    ///   - gradients: one gradient per parameter.
    ///   - updates: updates of the transformation's state.
    ///   - state: the state parameters it created.
    public init(gradients: [Tensor], updates: [ParameterUpdate] = [], state: [Tensor] = []) {
        self.gradients = gradients
        self.updates = updates
        self.state = state
    }
}

/// An optimizer that runs a gradient transformation first: `optimizer` sees the
/// transformed gradients (optax's `chain(transform, optimizer)`).
///
/// ```swift
/// let optimizer = ChainedOptimizer(transform: ClipGradientNorm(maxNorm: 1), optimizer: Adam())
/// let step = try optimizer.minimize(loss, parameters: [w, b])
/// ```
public struct ChainedOptimizer: Optimizer {
    /// Applied to the gradients first.
    public var transform: any GradientTransformation
    /// Applied to the transformed gradients.
    public var optimizer: any Optimizer

    /// `optimizer` after `transform`.
    ///
    /// - Parameters:
    ///   - transform: the gradient transformation to apply first.
    ///   - optimizer: the optimizer to run on its output.
    public init(transform: any GradientTransformation, optimizer: any Optimizer) {
        self.transform = transform
        self.optimizer = optimizer
    }

    /// The transformation's gradients fed to the optimizer; the updates and state
    /// of both (the optimizer's first).
    ///
    /// ```swift
    /// let step = try Adam().clippingGradientNorm(to: 1).updates(for: [w], gradients: [gw])
    /// ```
    ///
    /// - Parameters:
    ///   - parameters: the parameters to train.
    ///   - gradients: their gradients.
    /// - Returns: the optimizer's updates and state, then the transformation's.
    /// - Throws: `GraphError` from either.
    public func updates(for parameters: [Tensor], gradients: [Tensor]) throws -> OptimizerStep {
        guard parameters.count == gradients.count else {
            throw GraphError("ChainedOptimizer: \(parameters.count) parameters but \(gradients.count) gradients",
                             kind: .wrongInputCount)
        }
        let transformed = try transform.transform(gradients: gradients, parameters: parameters)
        guard transformed.gradients.count == gradients.count else {
            throw GraphError("ChainedOptimizer: \(type(of: transform)) returned \(transformed.gradients.count) gradients "
                             + "for \(gradients.count) parameters", kind: .wrongInputCount)
        }
        let step = try optimizer.updates(for: parameters, gradients: transformed.gradients)
        return OptimizerStep(updates: step.updates + transformed.updates, state: step.state + transformed.state)
    }
}
