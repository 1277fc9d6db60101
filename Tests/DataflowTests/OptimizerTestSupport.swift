import Foundation
import Testing
import Dataflow

// The tiny network shared by the optimizer tests and the PyTorch peer check
// (Benchmarks/peers/optim_check.py builds the same values from the same formula):
// a 3-4-2 MLP, tanh hidden layer, mean softmax cross-entropy, six examples.
// Element i of the tensor with salt k is ((37 i + 11 k) mod 101 − 50) / 100.

/// The tiny network's fixed values, as in optim_check.py.
enum TinyNet {
    static let batch = 6
    static let parameterSpecs: [(name: String, shape: [Int], salt: Int)] =
        [("w1", [3, 4], 1), ("b1", [4], 2), ("w2", [4, 2], 3), ("b2", [2], 4)]
    static let labels: [Int32] = [0, 1, 1, 0, 1, 0]

    static func element(_ i: Int, salt: Int) -> Double {
        Double((37 * i + 11 * salt) % 101 - 50) / 100
    }

    static func values(_ shape: [Int], salt: Int) -> [Double] {
        (0..<shape.reduce(1, *)).map { element($0, salt: salt) }
    }

    /// The feeds: `x` [6, 3] (salt 0) and `y` [6].
    static func feeds(_ dtype: DType) throws -> [String: TensorValue] {
        ["x": try TensorValue(shape: [batch, 3], converting: values([batch, 3], salt: 0), to: dtype),
         "y": try TensorValue(shape: [batch], int32s: labels)]
    }

    /// The network built in `graph`: its parameters, placeholders and loss.
    struct Built {
        var graph: Graph
        var parameters: [Tensor]
        var x: Tensor
        var y: Tensor
        var loss: Tensor
    }

    static func build(_ dtype: DType = .float64, in graph: Graph = Graph()) throws -> Built {
        let parameters = try parameterSpecs.map { spec in
            graph.parameter(spec.name, try TensorValue(shape: spec.shape, converting: values(spec.shape, salt: spec.salt), to: dtype))
        }
        let x = try graph.placeholder("x", dtype, [nil, 3])
        let y = try graph.placeholder("y", .int32, [nil])
        let hidden = try tanh(x • parameters[0] + parameters[1])
        let loss = try crossEntropy(hidden • parameters[2] + parameters[3], y)
        return Built(graph: graph, parameters: parameters, x: x, y: y, loss: loss)
    }
}

/// A torch.optim rule in plain Swift doubles: the reference the compiled optimizers
/// are checked against, one formula per line as torch documents it.
enum ReferenceRule: Sendable {
    case sgd(momentum: Double, weightDecay: Double, nesterov: Bool)
    case adam(beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double, decoupled: Bool)
    case rmsprop(alpha: Double, epsilon: Double, weightDecay: Double, momentum: Double, centered: Bool)
}

/// One optimizer configuration: how to build it, its reference, its learning rates.
struct OptimizerCase: Sendable, CustomTestStringConvertible {
    var name: String
    var rule: ReferenceRule
    /// Global-norm clipping in front of the optimizer.
    var clip: Double?
    /// The learning rate of each step; fed through a rank-0 placeholder "lr" when
    /// `scheduled`, else a constant (all equal).
    var learningRates: [Double]
    var scheduled = false

    var testDescription: String { name }

    static let steps = 5

    init(_ name: String, _ rule: ReferenceRule, lr: Double, clip: Double? = nil) {
        self.name = name
        self.rule = rule
        self.clip = clip
        self.learningRates = Array(repeating: lr, count: Self.steps)
    }

    init(_ name: String, _ rule: ReferenceRule, schedule: [Double], clip: Double? = nil) {
        self.name = name
        self.rule = rule
        self.clip = clip
        self.learningRates = schedule
        self.scheduled = true
    }

