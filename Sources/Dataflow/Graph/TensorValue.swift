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
        let expected = shape.reduce(1, *)
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw GraphError("TensorValue: negative dimension in shape \(Shape.describe(shape))")
        }
        let count: Int
        let dtype: DType
        switch storage {
        case .float32(let b): (count, dtype) = (b.count, .float32)
        case .float64(let b): (count, dtype) = (b.count, .float64)
        case .int32(let b): (count, dtype) = (b.count, .int32)
        }
        guard count == expected else {
            throw GraphError("TensorValue: shape \(Shape.describe(shape)) needs \(expected) elements, got \(count)")
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
    /// - Precondition: `values.count` is the product of `shape`.
    public init(shape: [Int], converting values: [Double], to dtype: DType) {
        precondition(values.count == shape.reduce(1, *), "TensorValue: \(values.count) values for shape \(Shape.describe(shape))")
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
        self.init(shape: [], converting: [scalar], to: dtype)
    }

    /// A zero-filled value.
    public static func zeros(_ shape: [Int], _ dtype: DType) -> TensorValue {
        let n = shape.reduce(1, *)
        let storage: Storage = switch dtype {
        case .float32: .float32(TensorBuffer(count: n))
        case .float64: .float64(TensorBuffer(count: n))
        case .int32: .int32(TensorBuffer(count: n))
        }
        return try! TensorValue(shape: shape, storage: storage)
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
