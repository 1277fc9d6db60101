import DataflowKernels

extension TensorValue {
    /// A value with elements uniform in `range`, reproducible for a given `seed`.
    ///
    /// ```swift
    /// let w = TensorValue.uniform([784, 100], .float32, in: -0.1...0.1, seed: 1)
    /// ```
    /// - Complexity: O(count).
    public static func uniform(_ shape: [Int], _ dtype: DType, in range: ClosedRange<Double> = -1...1, seed: UInt64) -> TensorValue {
        var rng = SeededGenerator(seed: seed)
        let n = shape.reduce(1, *)
        let lo = range.lowerBound, width = range.upperBound - range.lowerBound
        switch dtype {
        case .float32:
            let b = TensorBuffer<Float>(count: n)
            for i in 0..<n { b[i] = Float(lo + width * rng.nextUnit()) }
            return try! TensorValue(shape: shape, storage: .float32(b))
        case .float64:
            let b = TensorBuffer<Double>(count: n)
            for i in 0..<n { b[i] = lo + width * rng.nextUnit() }
            return try! TensorValue(shape: shape, storage: .float64(b))
        case .int32:
            let b = TensorBuffer<Int32>(count: n)
            for i in 0..<n { b[i] = Int32((lo + width * rng.nextUnit()).rounded(.down)) }
            return try! TensorValue(shape: shape, storage: .int32(b))
        }
    }

    /// `count` int32 labels uniform in `0..<classes`, reproducible for a given `seed`.
    public static func labels(count: Int, classes: Int, seed: UInt64) -> TensorValue {
        precondition(classes > 0, "TensorValue.labels: classes must be positive")
        var rng = SeededGenerator(seed: seed)
        let values = (0..<count).map { _ in Int32(truncatingIfNeeded: rng.next() % UInt64(classes)) }
        return try! TensorValue(shape: [count], int32s: values)
    }

    /// A value of `shape` filled with `value`.
    public static func filled(_ shape: [Int], _ dtype: DType, with value: Double) -> TensorValue {
        TensorValue(shape: shape, converting: Array(repeating: value, count: shape.reduce(1, *)), to: dtype)
    }
}
