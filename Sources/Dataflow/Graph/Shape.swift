/// The static shape of a tensor: one entry per axis, `nil` for a dimension that is
/// only known at run time (the batch).
///
/// An unknown dimension never broadcasts: where two unknown dimensions meet in an
/// element-wise op they must be equal at run time, and an unknown dimension that
/// meets a known one `k > 1` must be `k` at run time.
///
/// ```swift
/// let s: Shape = [nil, 784]
/// s.description        // "[?, 784]"
/// s.resolved()         // nil: the batch is unknown
/// s.resolved([32, 784]) // [32, 784]
/// ```
public struct Shape: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The dimensions, outermost first; `nil` is unknown.
    public var dims: [Int?]

    /// A shape with the given dimensions.
    ///
    /// Any integers are accepted here, so that building a shape never traps; where a
    /// shape is used, a negative dimension is refused with a thrown `GraphError`
    /// (`placeholder`) or, for `reshape`, `-1` means "inferred" like numpy's.
    public init(_ dims: [Int?]) {
        self.dims = dims
    }

    /// A fully known shape.
    public init(_ dims: [Int]) {
        self.init(dims.map { Optional($0) })
    }

    public init(arrayLiteral elements: Int?...) {
        self.init(elements)
    }

    /// The rank-0 shape of a scalar.
    public static let scalar = Shape([Int?]())

    /// The number of axes.
    public var rank: Int { dims.count }

    /// Whether every dimension is known.
    public var isFullyKnown: Bool { dims.allSatisfy { $0 != nil } }

    /// The number of unknown dimensions.
    public var unknownCount: Int { dims.reduce(0) { $0 + ($1 == nil ? 1 : 0) } }

    /// The number of elements, when every dimension is known.
    public var elementCount: Int? {
        var n = 1
        for d in dims {
            guard let d, d >= 0 else { return nil }
            let (product, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = product
        }
        return n
    }

    /// The concrete dimensions when every dimension is known, else `nil`.
    public func resolved() -> [Int]? {
        guard isFullyKnown else { return nil }
        return dims.map { $0! }
    }

    /// `concrete` if it fits this shape (same rank, equal known dimensions), else `nil`.
    ///
    /// - Parameter concrete: the dimensions of a value, e.g. a feed.
    /// - Returns: `concrete`, or `nil` when the rank or a known dimension differs.
    public func resolved(_ concrete: [Int]) -> [Int]? {
        matches(concrete) ? concrete : nil
    }

    /// Whether a concrete shape fits this one: same rank, equal known dimensions.
    public func matches(_ concrete: [Int]) -> Bool {
        guard concrete.count == dims.count else { return false }
        for (d, c) in zip(dims, concrete) where d != nil && d != c { return false }
        return true
    }

    public var description: String {
        "[" + dims.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }
}

extension Shape {
    /// The most elements one value may have: 2⁴⁰ (4 TiB of Float), far past any memory
    /// this library runs in, so that a huge shape is refused with an error instead of
    /// failing inside the allocator.
    static let maximumElementCount = 1 << 40

    /// The element count of a concrete shape, or a thrown `GraphError`
    /// (`.invalidArgument`) naming `context` for a negative dimension or more than
    /// `maximumElementCount` elements.
    static func checkedCount(_ concrete: [Int], _ context: String) throws(GraphError) -> Int {
        var n = 1
        for d in concrete {
            guard d >= 0 else {
                throw GraphError("\(context): negative dimension \(d) in shape \(describe(concrete))", kind: .invalidArgument)
            }
            let (product, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw GraphError("\(context): shape \(describe(concrete)) has more elements than Int can count", kind: .invalidArgument)
            }
            n = product
        }
        guard n <= maximumElementCount || concrete.contains(0) else {
            throw GraphError("\(context): shape \(describe(concrete)) has \(n) elements, more than the \(maximumElementCount) a value "
                + "may have",
                             kind: .invalidArgument)
        }
        return n
    }

    /// Formats a concrete shape the way `Shape` prints, e.g. `[32, 784]`.
    static func describe(_ concrete: [Int]) -> String {
        "[" + concrete.map(String.init).joined(separator: ", ") + "]"
    }
}
