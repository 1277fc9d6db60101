/// Reductions and the max-reduction gradient over tensors of any rank, addressed
/// through element strides: the general case behind the compiler's rank-N
/// reductions (the fast 2-D kernels of `Reduce` take the common layouts).
///
/// Plain loops with a multi-index odometer. Summation order is fixed: the reduced
/// axes are walked in row-major order for each output element, so results do not
/// depend on how a caller splits the output.
public enum StridedReduce {
    /// `y[kept index] = op over the reduced axes of x`. `x` is addressed as
    /// `x.buffer[x.offset + Σ index[d]·xStrides[d]]` over `shape`; `y` is dense,
    /// row-major over the kept axes (those with `reduced[d] == false`), starting at
    /// `y.offset`, and only outputs `outputs` (a range of that row-major order) are
    /// written.
    ///
    /// ```swift
    /// // sum over axes 0 and 2 of a dense [2, 3, 4] x into y[3]:
    /// try StridedReduce.reduce(.sum, x, shape: [2, 3, 4], strides: [12, 4, 1],
    ///                          reduced: [true, false, true], into: y)
    /// ```
    /// - Throws: `KernelError` when the ranks disagree, a stride addresses elements
    ///   outside `x`, or `y` is too small.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func reduce<T: KernelScalar>(_ op: ReduceOp, _ x: TensorBuffer<T>, offset: Int = 0, shape: [Int], strides: [Int],
                                               reduced: [Bool], into y: TensorBuffer<T>, yOffset: Int = 0,
                                               outputs: Range<Int>? = nil) throws(KernelError) {
        let name = { "StridedReduce.reduce(\(op))" }   // built only for an error message
        try checkOperand(x.count, offset, shape, strides, "x", name())
        guard reduced.count == shape.count else {
            throw KernelError("\(name()): reduced has \(reduced.count) flags for a rank-\(shape.count) shape")
        }
        let keptShape = shape.indices.filter { !reduced[$0] }.map { shape[$0] }
        let reducedShape = shape.indices.filter { reduced[$0] }.map { shape[$0] }
        let keptStrides = shape.indices.filter { !reduced[$0] }.map { strides[$0] }
        let reducedStrides = shape.indices.filter { reduced[$0] }.map { strides[$0] }
        let outCount = keptShape.reduce(1, *)
        let range = outputs ?? 0..<outCount
        guard range.lowerBound >= 0, range.upperBound <= outCount, yOffset >= 0, yOffset + outCount <= y.count else {
            throw KernelError("\(name()): y needs \(outCount) elements from offset \(yOffset) (outputs \(range)), has \(y.count)")
        }
        let reducedCount = reducedShape.reduce(1, *)
        for o in range {
            let base = offset + linearOffset(o, keptShape, keptStrides)
            var acc: T = op == .max ? -T.infinity : 0
            var odometer = Odometer(reducedShape, reducedStrides)
            for _ in 0..<reducedCount {
                let v = x[base + odometer.offset]
                acc = op == .max ? (v > acc || v.isNaN ? v : acc) : acc + v
                odometer.next()
            }
            if op == .mean { acc = acc / T(reducedCount) }
            y[yOffset + o] = acc
        }
    }

    /// The gradient of a max reduction for any rank: over `shape`, `dx = dy / ties`
    /// where `x == y`, else 0; `y` and `dy` are addressed with stride 0 along the
    /// reduced axes, `ties` counts the maxima of each reduced element. `dx` is dense.
    /// - Throws: `KernelError` naming the operand whose strides leave its buffer.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func maxBackward<T: KernelScalar>(shape: [Int], x: (TensorBuffer<T>, offset: Int, strides: [Int]),
                                                    max y: (TensorBuffer<T>, offset: Int, strides: [Int]),
                                                    gradient dy: (TensorBuffer<T>, offset: Int, strides: [Int]),
                                                    into dx: TensorBuffer<T>, dxOffset: Int = 0) throws(KernelError) {
        let name = "StridedReduce.maxBackward"
        try checkOperand(x.0.count, x.offset, shape, x.strides, "x", name)
        try checkOperand(y.0.count, y.offset, shape, y.strides, "max", name)
        try checkOperand(dy.0.count, dy.offset, shape, dy.strides, "gradient", name)
        let count = shape.reduce(1, *)
        guard dxOffset >= 0, dxOffset + count <= dx.count else {
            throw KernelError("\(name): dx needs \(count) elements from offset \(dxOffset), has \(dx.count)")
        }
        guard count > 0 else { return }
        let low = y.offset + zip(shape, y.strides).reduce(0) { $0 + Swift.min(0, ($1.0 - 1) * $1.1) }
        let high = y.offset + zip(shape, y.strides).reduce(0) { $0 + Swift.max(0, ($1.0 - 1) * $1.1) }
        var ties = [Int](repeating: 0, count: high - low + 1)
        var ox = Odometer(shape, x.strides), oy = Odometer(shape, y.strides)
        for _ in 0..<count {
            if x.0[x.offset + ox.offset] == y.0[y.offset + oy.offset] { ties[y.offset + oy.offset - low] += 1 }
            ox.next(); oy.next()
        }
        ox = Odometer(shape, x.strides); oy = Odometer(shape, y.strides)
        var od = Odometer(shape, dy.strides)
        for k in 0..<count {
            let isMax = x.0[x.offset + ox.offset] == y.0[y.offset + oy.offset]
            dx[dxOffset + k] = isMax ? dy.0[dy.offset + od.offset] / T(ties[y.offset + oy.offset - low]) : 0
            ox.next(); oy.next(); od.next()
        }
    }

    /// The offset of row-major index `linear` over `shape` with `strides`.
    static func linearOffset(_ linear: Int, _ shape: [Int], _ strides: [Int]) -> Int {
        var rest = linear, offset = 0
        for d in shape.indices.reversed() {
            let n = shape[d]
            offset += (rest % n) * strides[d]
            rest /= n
        }
        return offset
    }

    static func checkOperand(_ bufferCount: Int, _ offset: Int, _ shape: [Int], _ strides: [Int], _ operand: String,
                             _ name: String) throws(KernelError) {
        guard shape.count == strides.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw KernelError("\(name): \(operand) has shape \(shape) and strides \(strides)")
        }
        if shape.contains(0) { return }
        let low = offset + zip(shape, strides).reduce(0) { $0 + Swift.min(0, ($1.0 - 1) * $1.1) }
        let high = offset + zip(shape, strides).reduce(0) { $0 + Swift.max(0, ($1.0 - 1) * $1.1) }
        guard low >= 0, high < bufferCount else {
            throw KernelError("\(name): \(operand) (offset \(offset), shape \(shape), strides \(strides)) addresses elements "
                              + "\(low)...\(high) outside its buffer of \(bufferCount)")
        }
    }
}

/// A row-major multi-index over a shape that keeps the strided offset of the
/// current position.
struct Odometer {
    let shape: [Int]
    let strides: [Int]
    var index: [Int]
    var offset = 0

    init(_ shape: [Int], _ strides: [Int]) {
        self.shape = shape
        self.strides = strides
        index = [Int](repeating: 0, count: shape.count)
    }

    mutating func next() {
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            offset += strides[d]
            if index[d] < shape[d] { return }
            offset -= strides[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}
