/// An error a caller can cause when running a compiled `Function`: a feed that is
/// missing, unknown, or of the wrong type or shape; labels out of range; a NaN
/// caught by the guard mode. The message names the tensor, what was expected and
/// what came.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
