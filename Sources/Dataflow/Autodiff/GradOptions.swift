/// Options of `grad(of:wrt:options:)`.
///
/// ```swift
/// let g = try grad(of: loss, wrt: [w], options: .init(considerConstant: [h], disconnected: .zeros))
/// ```
public struct GradOptions: Sendable {
    /// What `grad` does with a `wrt` tensor the loss does not depend on.
    public enum Disconnected: Sendable, Hashable {
        /// Throw a `GraphError` naming the tensor (Theano's default).
        case error
        /// Return `zerosLike(wrt)`.
        case zeros
    }

    /// Tensors treated as constants: the gradient does not flow through them to
    /// their inputs (Theano's `consider_constant`). They may still be in `wrt`.
    public var considerConstant: [Tensor]
    /// What to do with a disconnected `wrt` tensor.
    public var disconnected: Disconnected
    /// The cotangent of the loss (a vector-Jacobian product). Required when the loss
    /// is not rank 0; defaults to 1 for a scalar loss.
    public var outputGradient: Tensor?

    public init(considerConstant: [Tensor] = [], disconnected: Disconnected = .error, outputGradient: Tensor? = nil) {
        self.considerConstant = considerConstant
        self.disconnected = disconnected
        self.outputGradient = outputGradient
    }
}
