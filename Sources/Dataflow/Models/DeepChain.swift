/// A deep chain `h ← tanh(h)` repeated `depth` times and summed: the depth test of
/// `grad` (pytensor's recursive `grad` fails near depth 1 000).
///
/// ```swift
/// let chain = try DeepChain(in: Graph(), depth: 100_000)
/// let gx = try grad(of: chain.loss, wrt: chain.x)
/// ```
public struct DeepChain: Sendable {
    /// The input, `[width]` float64.
    public let x: Tensor
    /// `sum(tanh^depth(x))`, rank 0.
    public let loss: Tensor

    /// Builds the chain in `graph`.
    public init(in graph: Graph, depth: Int, width: Int = 4, dtype: DType = .float64) throws {
        x = try graph.placeholder("x", dtype, [width])
        var h = x
        for _ in 0..<depth { h = try tanh(h) }
        loss = try sum(h)
    }

    /// Seconds to build a chain of `depth` and to differentiate it, and the node
    /// counts before and after `grad`.
    public static func timing(depth: Int) throws -> (buildSeconds: Double, gradSeconds: Double, forwardNodes: Int, totalNodes: Int) {
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
