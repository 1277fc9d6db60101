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
}
