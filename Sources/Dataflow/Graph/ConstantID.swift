/// The identity of a constant value in its graph's constant store.
public struct ConstantID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public var description: String { "const\(rawValue)" }
}
