/// RMSProp (Hinton's lecture 6e), optionally centered and with momentum
/// (`torch.optim.RMSprop`).
///
/// torch.optim.RMSprop, one line: `g ← g + wd·p; v ← α·v + (1−α)·g²; p ← p − lr·g/(√v + ε)`;
/// centered: `ḡ ← α·ḡ + (1−α)·g`, denominator `√(v − ḡ²) + ε`; with momentum μ:
/// `buf ← μ·buf + g/(√v + ε); p ← p − lr·buf`.
///
/// ```swift
/// let step = try RMSProp(learningRate: 1e-2, momentum: 0.9).minimize(loss, parameters: [w, b])
/// let train = try compile(inputs: [x, y], outputs: [loss], updates: step.updates)
/// ```
///
/// The parameter's update is `p − lr·d` with `lr` rank 0, so it runs in place.
/// State per parameter: `<name>.squareAverage.<p>`, and `<name>.gradientAverage.<p>`
/// when centered, `<name>.momentum.<p>` when `momentum > 0`.
public struct RMSProp: Optimizer {
    /// The step size: a `Double` or a rank-0 tensor (placeholder or parameter).
    public var learningRate: any ScalarHyperparameter
    /// α, the decay of the square average, in [0, 1).
    public var alpha: Double
    /// ε ≥ 0, added to the denominator.
    public var epsilon: Double
    /// L2 penalty `wd` ≥ 0, added to the gradient as `wd·p`.
    public var weightDecay: Double
    /// The momentum factor μ ≥ 0.
    public var momentum: Double
    /// Normalise by the variance estimate `v − ḡ²` instead of `v`.
    public var centered: Bool
    /// The prefix of the state parameters' names.
    public var name: String

    /// RMSProp with the given hyperparameters (torch's defaults; checked when the
    /// updates are built).
    ///
    /// ```swift
    /// let rmsprop = RMSProp(learningRate: 1e-3, alpha: 0.9, centered: true)
    /// ```
    ///
    /// - Parameters:
    ///   - learningRate: `lr` ≥ 0, a `Double` or a rank-0 tensor of the parameters' dtype.
    ///   - alpha: α in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - weightDecay: `wd` ≥ 0.
    ///   - momentum: μ ≥ 0.
    ///   - centered: use the centered variance.
    ///   - name: the prefix of the state parameters' names.
    public init(learningRate: any ScalarHyperparameter = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false, name: String = "rmsprop") {
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        self.name = name
    }

    /// The RMSProp updates of one step (see the type's documentation).
    ///
    /// ```swift
    /// let step = try RMSProp().updates(for: [w], gradients: [try grad(of: loss, wrt: w)])
    /// ```
    ///
    /// - Parameters:
    ///   - parameters: the parameters to train (one floating-point dtype).
    ///   - gradients: their gradients.
    /// - Returns: one update per parameter, then the state's; the state parameters.
    /// - Throws: `GraphError`, as `Optimizer.updates(for:gradients:)`; `.invalidArgument`
    ///   for a hyperparameter out of range.
    public func updates(for parameters: [Tensor], gradients: [Tensor]) throws -> OptimizerStep {
        try checkHyperparameter(alpha, "alpha", "RMSProp", below: 1)
        try checkHyperparameter(epsilon, "epsilon", "RMSProp")
        try checkHyperparameter(weightDecay, "weight decay", "RMSProp")
        try checkHyperparameter(momentum, "momentum", "RMSProp")
        guard var context = try OptimizerContext(parameters: parameters, gradients: gradients,
                                                 prefix: name, optimizer: "RMSProp") else { return OptimizerStep() }
        let lr = try context.hyperparameter(learningRate, "RMSProp learning rate")
        var parameterUpdates: [ParameterUpdate] = [], stateUpdates: [ParameterUpdate] = []
        for (i, (p, gradient)) in zip(parameters, gradients).enumerated() {
            var g = gradient
            if weightDecay != 0 { g = try g + p * weightDecay }
            let squareAverage = try context.buffer("squareAverage", like: i)
            let newSquareAverage = try squareAverage * alpha + square(g) * (1 - alpha)
            stateUpdates.append(ParameterUpdate(squareAverage, newSquareAverage))
            var variance = newSquareAverage
            if centered {
                let gradientAverage = try context.buffer("gradientAverage", like: i)
                let newGradientAverage = try gradientAverage * alpha + g * (1 - alpha)
                stateUpdates.append(ParameterUpdate(gradientAverage, newGradientAverage))
                variance = try newSquareAverage - square(newGradientAverage)
            }
            let denominator = try sqrt(variance) + epsilon
            var direction = try g / denominator
            if momentum != 0 {
                let buffer = try context.buffer("momentum", like: i)
                direction = try buffer * momentum + direction
                stateUpdates.append(ParameterUpdate(buffer, direction))
            }
            parameterUpdates.append(ParameterUpdate(p, try p - lr * direction))
        }
        return OptimizerStep(updates: parameterUpdates + stateUpdates, state: context.state)
    }
}
