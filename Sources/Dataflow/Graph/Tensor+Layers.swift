/// Normalisation and dropout layers, written as compositions of primitive ops (so their
/// gradients, interpreter and compiled forms are those of the primitives):
///
/// - `layerNorm`: `mean`, `square`, `rsqrt`, broadcasting arithmetic;
/// - `batchNorm`: the same over all but the channel axis, plus running averages
///   returned as `ParameterUpdate`s for `compile(…, updates:)`;
/// - `dropout`: `x ⊙ dropoutMask`, the mask drawn by the counter-based generator
///   (Philox4x32-10) keyed by (seed, call counter, element index), the counter being a
///   parameter the program increments, so a step is reproducible and bitwise equal for
///   any worker count (docs/ARCHITECTURE.md; DESIGN "Randomness inside programs").
///
/// ```swift
/// let counter = graph.randomCounter()
/// let h = try dropout(relu(layerNorm(x • w, gain: g, bias: b)), rate: 0.1, seed: 7, counter: counter.tensor)
/// let train = try compile(inputs: [x], outputs: [loss], updates: step.updates + [counter.update])
/// ```

/// What a layer with state adds to a training program: its output and the updates
/// (running averages, counters) to pass to `compile(inputs:outputs:updates:)`.
public struct LayerStep: Sendable {
    /// The layer's output.
    public var output: Tensor
    /// Updates of the layer's state parameters, simultaneous with the optimizer's.
    public var updates: [ParameterUpdate]

    public init(output: Tensor, updates: [ParameterUpdate]) {
        self.output = output
        self.updates = updates
    }
}

/// A call counter for a program's random ops: a rank-0 float64 parameter (exact up to
/// 2⁵³ calls) and the update that adds 1 to it each call.
public struct RandomCounter: Sendable {
    /// The counter, starting at 0.
    public let tensor: Tensor
    /// `counter ← counter + 1`, to pass to `compile(…, updates:)`.
    public let update: ParameterUpdate
}

extension Graph {
    /// A new call counter for `dropout` (see `RandomCounter`).
    ///
    /// ```swift
    /// let counter = graph.randomCounter("rng")
    /// ```
    /// - Parameter name: the parameter's name (saved with the checkpoints, so a resumed
    ///   run continues the random stream).
    public func randomCounter(_ name: String = "random.counter") -> RandomCounter {
        let t = parameter(name, TensorValue(scalar: 0, .float64))
        // `t + 1` of a rank-0 float64 parameter never fails.
        return RandomCounter(tensor: t, update: ParameterUpdate(t, try! t + 1))
    }
}

/// Layer normalisation over the last `axes` axes (Ba et al., 2016; `torch.nn.LayerNorm`):
/// `(x − mean) / √(var + ε) · gain + bias`, with the biased variance.
///
/// ```swift
/// let y = try layerNorm(h, gain: g, bias: b)   // h [n, d], g and b [d]
/// ```
/// - Parameters:
///   - x: a float tensor of rank ≥ `axes`.
///   - gain: optional, shaped like the normalised trailing axes (or broadcasting to them).
///   - bias: optional, shaped like `gain`.
///   - axes: how many trailing axes are normalised together, ≥ 1.
///   - epsilon: ε ≥ 0.
/// - Throws: `GraphError` for a bad `axes` or `epsilon`, mismatched shapes or dtypes,
///   or more than one unknown dimension among the kept ones.
public func layerNorm(_ x: Tensor, gain: Tensor? = nil, bias: Tensor? = nil, axes: Int = 1, epsilon: Double = 1e-5) throws -> Tensor {
    let rank = x.shape.rank
    guard axes >= 1, axes <= rank else {
        throw GraphError("layerNorm: axes \(axes) must be in 1...\(rank) (the rank of \(x.label) \(x.shape))", kind: .invalidArgument)
    }
    try checkEpsilon(epsilon, "layerNorm", x)
    for p in [gain, bias].compactMap({ $0 }) where p.shape.rank > axes {
        throw GraphError("layerNorm: \(p.label) \(p.shape) has more axes than the \(axes) normalised of \(x.label) \(x.shape)",
                         kind: .shapeMismatch)
    }
    let reduced = Array((rank - axes)..<rank)
    let mu = try keptDims(mean(x, axes: reduced), of: x, reduced)
    let centred = try x - mu
    let variance = try keptDims(mean(square(centred), axes: reduced), of: x, reduced)
    var y = try centred * rsqrt(variance + epsilon)
    if let gain { y = try y * gain }
    if let bias { y = try y + bias }
    return y
}

