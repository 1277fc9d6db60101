/// An error in a program that cannot be compiled (as opposed to a bad call, which
/// is a `RuntimeError`, or a bad graph, which is a `GraphError`).
///
/// ```swift
/// do { _ = try compile(inputs: [], outputs: [loss]) } catch let error as CompileError {
///     if case .missingInput(let name) = error.kind { print("feed \(name) as an input") }
/// }
/// ```
public struct CompileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of problem it is.
    public enum Kind: Sendable, Equatable {
        /// An output needs a placeholder that is not among the inputs.
        case missingInput(String)
        /// An input that is not a placeholder, or a placeholder given twice.
        case invalidInput
        /// Tensors from different graphs.
        case foreignTensor
        /// An update whose target is not a parameter, that has another shape or
        /// dtype, or that updates a parameter twice.
        case invalidUpdate
        /// An op, dtype or shape the compiled kernels do not support.
        case unsupported
        /// A bad `CompileOptions` value.
        case invalidOption
        /// Nothing to compute.
        case empty
        /// Anything else.
        case other
    }

    /// The kind of problem.
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
