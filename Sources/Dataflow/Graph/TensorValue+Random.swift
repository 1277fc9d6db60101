import DataflowKernels

extension TensorValue {
    /// A value with elements uniform in `range`, reproducible for a given `seed`.
    ///
    /// ```swift
    /// let w = TensorValue.uniform([784, 100], .float32, in: -0.1...0.1, seed: 1)
    /// ```
    /// - Throws: `GraphError` for a negative dimension or an element count that overflows.
    /// - Complexity: O(count).
    public static func uniform(_ shape: [Int], _ dtype: DType, in range: ClosedRange<Double> = -1...1,
                               seed: UInt64) throws -> TensorValue {
        var rng = SeededGenerator(seed: seed)
        let n = try Shape.checkedCount(shape, "TensorValue.uniform")
        let lo = range.lowerBound, width = range.upperBound - range.lowerBound
        switch dtype {
        case .float32:
            let b = TensorBuffer<Float>(count: n)
            for i in 0..<n { b[i] = Float(lo + width * rng.nextUnit()) }
            return TensorValue(uncheckedShape: shape, storage: .float32(b))
        case .float64:
            let b = TensorBuffer<Double>(count: n)
            for i in 0..<n { b[i] = lo + width * rng.nextUnit() }
            return TensorValue(uncheckedShape: shape, storage: .float64(b))
        case .int32:
            let b = TensorBuffer<Int32>(count: n)
            for i in 0..<n { b[i] = Int32((lo + width * rng.nextUnit()).rounded(.down)) }
            return TensorValue(uncheckedShape: shape, storage: .int32(b))
        }
    }

    /// `count` int32 labels uniform in `0..<classes`, reproducible for a given `seed`.
    /// - Throws: `GraphError` (`.invalidArgument`) if `count` is negative or `classes`
    ///   is not in `1...Int32.max`.
    public static func labels(count: Int, classes: Int, seed: UInt64) throws -> TensorValue {
        guard classes > 0, classes <= Int(Int32.max) else {
            throw GraphError("TensorValue.labels: classes must be in 1...\(Int32.max), got \(classes)", kind: .invalidArgument)
        }
        _ = try Shape.checkedCount([count], "TensorValue.labels")
        var rng = SeededGenerator(seed: seed)
        let values = (0..<count).map { _ in Int32(truncatingIfNeeded: rng.next() % UInt64(classes)) }
        return try TensorValue(shape: [count], int32s: values)
    }

    /// A value of `shape` filled with `value`.
    /// - Throws: `GraphError` for a negative dimension or an element count that overflows.
    public static func filled(_ shape: [Int], _ dtype: DType, with value: Double) throws -> TensorValue {
        let n = try Shape.checkedCount(shape, "TensorValue.filled")
        return try TensorValue(shape: shape, converting: Array(repeating: value, count: n), to: dtype)
    }
}
