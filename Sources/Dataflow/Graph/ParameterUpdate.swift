/// A parameter update applied by a compiled program: `parameter ← value`, after
/// every output has been computed (Theano's `updates`).
///
/// When `value` is `parameter − s·g` (or `+`) with `s` a rank-0 tensor, the update
/// runs in place on the parameter's buffer (an `axpy`), so weights are never copied
/// out and back.
public struct ParameterUpdate: Sendable {
    public let parameter: Tensor
    public let value: Tensor
    public init(_ parameter: Tensor, _ value: Tensor) {
        self.parameter = parameter
        self.value = value
    }
}
