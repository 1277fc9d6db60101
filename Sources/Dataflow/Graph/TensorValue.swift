import DataflowKernels

/// A concrete tensor: a shape, an element type and a shared, aligned buffer.
///
/// The buffer is a `TensorBuffer`, a reference: a parameter, a compiled program
/// and the user can share one block without copies. Values are row-major.
///
/// ```swift
/// let w = try TensorValue(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
/// w.floats          // [1, 2, 3, 4, 5, 6]
/// w.asDoubles()     // [1.0, 2.0, …]
/// ```
public struct TensorValue: Sendable, Equatable, CustomStringConvertible {
    /// The buffer of one element type.
    public enum Storage: Sendable {
        case float32(TensorBuffer<Float>)
        case float64(TensorBuffer<Double>)
        case int32(TensorBuffer<Int32>)
    }

    /// The concrete dimensions, outermost first.
    public let shape: [Int]
    /// The element type, matching `storage`.
    public let dtype: DType
    /// The elements, row-major.
    public let storage: Storage

    /// The number of elements (the product of `shape`).
    public var count: Int { shape.reduce(1, *) }

    /// A value over an existing buffer (no copy).
    ///
    /// - Throws: `GraphError` if the buffer's count is not the product of `shape`.
    public init(shape: [Int], storage: Storage) throws {
        let expected = try Shape.checkedCount(shape, "TensorValue")
        let count: Int
        let dtype: DType
        switch storage {
        case .float32(let b): (count, dtype) = (b.count, .float32)
        case .float64(let b): (count, dtype) = (b.count, .float64)
        case .int32(let b): (count, dtype) = (b.count, .int32)
        }
        guard count == expected else {
            throw GraphError("TensorValue: shape \(Shape.describe(shape)) needs \(expected) elements, got \(count)", kind: .shapeMismatch)
        }
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// A `float32` value holding a copy of `floats`.
    /// - Throws: `GraphError` if `floats.count` is not the product of `shape`.
    public init(shape: [Int], floats: [Float]) throws {
        try self.init(shape: shape, storage: .float32(TensorBuffer(floats)))
    }

    /// A `float64` value holding a copy of `doubles`.
    /// - Throws: `GraphError` if `doubles.count` is not the product of `shape`.
    public init(shape: [Int], doubles: [Double]) throws {
        try self.init(shape: shape, storage: .float64(TensorBuffer(doubles)))
    }

    /// An `int32` value holding a copy of `int32s`.
    /// - Throws: `GraphError` if `int32s.count` is not the product of `shape`.
    public init(shape: [Int], int32s: [Int32]) throws {
        try self.init(shape: shape, storage: .int32(TensorBuffer(int32s)))
    }

    /// A value of type `dtype` from doubles, rounding to `Float` or truncating to `Int32`.
    ///
    /// - Throws: `GraphError` if `values.count` is not the product of `shape` or a
    ///   dimension is negative.
    public init(shape: [Int], converting values: [Double], to dtype: DType) throws {
        guard try Shape.checkedCount(shape, "TensorValue") == values.count else {
            throw GraphError("TensorValue: \(values.count) values for shape \(Shape.describe(shape))", kind: .shapeMismatch)
        }
        self.shape = shape
        self.dtype = dtype
        switch dtype {
        case .float32: storage = .float32(TensorBuffer(values.map { Float($0) }))
        case .float64: storage = .float64(TensorBuffer(values))
        case .int32: storage = .int32(TensorBuffer(values.map { Int32($0) }))
        }
    }

    /// A rank-0 value.
    public init(scalar: Double, _ dtype: DType = .float32) {
        self.shape = []
        self.dtype = dtype
        switch dtype {
        case .float32: storage = .float32(TensorBuffer([Float(scalar)]))
        case .float64: storage = .float64(TensorBuffer([scalar]))
        case .int32: storage = .int32(TensorBuffer([Int32(clamping: Int(exactly: scalar.rounded(.towardZero)) ?? 0)]))
        }
    }

    /// A zero-filled value.
    /// - Throws: `GraphError` for a negative dimension or an element count that overflows.
    public static func zeros(_ shape: [Int], _ dtype: DType) throws -> TensorValue {
        let n = try Shape.checkedCount(shape, "TensorValue.zeros")
        return TensorValue(uncheckedShape: shape, storage: makeStorage(dtype, count: n))
    }

    /// An uninitialised-to-zero buffer of `count` elements of `dtype`.
    static func makeStorage(_ dtype: DType, count: Int) -> Storage {
        switch dtype {
        case .float32: .float32(TensorBuffer(count: count))
        case .float64: .float64(TensorBuffer(count: count))
        case .int32: .int32(TensorBuffer(count: count))
        }
    }

    /// A value over `storage`, whose count the caller guarantees is the product of `shape`.
    init(uncheckedShape shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
        switch storage {
        case .float32: dtype = .float32
        case .float64: dtype = .float64
        case .int32: dtype = .int32
        }
    }

    /// A value with the same shape and elements in a buffer of its own.
    func copy() -> TensorValue {
        func duplicate<T>(_ b: TensorBuffer<T>) -> TensorBuffer<T> {
            let c = TensorBuffer<T>(count: b.count)
            c.copy(from: b, count: b.count)
            return c
        }
        let storage: Storage = switch self.storage {
        case .float32(let b): .float32(duplicate(b))
        case .float64(let b): .float64(duplicate(b))
        case .int32(let b): .int32(duplicate(b))
        }
        return TensorValue(uncheckedShape: shape, storage: storage)
    }

    /// The storage buffer as an object, for a program's slot table.
    var storageObject: AnyObject {
        switch storage {
        case .float32(let b): b
        case .float64(let b): b
        case .int32(let b): b
        }
    }

    /// The elements if `dtype == .float32`, else `nil`.
    public var floats: [Float]? {
        if case .float32(let b) = storage { return b.toArray() }
        return nil
    }

    /// The elements if `dtype == .float64`, else `nil`.
    public var doubles: [Double]? {
        if case .float64(let b) = storage { return b.toArray() }
        return nil
    }

    /// The elements if `dtype == .int32`, else `nil`.
    public var int32s: [Int32]? {
        if case .int32(let b) = storage { return b.toArray() }
        return nil
    }

    /// The elements converted to `Double`, whatever the element type.
    public func asDoubles() -> [Double] {
        switch storage {
        case .float32(let b): b.toArray().map(Double.init)
        case .float64(let b): b.toArray()
        case .int32(let b): b.toArray().map(Double.init)
        }
    }

    /// The single element of a one-element value as `Double`, else `nil`.
    public var scalarValue: Double? {
        count == 1 ? asDoubles()[0] : nil
    }

    /// Same shape, dtype and elements (NaNs compare unequal, as for `Double`).
    public static func == (lhs: TensorValue, rhs: TensorValue) -> Bool {
        guard lhs.shape == rhs.shape, lhs.dtype == rhs.dtype else { return false }
        switch (lhs.storage, rhs.storage) {
        case (.float32(let a), .float32(let b)): return a === b || a.toArray() == b.toArray()
        case (.float64(let a), .float64(let b)): return a === b || a.toArray() == b.toArray()
        case (.int32(let a), .int32(let b)): return a === b || a.toArray() == b.toArray()
        default: return false
        }
    }

    public var description: String {
        let values = asDoubles()
        let shown = values.prefix(8).map { dtype == .int32 ? String(Int($0)) : String($0) }
        let more = values.count > 8 ? ", … (\(values.count) elements)" : ""
        return "TensorValue(\(dtype) \(Shape.describe(shape)): [\(shown.joined(separator: ", "))\(more)])"
    }
}