/// Batch normalisation in training mode (Ioffe & Szegedy, 2015; `torch.nn.BatchNorm*d`):
/// statistics over every axis but `channelAxis`, `(x − mean) / √(var + ε) · gain + bias`
/// with the biased variance; the running averages move by `momentum` towards the batch
/// mean and the *unbiased* variance, as PyTorch's do.
///
/// ```swift
/// let mean = graph.parameter("bn.mean", try .zeros([c], .float32))
/// let variance = graph.parameter("bn.var", try .ones([c], .float32))
/// let bn = try batchNorm(x, gain: g, bias: b, runningMean: mean, runningVariance: variance)
/// let train = try compile(inputs: [x], outputs: [loss], updates: step.updates + bn.updates)
/// ```
/// - Parameters:
///   - x: float, rank ≥ 2, the channel count known.
///   - gain: optional, shape `[C]`.
///   - bias: optional, shape `[C]`.
///   - runningMean: a parameter of shape `[C]` and `x`'s dtype.
///   - runningVariance: a parameter of shape `[C]` and `x`'s dtype.
///   - momentum: in [0, 1]: `running ← (1 − momentum)·running + momentum·batch`.
///   - epsilon: ε ≥ 0.
///   - channelAxis: the channel axis (last by default: NHWC); negative counts from the end.
/// - Returns: the output and the two running-average updates.
/// - Throws: `GraphError` naming the tensor for a bad argument or shape. A batch of one
///   element per channel gives an infinite unbiased variance (PyTorch refuses it).
public func batchNorm(_ x: Tensor, gain: Tensor? = nil, bias: Tensor? = nil, runningMean: Tensor, runningVariance: Tensor,
                      momentum: Double = 0.1, epsilon: Double = 1e-5, channelAxis: Int = -1) throws -> LayerStep {
    let rank = x.shape.rank
    guard rank >= 2 else {
        throw GraphError("batchNorm: \(x.label) \(x.shape) needs rank ≥ 2 (a batch and channels)", kind: .shapeMismatch)
    }
    let c = try resolvedAxis(channelAxis, rank: rank, of: x, "batchNorm")
    guard let channels = x.shape.dims[c] else {
        throw GraphError("batchNorm: the channel axis \(c) of \(x.label) \(x.shape) must be known", kind: .shapeMismatch)
    }
    guard momentum.isFinite, momentum >= 0, momentum <= 1 else {
        throw GraphError("batchNorm: momentum \(momentum) for \(x.label) must be in [0, 1]", kind: .invalidArgument)
    }
    try checkEpsilon(epsilon, "batchNorm", x)
    for (t, role) in [(runningMean, "running mean"), (runningVariance, "running variance")] {
        guard case .parameter = t.op, t.shape == Shape([channels]), t.dtype == x.dtype else {
            throw GraphError("batchNorm: \(role) \(t.label) \(t.dtype) \(t.shape) must be a \(x.dtype) parameter of shape [\(channels)]",
                             kind: .invalidArgument)
        }
    }
    let reduced = (0..<rank).filter { $0 != c }
    var kept = [Int?](repeating: 1, count: rank)
    kept[c] = channels
    func perChannel(_ t: Tensor) throws -> Tensor { c == rank - 1 ? t : try reshape(t, Shape(kept)) }
    let batchMean = try mean(x, axes: reduced)
    let centred = try x - perChannel(batchMean)
    let batchVariance = try mean(square(centred), axes: reduced)
    var y = try centred * rsqrt(perChannel(batchVariance) + epsilon)
    if let gain { y = try y * perChannel(gain) }
    if let bias { y = try y + perChannel(bias) }
    // n/(n − 1) from the run-time element count per channel (the batch may be unknown).
    let known = reduced.compactMap { x.shape.dims[$0] }
    let count: Tensor = known.count == reduced.count
        ? x.graph.scalar(Double(known.reduce(1, *)), x.dtype)
        : try sum(zerosLike(x) + 1, axes: reduced)
    let unbiased = try batchVariance * count / (count - 1)
    let newMean = try runningMean * (1 - momentum) + batchMean * momentum
    let newVariance = try runningVariance * (1 - momentum) + unbiased * momentum
    return LayerStep(output: y, updates: [ParameterUpdate(runningMean, newMean), ParameterUpdate(runningVariance, newVariance)])
}

