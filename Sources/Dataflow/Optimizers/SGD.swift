/// Stochastic gradient descent, with optional momentum, Nesterov momentum and L2
/// weight decay (`torch.optim.SGD` without dampening).
///
/// torch.optim.SGD, one line: `g ← g + wd·p; buf ← μ·buf + g; d = nesterov ? g + μ·buf : buf; p ← p − lr·d`
/// (without momentum `d = g`). The buffer starts at zero, so the first step gives
/// `buf = g` exactly, as torch's `clone(g)`.
///
/// ```swift
/// let step = try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true).minimize(loss, parameters: [w, b])
/// let train = try compile(inputs: [x, y], outputs: [loss], updates: step.updates)
/// ```
///
/// Every parameter's update has the form `p − lr·d` with `lr` rank 0, so it runs in
/// place (an `axpy` on the parameter's buffer). State: one buffer per parameter,
/// `<name>.momentum.<parameter>`, when `momentum > 0`; none otherwise.
public struct SGD: Optimizer {
    /// The step size: a `Double` or a rank-0 tensor (placeholder or parameter).
    public var learningRate: any ScalarHyperparameter
    /// The momentum factor μ ≥ 0 (0: plain SGD, no state).
    public var momentum: Double
    /// L2 penalty `wd`, added to the gradient as `wd·p` (torch's `weight_decay`).
    public var weightDecay: Double
    /// Nesterov momentum (needs `momentum > 0`).
    public var nesterov: Bool
    /// The prefix of the state parameters' names.
    public var name: String

    /// SGD with the given hyperparameters (checked when the updates are built).
    ///
    /// ```swift
    /// let sgd = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
    /// ```
    ///
    /// - Parameters:
    ///   - learningRate: `lr` ≥ 0, a `Double` or a rank-0 tensor of the parameters' dtype.
    ///   - momentum: μ ≥ 0.
    ///   - weightDecay: `wd` ≥ 0.
    ///   - nesterov: use Nesterov momentum (`momentum` must be > 0).
    ///   - name: the prefix of the state parameters' names.
    public init(learningRate: any ScalarHyperparameter, momentum: Double = 0, weightDecay: Double = 0,
                nesterov: Bool = false, name: String = "sgd") {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.name = name
    }

    /// The SGD updates: `p ← p − lr·d`, and `buf ← μ·buf + g` with momentum.
    ///
    /// ```swift
    /// let grads = try grad(of: loss, wrt: [w, b])
    /// let step = try SGD(learningRate: 0.1).updates(for: [w, b], gradients: grads)
    /// ```
    ///
    /// - Parameters:
    ///   - parameters: the parameters to train (one floating-point dtype).
    ///   - gradients: their gradients.
    /// - Returns: one update per parameter (then one per momentum buffer) and the buffers.
    /// - Throws: `GraphError`, as `Optimizer.updates(for:gradients:)`; `.invalidArgument`
    ///   for a negative or non-finite hyperparameter or `nesterov` without momentum.
    public func updates(for parameters: [Tensor], gradients: [Tensor]) throws -> OptimizerStep {
        try checkHyperparameter(momentum, "momentum", "SGD")
        try checkHyperparameter(weightDecay, "weight decay", "SGD")
        guard !nesterov || momentum > 0 else {
            throw GraphError("SGD: Nesterov momentum requires momentum > 0", kind: .invalidArgument)
        }
        guard var context = try OptimizerContext(parameters: parameters, gradients: gradients,
                                                 prefix: name, optimizer: "SGD") else { return OptimizerStep() }
        let lr = try context.hyperparameter(learningRate, "SGD learning rate")
        var parameterUpdates: [ParameterUpdate] = [], stateUpdates: [ParameterUpdate] = []
        for (i, (p, gradient)) in zip(parameters, gradients).enumerated() {
            var g = gradient
            if weightDecay != 0 { g = try g + p * weightDecay }
            var direction = g
            if momentum != 0 {
                let buffer = try context.buffer("momentum", like: i)
                let newBuffer = try buffer * momentum + g
                stateUpdates.append(ParameterUpdate(buffer, newBuffer))
                direction = nesterov ? try g + newBuffer * momentum : newBuffer
            }
            parameterUpdates.append(ParameterUpdate(p, try p - lr * direction))
        }
        return OptimizerStep(updates: parameterUpdates + stateUpdates, state: context.state)
    }
}
