/// The identity of a parameter (a Theano shared variable) in its graph's store.
public struct ParameterID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public var description: String { "param\(rawValue)" }
}