    static let all: [OptimizerCase] = [
        OptimizerCase("sgd", .sgd(momentum: 0, weightDecay: 0, nesterov: false), lr: 0.1),
        OptimizerCase("sgd_weight_decay", .sgd(momentum: 0, weightDecay: 0.05, nesterov: false), lr: 0.1),
        OptimizerCase("sgd_momentum", .sgd(momentum: 0.9, weightDecay: 0.01, nesterov: false), lr: 0.1),
        OptimizerCase("sgd_nesterov", .sgd(momentum: 0.8, weightDecay: 0.001, nesterov: true), lr: 0.05),
        OptimizerCase("adam", .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false), lr: 0.01),
        OptimizerCase("adam_weight_decay", .adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.05, decoupled: false), lr: 0.02),
        OptimizerCase("adamw", .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, decoupled: true), lr: 0.01),
        OptimizerCase("rmsprop", .rmsprop(alpha: 0.99, epsilon: 1e-8, weightDecay: 0, momentum: 0, centered: false), lr: 0.01),
        OptimizerCase("rmsprop_centered_momentum",
                      .rmsprop(alpha: 0.9, epsilon: 1e-6, weightDecay: 0.01, momentum: 0.5, centered: true), lr: 0.005),
        OptimizerCase("clip_sgd_momentum", .sgd(momentum: 0.9, weightDecay: 0, nesterov: false), lr: 0.1, clip: 0.1),
        OptimizerCase("clip_adam", .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false),
                      lr: 0.01, clip: 0.05),
        OptimizerCase("adam_scheduled", .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, decoupled: false),
                      schedule: [0.01, 0.02, 0.015, 0.005, 0.001]),
        OptimizerCase("adamw_scheduled", .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, decoupled: true),
                      schedule: [0.01, 0.02, 0.015, 0.005, 0.001]),
        OptimizerCase("sgd_momentum_scheduled", .sgd(momentum: 0.9, weightDecay: 0, nesterov: false),
                      schedule: [0.1, 0.05, 0.2, 0.1, 0.01]),
    ]

    /// The optimizer under test (`learningRate` is a Double or the "lr" placeholder).
    func optimizer(learningRate: any ScalarHyperparameter) -> any Optimizer {
        let base: any Optimizer
        switch rule {
        case let .sgd(momentum, weightDecay, nesterov):
            base = SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        case let .adam(beta1, beta2, epsilon, weightDecay, decoupled):
            base = decoupled
                ? AdamW(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
                : Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
        case let .rmsprop(alpha, epsilon, weightDecay, momentum, centered):
            base = RMSProp(learningRate: learningRate, alpha: alpha, epsilon: epsilon, weightDecay: weightDecay,
                           momentum: momentum, centered: centered)
        }
        return clip.map { base.clippingGradientNorm(to: $0) } ?? base
    }

    /// A compiled training step of the tiny network in `dtype` with this optimizer.
    struct Trainer {
        var net: TinyNet.Built
        var step: OptimizerStep
        var function: Function
        var feeds: [String: TensorValue]
        var learningRates: [Double]
        var scheduled: Bool
        var dtype: DType

        /// Runs step `k` (0-based); returns the loss before the update.
        mutating func run(_ k: Int) throws -> Double {
            var f = feeds
            if scheduled { f["lr"] = TensorValue(scalar: learningRates[k], dtype) }
            return try function(f)[0].scalarValue!
        }
    }

    func trainer(_ dtype: DType = .float64, workers: Int? = nil) throws -> Trainer {
        let net = try TinyNet.build(dtype)
        let lr: any ScalarHyperparameter = scheduled
            ? try net.graph.placeholder("lr", dtype, []) : learningRates[0]
        let step = try optimizer(learningRate: lr).minimize(net.loss, parameters: net.parameters)
        var inputs = [net.x, net.y]
        if let lrTensor = lr as? Tensor { inputs.append(lrTensor) }
        let function = try compile(inputs: inputs, outputs: [net.loss], updates: step.updates,
                                   options: CompileOptions(workers: workers))
        return Trainer(net: net, step: step, function: function, feeds: try TinyNet.feeds(dtype),
                       learningRates: learningRates, scheduled: scheduled, dtype: dtype)
    }
}

/// The reference training loop: gradients from the interpreter, updates in plain
/// Swift doubles with torch.optim's formulas. Returns the parameters after each step.
func referenceTrajectory(_ c: OptimizerCase) throws -> [[[Double]]] {
    let net = try TinyNet.build(.float64)
    let gradients = try grad(of: net.loss, wrt: net.parameters)
    let feeds = try TinyNet.feeds(.float64)
    var params = try net.parameters.map { try net.graph.value(of: $0).asDoubles() }
    let zeros = params.map { [Double](repeating: 0, count: $0.count) }
    var buffer = zeros, m = zeros, v = zeros, gradientAverage = zeros
    var trajectory: [[[Double]]] = []
    for (k, lr) in c.learningRates.enumerated() {
        for (p, value) in zip(net.parameters, params) {
            try net.graph.setValue(TensorValue(shape: try net.graph.value(of: p).shape, doubles: value), of: p)
        }
        var g = try evaluate(gradients, feeds: feeds).map { $0.asDoubles() }
        if let maxNorm = c.clip {
            // clip_grad_norm_: total = √Σ‖g‖²; g ← g·min(1, maxNorm/(total + 1e-6))
            let total = Foundation.sqrt(g.joined().reduce(0) { $0 + $1 * $1 })
            let scale = Swift.min(maxNorm / (total + 1e-6), 1)
            g = g.map { $0.map { $0 * scale } }
        }
        let t = Double(k + 1)
        for i in params.indices {
            for j in params[i].indices {
                var gij = g[i][j]
                let p = params[i][j]
                switch c.rule {
                case let .sgd(mu, wd, nesterov):
                    gij += wd * p
                    var d = gij
                    if mu != 0 {
                        buffer[i][j] = mu * buffer[i][j] + gij
                        d = nesterov ? gij + mu * buffer[i][j] : buffer[i][j]
                    }
                    params[i][j] = p - lr * d
                case let .adam(b1, b2, eps, wd, decoupled):
                    var q = p
                    if decoupled { q = p * (1 - lr * wd) } else { gij += wd * p }
                    m[i][j] = b1 * m[i][j] + (1 - b1) * gij
                    v[i][j] = b2 * v[i][j] + (1 - b2) * gij * gij
                    let mHat = m[i][j] / (1 - Foundation.pow(b1, t))
                    let vHat = v[i][j] / (1 - Foundation.pow(b2, t))
                    params[i][j] = q - lr * mHat / (Foundation.sqrt(vHat) + eps)
                case let .rmsprop(alpha, eps, wd, mu, centered):
                    gij += wd * p
                    v[i][j] = alpha * v[i][j] + (1 - alpha) * gij * gij
                    var variance = v[i][j]
                    if centered {
                        gradientAverage[i][j] = alpha * gradientAverage[i][j] + (1 - alpha) * gij
                        variance -= gradientAverage[i][j] * gradientAverage[i][j]
                    }
                    var d = gij / (Foundation.sqrt(variance) + eps)
                    if mu != 0 {
                        buffer[i][j] = mu * buffer[i][j] + d
                        d = buffer[i][j]
                    }
                    params[i][j] = p - lr * d
                }
            }
        }
        trajectory.append(params)
    }
    return trajectory
}

/// The largest |a − b| / max(|b|, 1) over two lists of arrays.
func maxRelativeDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
    zip(a, b).flatMap { zip($0, $1) }.map { Swift.abs($0 - $1) / Swift.max(Swift.abs($1), 1) }.max() ?? 0
}
