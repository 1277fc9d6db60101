import Dataflow
import Foundation

/// Timing of graph building for `dataflow-bench seed` (benchmark code, not library API).
///
/// The seed experiment's result: how long building the joint gradient takes versus
/// one `grad` call per parameter, and how many nodes each builds.
struct SeedBuildReport: Sendable, CustomStringConvertible {
    /// Layer sizes of the network.
    var sizes: [Int]
    /// Repetitions of each measurement (each on a fresh graph).
    var repetitions: Int
    /// Mean and standard deviation, in seconds, of building the joint gradient.
    var jointMean: Double, jointStd: Double
    /// Mean and standard deviation, in seconds, of building the separate gradients.
    var separateMean: Double, separateStd: Double
    /// Medians, in seconds (robust to a descheduled repetition on a shared machine).
    var jointMedian: Double, separateMedian: Double
    /// Node counts: joint, separate raw, separate merged.
    var stats: GradientStats

    var description: String {
        func us(_ s: Double) -> String { String(format: "%.1f µs", s * 1e6) }
        return """
        seed network \(sizes.map(String.init).joined(separator: "-")), \(repetitions) repetitions, each on a fresh graph
          joint grad (one call):          mean \(us(jointMean)) ± \(us(jointStd)), median \(us(jointMedian))
          separate grads (one per param): mean \(us(separateMean)) ± \(us(separateStd)), median \(us(separateMedian))  (\(String(format: "%.2f", separateMedian / Swift.max(jointMedian, 1e-12)))× joint, medians)
          nodes: \(stats)
        """
    }
}

extension SeedNetwork {
    /// The seed experiment: builds the network in a fresh graph `repetitions` times
    /// for each form and times `grad(of: loss, wrt: parameters)` against eight
    /// `grad(of: loss, wrt: p)` calls; the parameters share one zero-filled set of
    /// buffers, so only graph building is measured.
    /// - Throws: `GraphError` (it cannot for valid sizes).
    static func buildTimes(repetitions: Int = 100, sizes: [Int] = defaultSizes, dtype: DType = .float32) throws -> SeedBuildReport {
        let layers = sizes.count - 1
        let values = try (0..<layers).map { try TensorValue.zeros([sizes[$0], sizes[$0 + 1]], dtype) }
            + (0..<layers).map { try TensorValue.zeros([sizes[$0 + 1]], dtype) }
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        var joint: [Double] = [], separate: [Double] = []
        // One unmeasured round of each form first (first-touch allocations, caches).
        for params in [true, false] {
            let net = try SeedNetwork(in: Graph(), sizes: sizes, dtype: dtype, initialValues: values)
            if params { _ = try grad(of: net.loss, wrt: net.parameters) } else { for p in net.parameters { _ = try grad(of: net.loss,
                                                                                                                        wrt: p) } }
        }
        for _ in 0..<Swift.max(repetitions, 1) {
            let g = Graph()
            let net = try SeedNetwork(in: g, sizes: sizes, dtype: dtype, initialValues: values)
            let params = net.parameters
            let start = clock.now
            _ = try grad(of: net.loss, wrt: params)
            joint.append(seconds(clock.now - start))
        }
        for _ in 0..<Swift.max(repetitions, 1) {
            let g = Graph()
            let net = try SeedNetwork(in: g, sizes: sizes, dtype: dtype, initialValues: values)
            let params = net.parameters
            let start = clock.now
            for p in params { _ = try grad(of: net.loss, wrt: p) }
            separate.append(seconds(clock.now - start))
        }
        let stats = try GradientStats.measure { g in
            let net = try SeedNetwork(in: g, sizes: sizes, dtype: dtype, initialValues: values)
            return (net.loss, net.parameters)
        }
        func meanStd(_ v: [Double]) -> (Double, Double) {
            let m = v.reduce(0, +) / Double(v.count)
            return (m, (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot())
        }
        func median(_ v: [Double]) -> Double {
            let s = v.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let (jm, js) = meanStd(joint), (sm, ss) = meanStd(separate)
        return SeedBuildReport(sizes: sizes, repetitions: repetitions, jointMean: jm, jointStd: js,
                               separateMean: sm, separateStd: ss, jointMedian: median(joint),
                               separateMedian: median(separate), stats: stats)
    }
}

extension DeepChain {
    /// Seconds to build a chain of `depth` and to differentiate it, and the node
    /// counts before and after `grad`.
    static func timing(depth: Int) throws -> (buildSeconds: Double, gradSeconds: Double, forwardNodes: Int, totalNodes: Int) {
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        let g = Graph()
        let t0 = clock.now
        let chain = try DeepChain(in: g, depth: depth)
        let t1 = clock.now
        let forward = g.nodeCount
        _ = try grad(of: chain.loss, wrt: chain.x)
        let t2 = clock.now
        return (seconds(t1 - t0), seconds(t2 - t1), forward, g.nodeCount)
    }
}
