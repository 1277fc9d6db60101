/// The seed's network (Theano's `neuralNet`): sigmoid hidden layers, a linear
/// output layer, row softmax, and the loss `-mean(log(p)[arange(n), y])`, built as
/// a fused `crossEntropy(logits, y)` by the graph's construction-time rewrites.
///
/// Initial values (seeded, reproducible): weights uniform in `(−1, 1) / √fanIn`
/// (the seed's `np.random.random` in `[0, 1)` unscaled would saturate the
/// sigmoids); biases all ones, as in the seed.
///
/// ```swift
/// let g = Graph()
/// let net = try SeedNetwork(in: g, sizes: [784, 100, 10], dtype: .float32, seed: 1)
/// let grads = try grad(of: net.loss, wrt: net.parameters)   // [gw1…, gb1…]
/// ```
public struct SeedNetwork: Sendable {
    /// The seed's layer sizes: 16384-5000-3000-512-40.
    public static let defaultSizes = [16384, 5000, 3000, 512, 40]

    /// Inputs, `[?, sizes[0]]`.
    public let x: Tensor
    /// Labels, int32 `[?]`.
    public let y: Tensor
    /// `w1…`, `[sizes[i], sizes[i+1]]`.
    public let weights: [Tensor]
    /// `b1…`, `[sizes[i+1]]`.
    public let biases: [Tensor]
    /// The sigmoid outputs of the hidden layers.
    public let activations: [Tensor]
    /// The output layer before softmax, `[?, classes]`.
    public let logits: Tensor
    /// `softmax(logits)` (the seed's `forwardProp`).
    public let probabilities: Tensor
    /// `argmax(probabilities, axis: 1)`, int32 (the seed's `predict`).
    public let predictions: Tensor
    /// The mean cross-entropy, rank 0.
    public let loss: Tensor

    /// The parameters in the seed's `grad` order: `w1…wn, b1…bn`.
    public var parameters: [Tensor] { weights + biases }

    /// Builds the network with fresh seeded initial values.
    /// - Throws: `GraphError` if `sizes` has fewer than two layers.
    public init(in graph: Graph, sizes: [Int] = defaultSizes, dtype: DType = .float32, seed: UInt64 = 0) throws {
        try self.init(in: graph, sizes: sizes, dtype: dtype,
                      initialValues: Self.initialValues(sizes: sizes, dtype: dtype, seed: seed))
    }

    /// Builds the network over given initial values (`w1…wn, b1…bn`), shared, not
    /// copied: several graphs may use the same buffers.
    /// - Throws: `GraphError` on a wrong count or shape of values.
    public init(in graph: Graph, sizes: [Int], dtype: DType, initialValues: [TensorValue]) throws {
        guard sizes.count >= 2 else { throw GraphError("SeedNetwork: need at least an input and an output size, got \(sizes)") }
        let layers = sizes.count - 1
        guard initialValues.count == 2 * layers else {
            throw GraphError("SeedNetwork: \(layers) layers need \(2 * layers) initial values, got \(initialValues.count)")
        }
        x = try graph.placeholder("x", dtype, [nil, sizes[0]])
        y = try graph.placeholder("y", .int32, [nil])
        var weights: [Tensor] = [], biases: [Tensor] = [], activations: [Tensor] = []
        var h = x
        var z = x
        for i in 0..<layers {
            let w = initialValues[i], b = initialValues[layers + i]
            guard w.shape == [sizes[i], sizes[i + 1]], b.shape == [sizes[i + 1]], w.dtype == dtype, b.dtype == dtype else {
                throw GraphError("SeedNetwork: layer \(i + 1) needs \(dtype) [\(sizes[i]), \(sizes[i + 1])] and [\(sizes[i + 1])], got "
                    + "\(w.dtype) \(Shape.describe(w.shape)) and \(b.dtype) \(Shape.describe(b.shape))")
            }
            weights.append(graph.parameter("w\(i + 1)", w))
            biases.append(graph.parameter("b\(i + 1)", b))
            z = try h • weights[i] + biases[i]
            if i < layers - 1 {
                h = try sigmoid(z)
                activations.append(h)
            }
        }
        self.weights = weights
        self.biases = biases
        self.activations = activations
        logits = z
        probabilities = try softmax(z)
        predictions = try argmax(probabilities, axis: 1)
        loss = try -mean(log(probabilities).gather(y))
    }

    /// Seeded initial values `w1…wn, b1…bn`: weights uniform in `(−1, 1)/√fanIn`,
    /// biases ones.
    /// - Throws: `GraphError` for a negative size.
    public static func initialValues(sizes: [Int], dtype: DType, seed: UInt64) throws -> [TensorValue] {
        let layers = sizes.count - 1
        let w = try (0..<layers).map { i in
            let scale = 1 / Double(sizes[i]).squareRoot()
            return try TensorValue.uniform([sizes[i], sizes[i + 1]], dtype, in: -scale...scale, seed: seed &+ UInt64(i) &* 7919)
        }
        let b = try (0..<layers).map { try TensorValue.filled([sizes[$0 + 1]], dtype, with: 1) }
        return w + b
    }
}
