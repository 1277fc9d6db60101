import Dataflow

/// The CNN of INIT.md §6: NHWC `[B, side, side, 1]`, conv3×3 (8, same) – ReLU –
/// maxpool2 – conv3×3 (16, same) – ReLU – maxpool2 – flatten in NHWC order – dense → 10,
/// kernels HWIO (`K1 [3, 3, 1, 8]`, `K2 [3, 3, 8, 16]`), biases per output channel.
enum ModelsCNN {
    /// Logits `[B, 10]` of the rows of `x` (`[B, side·side]`, row-major images) with the
    /// parameters `K1, c1, K2, c2, W3, b3` in INIT.md's order.
    static func logits(x: Tensor, side: Int, params: [Tensor]) throws -> Tensor {
        let (k1, c1, k2, c2, w3, b3) = (params[0], params[1], params[2], params[3], params[4], params[5])
        let image = try reshape(x, [nil, side, side, 1])
        let a1 = try maxPool2d(relu(conv2d(image, k1, padding: .same) + c1), window: (2, 2))
        let a2 = try maxPool2d(relu(conv2d(a1, k2, padding: .same) + c2), window: (2, 2))
        let flat = (side / 4) * (side / 4) * 16              // (h·W + w)·16 + c, NHWC order
        return try reshape(a2, [nil, flat]) • w3 + b3
    }
}
