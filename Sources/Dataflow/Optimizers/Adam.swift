/// Adam (Kingma & Ba, 2015) with torch.optim's bias correction and optional L2
/// weight decay added to the gradient (`torch.optim.Adam`).
///
/// torch.optim.Adam, one line:
/// `g ← g + wd·p; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·m̂/(√v̂ + ε)`
/// with `m̂ = m/(1−β1^t)`, `v̂ = v/(1−β2^t)` and `t` the new step count.
///
/// ```swift
/// let step = try Adam(learningRate: 1e-3).minimize(loss, parameters: [w, b])
/// let train = try compile(inputs: [x, y], outputs: [loss], updates: step.updates)
/// ```
///
/// As torch does, the step is computed as `p − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + ε)`,
/// whose factor `lr/(1−β1^t)` is rank 0, so the parameter's update runs in place.
/// `β^t` is not computed with `pow`: it is kept as state, `β1^t ← β1^{t−1}·β1`
/// (torch evaluates `β1 ** t`; the two differ by a few ulps).
///
/// State: `<name>.t` (the step count), `<name>.beta1Power`, `<name>.beta2Power`
/// (rank 0), and `<name>.m.<parameter>`, `<name>.v.<parameter>` per parameter. In
/// float32 the step count is exact up to 2^24 steps.
public struct Adam: Optimizer {
    /// The step size: a `Double` or a rank-0 tensor (placeholder or parameter).
    public var learningRate: any ScalarHyperparameter
    /// β1, the decay of the first moment, in [0, 1).
    public var beta1: Double
    /// β2, the decay of the second moment, in [0, 1).
    public var beta2: Double
    /// ε ≥ 0, added to the denominator.
    public var epsilon: Double
    /// L2 penalty `wd` ≥ 0, added to the gradient as `wd·p` (torch's `weight_decay`).
    public var weightDecay: Double
    /// The prefix of the state parameters' names.
    public var name: String

    /// Adam with the given hyperparameters (torch's defaults; checked when the
    /// updates are built).
    ///
    /// ```swift
    /// let adam = Adam(learningRate: 1e-3, beta1: 0.9, beta2: 0.999)
    /// ```
    ///
    /// - Parameters:
    ///   - learningRate: `lr` ≥ 0, a `Double` or a rank-0 tensor of the parameters' dtype.
    ///   - beta1: β1 in [0, 1).
    ///   - beta2: β2 in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - weightDecay: `wd` ≥ 0 (L2, coupled with the gradient).
    ///   - name: the prefix of the state parameters' names.
    public init(learningRate: any ScalarHyperparameter = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0, name: String = "adam") {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.name = name
    }

    /// The Adam updates of one step (see the type's documentation).
    ///
    /// ```swift
    /// let step = try Adam().updates(for: [w], gradients: [try grad(of: loss, wrt: w)])
    /// ```
    ///
    /// - Parameters:
    ///   - parameters: the parameters to train (one floating-point dtype).
    ///   - gradients: their gradients.
    /// - Returns: one update per parameter, then the state's; the state parameters.
    /// - Throws: `GraphError`, as `Optimizer.updates(for:gradients:)`; `.invalidArgument`
    ///   for a hyperparameter out of range.
    public func updates(for parameters: [Tensor], gradients: [Tensor]) throws -> OptimizerStep {
        try adamUpdates(parameters, gradients, learningRate: learningRate, beta1: beta1, beta2: beta2,
                        epsilon: epsilon, weightDecay: weightDecay, decoupled: false, prefix: name, optimizer: "Adam")
    }
}

/// AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay
/// (`torch.optim.AdamW`).
///
/// torch.optim.AdamW, one line:
/// `p ← p − lr·wd·p; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·m̂/(√v̂ + ε)`
/// with `m̂ = m/(1−β1^t)`, `v̂ = v/(1−β2^t)`.
///
/// ```swift
/// let step = try AdamW(learningRate: 1e-3, weightDecay: 0.01).minimize(loss, parameters: [w, b])
/// ```
///
/// The decay is applied as torch does, `p·(1 − lr·wd)` before the Adam step; with
/// `weightDecay > 0` the update reads `p` twice, so it is not an in-place `axpy`
/// (the compiler stages it). State as `Adam`, prefixed "adamw".
public struct AdamW: Optimizer {
    /// The step size: a `Double` or a rank-0 tensor (placeholder or parameter).
    public var learningRate: any ScalarHyperparameter
    /// β1, the decay of the first moment, in [0, 1).
    public var beta1: Double
    /// β2, the decay of the second moment, in [0, 1).
    public var beta2: Double
    /// ε ≥ 0, added to the denominator.
    public var epsilon: Double
    /// Decoupled decay `wd` ≥ 0: `p ← p·(1 − lr·wd)` each step.
    public var weightDecay: Double
    /// The prefix of the state parameters' names.
    public var name: String

