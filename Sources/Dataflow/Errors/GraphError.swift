/// A mistake a user can make while building a graph: mismatched shapes or dtypes,
/// an invalid argument, a tensor of another graph, a disconnected gradient input.
///
/// The message names the tensors involved (by name, or as `op#id`) and says what
/// was expected and what came, e.g.
/// `matmul: x [?, 784] and w1 [100, 10]: inner dimensions 784 and 100 differ`.
/// `kind` sorts the mistake into cases a caller can switch over:
///
/// ```swift
/// do { _ = try x • w } catch let error as GraphError {
///     if case .shapeMismatch = error.kind { print(error) }
/// }
/// ```
///
/// Graph construction throws `GraphError`; compiling throws `CompileError`; running
/// (a compiled `Function` or the `Interpreter`) throws `RuntimeError`.
public struct GraphError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of mistake it is.
    public enum Kind: Sendable, Equatable {
        /// Shapes that do not fit the op (the message names the tensors and shapes).
        case shapeMismatch
        /// An element type the op does not take.
        case dtypeMismatch
        /// A bad argument: a negative dimension, an axis out of range, two inferred
        /// dimensions in a reshape, a worker count below one…
        case invalidArgument
        /// A tensor or node id that does not belong to this graph.
        case foreignTensor
        /// An op applied to the wrong number of inputs.
        case wrongInputCount
        /// A placeholder name declared again with another dtype or shape.
        case redeclared
        /// A tensor that is not a parameter where one is needed.
        case notAParameter
        /// A gradient input the loss does not depend on, or that cannot carry one.
        case disconnected
        /// Anything else.
        case other
    }

    /// The kind of mistake.
    public let kind: Kind
    /// The full, human-readable message.
    public let message: String

    /// An error with a message and a kind (`.other` by default).
    public init(_ message: String, kind: Kind = .other) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}
