// Optimizers as gradient transformations built into the compiled program (optax's
// `GradientTransformation`, torch.optim's update rules). Goals, in order:
//   1. the formulas of torch.optim, one line each in every type's documentation,
//      checked against torch.optim in float64 (Benchmarks/peers/optim_check.py);
//   2. no hidden mutable state: an optimizer is a value; the state it needs
//      (momentum buffers, Adam's moments, the step counter) is made of graph
//      parameters it creates and returns, so checkpoints save and restore it;
//   3. updates that run in place: the parameter's own update is written as
//      `p − s·u` with `s` rank 0 wherever the rule allows (the compiler's `axpy`).

/// A training rule that turns parameters and their gradients into parameter updates,
/// built as nodes of the parameters' graph so that the whole step runs inside one
/// compiled program.
///
/// ```swift
/// let optimizer = Adam(learningRate: 1e-3)
/// let step = try optimizer.minimize(loss, parameters: [w1, b1, w2, b2])
/// let train = try compile(inputs: [x, y], outputs: [loss], updates: step.updates)
/// for batch in batches { _ = try train(["x": batch.x, "y": batch.y]) }
/// ```
///
/// Conforming types are values with no mutable state: every call of
/// `updates(for:gradients:)` creates a fresh set of state parameters in the graph
/// (named after the parameters, e.g. `adam.m.w1`), so call it once per training
/// program. All parameters of one call must share one floating-point dtype.
public protocol Optimizer: Sendable {
    /// The updates of one training step.
    ///
    /// - Parameters:
    ///   - parameters: the parameters to train (graph parameters, one dtype).
    ///   - gradients: one gradient per parameter, of the parameter's shape and dtype.
    /// - Returns: the parameter updates (the parameters' and the state's) and the
    ///   state parameters created.
    /// - Throws: `GraphError`: `.wrongInputCount` if the counts differ,
    ///   `.notAParameter`, `.shapeMismatch`/`.dtypeMismatch` for a gradient that does
    ///   not fit its parameter or mixed dtypes, `.invalidArgument` for a hyperparameter
    ///   out of range, `.foreignTensor` for tensors of different graphs.
    func updates(for parameters: [Tensor], gradients: [Tensor]) throws -> OptimizerStep
}

extension Optimizer {
    /// The updates that take one step down the gradient of `loss`: `grad` with
    /// respect to all `parameters` jointly, then `updates(for:gradients:)`.
    ///
    /// ```swift
    /// let step = try SGD(learningRate: 0.1, momentum: 0.9).minimize(loss, parameters: [w, b])
    /// let train = try compile(inputs: [x, y], outputs: [loss], updates: step.updates)
    /// ```
    ///
    /// - Parameters:
    ///   - loss: a rank-0 floating-point tensor.
    ///   - parameters: the parameters to train.
    /// - Returns: the updates and the state parameters created.
    /// - Throws: `GraphError` from `grad(of:wrt:)` (e.g. a parameter the loss does
    ///   not depend on) or from `updates(for:gradients:)`.
    public func minimize(_ loss: Tensor, parameters: [Tensor]) throws -> OptimizerStep {
        let gradients = try grad(of: loss, wrt: parameters)
        return try updates(for: parameters, gradients: gradients)
    }

    /// This optimizer with `transform` applied to the gradients first (optax's
    /// `chain`).
    ///
    /// ```swift
    /// let optimizer = Adam(learningRate: 1e-3).after(ClipGradientNorm(maxNorm: 1))
    /// ```
    ///
    /// - Parameter transform: the gradient transformation to apply first.
    /// - Returns: the composed optimizer.
    public func after(_ transform: any GradientTransformation) -> ChainedOptimizer {
        ChainedOptimizer(transform: transform, optimizer: self)
    }

    /// This optimizer with its gradients first clipped to a global norm of at most
    /// `maxNorm` (`torch.nn.utils.clip_grad_norm_`).
    ///
    /// ```swift
    /// let optimizer = SGD(learningRate: 0.1).clippingGradientNorm(to: 1)
    /// ```
    ///
    /// - Parameter maxNorm: the largest global L2 norm of the gradients (> 0).
    /// - Returns: the composed optimizer; an invalid `maxNorm` throws when its
    ///   updates are built.
    public func clippingGradientNorm(to maxNorm: Double) -> ChainedOptimizer {
        after(ClipGradientNorm(maxNorm: maxNorm))
    }
}