    /// AdamW with the given hyperparameters (torch's defaults; checked when the
    /// updates are built).
    ///
    /// ```swift
    /// let adamw = AdamW(learningRate: 3e-4, weightDecay: 0.1)
    /// ```
    ///
    /// - Parameters:
    ///   - learningRate: `lr` ≥ 0, a `Double` or a rank-0 tensor of the parameters' dtype.
    ///   - beta1: β1 in [0, 1).
    ///   - beta2: β2 in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - weightDecay: `wd` ≥ 0 (decoupled).
    ///   - name: the prefix of the state parameters' names.
    public init(learningRate: any ScalarHyperparameter = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 1e-2, name: String = "adamw") {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.name = name
    }

    /// The AdamW updates of one step (see the type's documentation).
    ///
    /// ```swift
    /// let step = try AdamW().updates(for: [w], gradients: [try grad(of: loss, wrt: w)])
    /// ```
    ///
    /// - Parameters:
    ///   - parameters: the parameters to train (one floating-point dtype).
    ///   - gradients: their gradients.
    /// - Returns: one update per parameter, then the state's; the state parameters.
    /// - Throws: `GraphError`, as `Optimizer.updates(for:gradients:)`; `.invalidArgument`
    ///   for a hyperparameter out of range.
    public func updates(for parameters: [Tensor], gradients: [Tensor]) throws -> OptimizerStep {
        try adamUpdates(parameters, gradients, learningRate: learningRate, beta1: beta1, beta2: beta2,
                        epsilon: epsilon, weightDecay: weightDecay, decoupled: true, prefix: name, optimizer: "AdamW")
    }
}

/// Adam's and AdamW's step, written as torch's `_single_tensor_adam`:
/// `step_size = lr/bc1`, `denom = √v/√bc2 + ε`, `p ← p − step_size·(m/denom)`.
private func adamUpdates(_ parameters: [Tensor], _ gradients: [Tensor], learningRate: any ScalarHyperparameter,
                         beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double, decoupled: Bool,
                         prefix: String, optimizer: String) throws -> OptimizerStep {
    try checkHyperparameter(beta1, "beta1", optimizer, below: 1)
    try checkHyperparameter(beta2, "beta2", optimizer, below: 1)
    try checkHyperparameter(epsilon, "epsilon", optimizer)
    try checkHyperparameter(weightDecay, "weight decay", optimizer)
    guard var context = try OptimizerContext(parameters: parameters, gradients: gradients,
                                             prefix: prefix, optimizer: optimizer) else { return OptimizerStep() }
    let lr = try context.hyperparameter(learningRate, "\(optimizer) learning rate")
    let t = context.scalarState("t", initial: 0)
    let beta1Power = context.scalarState("beta1Power", initial: 1)
    let beta2Power = context.scalarState("beta2Power", initial: 1)
    let newT = try t + 1
    let newBeta1Power = try beta1Power * beta1
    let newBeta2Power = try beta2Power * beta2
    var stateUpdates = [ParameterUpdate(t, newT), ParameterUpdate(beta1Power, newBeta1Power),
                        ParameterUpdate(beta2Power, newBeta2Power)]
    let stepSize = try lr / (1 - newBeta1Power)
    let correction2Root = try sqrt(1 - newBeta2Power)
    // AdamW's factor 1 − lr·wd: in Double for a constant rate (as torch's Python float).
    let decay: Tensor? = !decoupled || weightDecay == 0 ? nil
        : try (learningRate as? Double).map { context.scalar(1 - $0 * weightDecay) } ?? (1 - lr * weightDecay)
    var parameterUpdates: [ParameterUpdate] = []
    for (i, (p, gradient)) in zip(parameters, gradients).enumerated() {
        var g = gradient
        if !decoupled && weightDecay != 0 { g = try g + p * weightDecay }
        let m = try context.buffer("m", like: i)
        let v = try context.buffer("v", like: i)
        let newM = try m * beta1 + g * (1 - beta1)
        let newV = try v * beta2 + square(g) * (1 - beta2)
        stateUpdates += [ParameterUpdate(m, newM), ParameterUpdate(v, newV)]
        let denominator = try sqrt(newV) / correction2Root + epsilon
        let base = try decay.map { try p * $0 } ?? p
        parameterUpdates.append(ParameterUpdate(p, try base - stepSize * (newM / denominator)))
    }
    return OptimizerStep(updates: parameterUpdates + stateUpdates, state: context.state)
}
