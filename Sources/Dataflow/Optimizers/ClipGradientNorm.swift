/// Scales all gradients together so that their global L2 norm is at most
/// `maxNorm` (`torch.nn.utils.clip_grad_norm_`, optax's `clip_by_global_norm`).
///
/// torch.nn.utils.clip_grad_norm_, one line: `total = √(Σ_i ‖g_i‖²); g_i ← g_i · min(1, maxNorm/(total + 1e-6))`.
///
/// ```swift
/// let step = try Adam(learningRate: 1e-3).clippingGradientNorm(to: 1).minimize(loss, parameters: [w, b])
/// ```
///
/// Stateless. The scale is one rank-0 node computed inside the program, so the
/// clipping costs one reduction per gradient and one multiply per element.
public struct ClipGradientNorm: GradientTransformation {
    /// The largest global norm kept (> 0).
    public var maxNorm: Double

    /// Clipping to a global norm of at most `maxNorm` (checked when applied).
    ///
    /// ```swift
    /// let clip = ClipGradientNorm(maxNorm: 5)
    /// ```
    ///
    /// - Parameter maxNorm: the largest global L2 norm, finite and > 0.
    public init(maxNorm: Double) {
        self.maxNorm = maxNorm
    }

    /// The global L2 norm of `gradients`, `√(Σ_i Σ_j g_ij²)`, as a rank-0 tensor.
    ///
    /// ```swift
    /// let norm = try ClipGradientNorm.globalNorm(grads)   // an output to log
    /// ```
    ///
    /// - Parameter gradients: tensors of one graph and one floating-point dtype.
    /// - Returns: the norm, or `nil` for no gradients.
    /// - Throws: `GraphError` for tensors of different graphs or dtypes.
    public static func globalNorm(_ gradients: [Tensor]) throws -> Tensor? {
        var total: Tensor?
        for g in gradients {
            let squares = try sum(square(g))
            total = try total.map { try $0 + squares } ?? squares
        }
        return try total.map { try sqrt($0) }
    }

    /// The clipped gradients: each multiplied by `min(1, maxNorm/(total + 1e-6))`.
    ///
    /// ```swift
    /// let clipped = try ClipGradientNorm(maxNorm: 1).transform(gradients: grads, parameters: params).gradients
    /// ```
    ///
    /// - Parameters:
    ///   - gradients: one gradient per parameter (one graph, one floating-point dtype).
    ///   - parameters: unused (the clipping depends on the gradients only).
    /// - Returns: the clipped gradients; no state.
    /// - Throws: `GraphError` (`.invalidArgument`) unless `maxNorm` is finite and > 0;
    ///   `.dtypeMismatch`/`.foreignTensor` for mixed gradients.
    public func transform(gradients: [Tensor], parameters: [Tensor]) throws -> TransformedGradients {
        guard maxNorm.isFinite && maxNorm > 0 else {
            throw GraphError("ClipGradientNorm: maxNorm \(maxNorm) must be finite and > 0", kind: .invalidArgument)
        }
        guard let total = try Self.globalNorm(gradients) else { return TransformedGradients(gradients: []) }
        let scale = try minimum(maxNorm / (total + 1e-6), 1)
        return TransformedGradients(gradients: try gradients.map { try $0 * scale })
    }
}
