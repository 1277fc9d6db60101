import Foundation
import Testing
import Dataflow

// Shared helpers for the Dataflow tests (and the lead's compiler tests):
// `gradientCheck` against central finite differences, and `ReferenceMLP`, a
// hand-written forward and backward pass of the seed network with plain loops.

/// Evaluates tensors for feeds: the reference interpreter by default; a compiled
/// program can be checked by passing its own evaluation.
typealias Evaluate = ([Tensor], [String: TensorValue]) throws -> [TensorValue]

/// The outcome of a gradient check, with the worst element.
struct GradientCheckResult: CustomStringConvertible {
    var passed: Bool
    /// Largest |analytic − numeric| / (atol + rtol·|numeric|) over all elements (≤ 1 passes).
    var worstRatio: Double
    var worst: String
    var checkedElements: Int
    var description: String {
        "\(passed ? "passed" : "FAILED"): \(checkedElements) elements; worst \(worst) (ratio \(worstRatio))"
    }
}

/// A random value (float64 unless told) in `range`, for test inputs.
func randomValue(_ shape: [Int], seed: UInt64, in range: ClosedRange<Double> = -1...1, _ dtype: DType = .float64) -> TensorValue {
    try! TensorValue.uniform(shape, dtype, in: range, seed: seed)  // tests pass valid shapes
}

/// Checks `grad(of: loss, wrt:)` against central finite differences in `Double`.
///
/// A non-scalar `loss` is first projected to a scalar with a random constant
/// (`sum(loss ⊙ R)`). Each `wrt` tensor must be a placeholder (perturbed through
/// `feeds`) or a parameter (perturbed with `setValue`, restored after).
/// An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
func gradientCheck(of loss: Tensor, wrt: [Tensor], feeds: [String: TensorValue] = [:],
                   eps: Double = 1e-6, atol: Double = 1e-7, rtol: Double = 1e-5, seed: UInt64 = 99,
                   options: GradOptions = .init(),
                   evaluate: Evaluate = { try Dataflow.evaluate($0, feeds: $1) }) throws -> GradientCheckResult {
    let graph = loss.graph
    var scalarLoss = loss
    if loss.shape.rank != 0 {
        let shape = try evaluate([loss], feeds)[0].shape
        let projection = graph.constant(randomValue(shape, seed: seed), name: "R")
        scalarLoss = try sum(loss * projection)
    }
    let analytic = try evaluate(try grad(of: scalarLoss, wrt: wrt, options: options), feeds).map { $0.asDoubles() }
    func f(_ feeds: [String: TensorValue]) throws -> Double {
        try evaluate([scalarLoss], feeds)[0].scalarValue!
    }
    var worstRatio = 0.0, worst = "none", checked = 0
    for (t, tensor) in wrt.enumerated() {
        let original: TensorValue
        let set: (TensorValue) throws -> [String: TensorValue]
        switch tensor.op {
        case .placeholder(let name):
            original = feeds[name]!
            set = { v in var f = feeds; f[name] = v; return f }
        case .parameter:
            original = try graph.value(of: tensor)
            set = { v in try graph.setValue(v, of: tensor); return feeds }
        default:
            preconditionFailure("gradientCheck: \(tensor.label) is neither a placeholder nor a parameter")
        }
        let base = original.asDoubles()
        for k in base.indices {
            var plus = base, minus = base
            plus[k] += eps
            minus[k] -= eps
            let fp = try f(set(TensorValue(shape: original.shape, converting: plus, to: original.dtype)))
            let fm = try f(set(TensorValue(shape: original.shape, converting: minus, to: original.dtype)))
            let numeric = (fp - fm) / (2 * eps)
            let a = analytic[t][k]
            let ratio = abs(a - numeric) / (atol + rtol * abs(numeric))
            checked += 1
            if !(ratio <= worstRatio) {
                worstRatio = ratio
                worst = "\(tensor.label)[\(k)]: analytic \(a), numeric \(numeric)"
            }
        }
        _ = try set(original)
    }
    return GradientCheckResult(passed: worstRatio <= 1, worstRatio: worstRatio, worst: worst, checkedElements: checked)
}

