/// An error a caller can cause when running a program, compiled (`Function`) or
/// interpreted (`Interpreter`): a feed that is missing, unknown, or of the wrong type
/// or shape; labels out of range; a NaN caught by the guard mode. Both report the
/// same mistake with the same `kind`; the message names the tensor, what was
/// expected and what came.
///
/// ```swift
/// do { _ = try step(feeds) } catch let error as RuntimeError {
///     switch error.kind {
///     case .missingFeed(let name): print("feed \(name)")
///     default: print(error)
///     }
/// }
/// ```
public struct RuntimeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// No feed for this placeholder.
        case missingFeed(String)
        /// A feed name that is not an input placeholder.
        case unknownFeed(String)
        /// A feed of the wrong element type or shape (the message says which).
        case feedMismatch(String)
        /// A zero-sized feed given to a compiled program.
        case emptyFeed(String)
        /// A label (class index) outside `0..<classes`, in the named tensor.
        case labelOutOfRange(tensor: String, index: Int, label: Int, classes: Int)
        /// A NaN or infinity first produced by the named op (guard mode).
        case nonFinite(op: String)
        /// Shapes that disagree only at run time (an unknown dimension).
        case shapeMismatch(String)
        /// Anything else a kernel refused (the message names the operand).
        case other
    }

    /// The kind of error.
    public let kind: Kind
    /// The full, human-readable message.
    public let message: String

    /// An error with a message and a kind (`.other` by default).
    public init(message: String, kind: Kind = .other) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}