/// Batch normalisation in inference mode: `(x − mean) / √(variance + ε) · gain + bias`
/// with given (running) statistics of shape `[C]` along `channelAxis`.
///
/// ```swift
/// let y = try batchNormInference(x, gain: g, bias: b, mean: runningMean, variance: runningVariance)
/// ```
/// - Throws: `GraphError` for a bad axis, `epsilon`, or mismatched shapes.
public func batchNormInference(_ x: Tensor, gain: Tensor? = nil, bias: Tensor? = nil, mean: Tensor, variance: Tensor,
                               epsilon: Double = 1e-5, channelAxis: Int = -1) throws -> Tensor {
    let rank = x.shape.rank
    let c = try resolvedAxis(channelAxis, rank: rank, of: x, "batchNormInference")
    try checkEpsilon(epsilon, "batchNormInference", x)
    var kept = [Int?](repeating: 1, count: rank)
    kept[c] = x.shape.dims[c]
    func perChannel(_ t: Tensor) throws -> Tensor { c == rank - 1 ? t : try reshape(t, Shape(kept)) }
    var y = try (x - perChannel(mean)) * rsqrt(perChannel(variance) + epsilon)
    if let gain { y = try y * perChannel(gain) }
    if let bias { y = try y + perChannel(bias) }
    return y
}

/// Inverted dropout: each element of `x` is zeroed with probability `rate` and the kept
/// ones scaled by 1/(1 − rate), the mask of call `counter` drawn as
/// `CounterRandom.dropoutMask(p: rate, seed:, call: counter, …)`: element i's fate is a pure
/// function of (seed, counter, i), so a step is reproducible and the same for any worker
/// count. The gradient is the cotangent times the same mask.
///
/// ```swift
/// let counter = graph.randomCounter()
/// let h = try dropout(relu(x • w), rate: 0.5, seed: 1, counter: counter.tensor)
/// // compile(…, updates: … + [counter.update]) so that each call draws a new mask
/// ```
/// - Parameters:
///   - x: a float tensor of any shape.
///   - rate: the drop probability, in [0, 1); 0 returns `x`.
///   - seed: the generator's key; give two dropout layers sharing a counter different seeds.
///   - counter: a rank-0 tensor holding a whole number ≥ 0 (a `RandomCounter`'s tensor);
///     anything else is a `RuntimeError` when run.
/// - Throws: `GraphError` (`.invalidArgument`) for a rate outside [0, 1), or a counter of
///   another rank.
public func dropout(_ x: Tensor, rate: Double, seed: UInt64, counter: Tensor) throws -> Tensor {
    let mask = try x.applying(.dropoutMask(rate: rate, seed: seed), [counter])
    return rate == 0 ? x : try x * mask
}

/// Throws unless ε is finite and ≥ 0.
private func checkEpsilon(_ epsilon: Double, _ function: String, _ x: Tensor) throws {
    guard epsilon.isFinite, epsilon >= 0 else {
        throw GraphError("\(function): epsilon \(epsilon) for \(x.label) must be finite and ≥ 0", kind: .invalidArgument)
    }
}

/// `r`, the reduction of `x` over `axes`, reshaped with those axes kept as size 1 so it
/// broadcasts against `x`; `r` itself when `axes` are the leading ones (numpy alignment).
private func keptDims(_ r: Tensor, of x: Tensor, _ axes: [Int]) throws -> Tensor {
    if axes == Array(0..<axes.count) { return r }
    var dims = x.shape.dims
    for a in axes { dims[a] = 1 }
    return try reshape(r, Shape(dims))
}