/// Expects `values` = [loss, probabilities, the gradients of `net.parameters`…] of the
/// seed network `net` (built in `g`, Double) to match `ReferenceMLP` on the same feeds
/// and parameter values within 1e-12; with `checkShapes`, each gradient's shape must
/// also be its parameter's.
func expectMatchesReferenceMLP(_ values: [TensorValue], of net: SeedNetwork, in g: Graph, sizes: [Int],
                               feeds: [String: TensorValue], checkShapes: Bool = false,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
    let reference = ReferenceMLP.run(
        sizes: sizes, x: feeds["x"]!.asDoubles(), labels: feeds["y"]!.int32s!.map(Int.init),
        weights: try net.weights.map { try g.value(of: $0).asDoubles() },
        biases: try net.biases.map { try g.value(of: $0).asDoubles() })
    #expect(abs(values[0].scalarValue! - reference.loss) < 1e-12, sourceLocation: sourceLocation)
    #expect(maxAbsDifference(values[1].asDoubles(), reference.probabilities) < 1e-12, sourceLocation: sourceLocation)
    let expected = reference.weightGradients + reference.biasGradients
    for (k, p) in net.parameters.enumerated() {
        if checkShapes {
            #expect(values[2 + k].shape == (try g.value(of: p)).shape, "\(p.label)", sourceLocation: sourceLocation)
        }
        #expect(maxAbsDifference(values[2 + k].asDoubles(), expected[k]) < 1e-12, "\(p.label)", sourceLocation: sourceLocation)
    }
}

/// The seed network (sigmoid hidden layers, linear output, softmax, mean
/// cross-entropy) forward and backward with plain loops in `Double`.
enum ReferenceMLP {
    struct Result {
        var loss: Double
        var probabilities: [Double]
        var weightGradients: [[Double]]
        var biasGradients: [[Double]]
    }

    /// - Parameters: `x` is `[n, sizes[0]]` row-major, `weights[i]` is
    ///   `[sizes[i], sizes[i+1]]`, `biases[i]` is `[sizes[i+1]]`.
    static func run(sizes: [Int], x: [Double], labels: [Int], weights: [[Double]], biases: [[Double]]) -> Result {
        let n = labels.count
        let layers = sizes.count - 1
        var acts: [[Double]] = [x]   // inputs of each layer
        var z: [Double] = []
        for l in 0..<layers {
            let (fin, fout) = (sizes[l], sizes[l + 1])
            z = [Double](repeating: 0, count: n * fout)
            for i in 0..<n {
                for j in 0..<fout {
                    var s = biases[l][j]
                    for k in 0..<fin { s += acts[l][i * fin + k] * weights[l][k * fout + j] }
                    z[i * fout + j] = s
                }
            }
            if l < layers - 1 { acts.append(z.map { 1 / (1 + Foundation.exp(-$0)) }) }
        }
        let c = sizes[layers]
        var p = [Double](repeating: 0, count: n * c)
        var loss = 0.0
        for i in 0..<n {
            let row = Array(z[(i * c)..<(i * c + c)])
            let m = row.max()!
            let total = row.reduce(0) { $0 + Foundation.exp($1 - m) }
            for j in 0..<c { p[i * c + j] = Foundation.exp(row[j] - m) / total }
            loss -= Foundation.log(p[i * c + labels[i]])
        }
        loss /= Double(n)
        // Backward.
        var dz = p
        for i in 0..<n { dz[i * c + labels[i]] -= 1 }
        dz = dz.map { $0 / Double(n) }
        var gw = [[Double]](repeating: [], count: layers), gb = [[Double]](repeating: [], count: layers)
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let (fin, fout) = (sizes[l], sizes[l + 1])
            var w = [Double](repeating: 0, count: fin * fout), b = [Double](repeating: 0, count: fout)
            for i in 0..<n {
                for j in 0..<fout {
                    b[j] += dz[i * fout + j]
                    for k in 0..<fin { w[k * fout + j] += acts[l][i * fin + k] * dz[i * fout + j] }
                }
            }
            gw[l] = w
            gb[l] = b
            if l > 0 {
                var dh = [Double](repeating: 0, count: n * fin)
                for i in 0..<n {
                    for k in 0..<fin {
                        var s = 0.0
                        for j in 0..<fout { s += dz[i * fout + j] * weights[l][k * fout + j] }
                        dh[i * fin + k] = s
                    }
                }
                dz = zip(dh, acts[l]).map { d, a in d * a * (1 - a) }
            }
        }
        return Result(loss: loss, probabilities: p, weightGradients: gw, biasGradients: gb)
    }
}

/// The largest |a − b| over two arrays of the same length.
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "maxAbsDifference: \(a.count) vs \(b.count) elements")
    return zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
}
