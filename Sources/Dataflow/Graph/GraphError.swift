/// A mistake a user can make while building or running a graph: mismatched shapes,
/// a disconnected gradient input, a bad feed, a label out of range.
///
/// The message names the tensors involved (by name, or as `op#id`) and says what
/// was expected and what came, e.g.
/// `matmul: x [?, 784] and w1 [100, 10]: inner dimensions 784 and 100 differ`.
public struct GraphError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The full, human-readable message.
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
