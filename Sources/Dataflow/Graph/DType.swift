/// The element type of a tensor: `Float`, `Double`, or `Int32` (labels, argmax).
///
/// ```swift
/// let x = graph.placeholder("x", .float32, [nil, 784])
/// ```
public enum DType: Sendable, Hashable, CustomStringConvertible {
    case float32, float64, int32

    /// Whether arithmetic and gradients are defined for this type.
    public var isFloatingPoint: Bool { self != .int32 }

    /// The size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: 4
        case .float64: 8
        }
    }

    public var description: String {
        switch self {
        case .float32: "float32"
        case .float64: "float64"
        case .int32: "int32"
        }
    }
}
