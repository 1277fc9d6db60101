extension Reduce {
    /// The gradient of a max reduction: `dx.element(i, j) = dy.element(i, j) / ties` where
    /// `x.element(i, j) == y.element(i, j)`, 0 elsewhere. `y` (the maxima) and `dy` (their gradient)
    /// are views broadcast back to x's shape, stride 0 along the reduced axes; `ties`
    /// counts the elements of x equal to the maximum of their reduction (so tied maxima
    /// share the gradient equally, as the interpreter does).
    ///
    /// ```swift
    /// // x is m×n, y = max over rows (1×n) broadcast with rowStride 0:
    /// try Reduce.maxBackward(x: x, max: yBroadcast, gradient: dyBroadcast, into: dx)
    /// ```
    /// Rare in the networks this library is tuned for: plain loops, one pass to count
    /// the ties and one to write. The ties are indexed by the element of `y` a position
    /// reads, so any broadcast pattern of `y` works.
    /// - Throws: `KernelError` naming the operand whose shape or bounds are wrong.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func maxBackward<T: KernelScalar>(x: MatrixView<T>, max y: MatrixView<T>, gradient dy: MatrixView<T>,
                                                    into dx: MatrixView<T>) throws(KernelError) {
        let name = "Reduce.maxBackward"
        try _checkBounds(x, "x", name)
        try _checkShape(y, "max", rows: x.rows, cols: x.cols, name)
        try _checkShape(dy, "gradient", rows: x.rows, cols: x.cols, name)
        try _checkShape(dx, "dx", rows: x.rows, cols: x.cols, name)
        try _checkWritable(dx, "dx", name)
        guard x.rows > 0, x.cols > 0 else { return }
        // Positions of y's elements relative to its lowest address.
        let low = y.offset + Swift.min(0, (x.rows - 1) * y.rowStride) + Swift.min(0, (x.cols - 1) * y.colStride)
        let high = y.offset + Swift.max(0, (x.rows - 1) * y.rowStride) + Swift.max(0, (x.cols - 1) * y.colStride)
        var ties = [Int](repeating: 0, count: high - low + 1)
        for i in 0..<x.rows {
            for j in 0..<x.cols where x.element(i, j) == y.element(i, j) {
                ties[y.offset + i * y.rowStride + j * y.colStride - low] += 1
            }
        }
        for i in 0..<x.rows {
            for j in 0..<x.cols {
                let k = y.offset + i * y.rowStride + j * y.colStride - low
                let value = x.element(i, j) == y.element(i, j) ? dy.element(i, j) / T(ties[k]) : 0
                dx.buffer[dx.offset + i * dx.rowStride + j * dx.colStride] = value
            }
        }
    }

    /// The index (row-major over the view) of the first element of `x` that is NaN or
    /// infinite, or nil if all are finite (the compiler's guard mode).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func firstNonFinite<T: KernelScalar>(_ x: MatrixView<T>) throws(KernelError) -> Int? {
        try _checkBounds(x, "x", "Reduce.firstNonFinite")
        for i in 0..<x.rows {
            for j in 0..<x.cols where !x.element(i, j).isFinite { return i * x.cols + j }
        }
        return nil
    }
}

extension MatrixView {
    /// The element at row i, column j (through the strides; bounds-checked by the buffer).
    @inlinable
    func element(_ i: Int, _ j: Int) -> Element { buffer[offset + i * rowStride + j * colStride] }
}
