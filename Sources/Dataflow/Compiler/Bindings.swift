import DataflowKernels

/// The buffers one run of a program reads and writes, by slot: the arenas, the
/// caller's feeds, the parameters' current values, constants, and output buffers.
///
/// Tasks resolve their operands through it when they run, so a program built once
/// serves every call, whatever buffers the caller feeds. Slots are written only
/// between runs (under the function's lock); during a run they are read-only, and
/// the scheduler's dependency edges order the tasks that touch the buffers.
final class Bindings: @unchecked Sendable {
    var buffers: [AnyObject?]

    init(slotCount: Int) {
        buffers = Array(repeating: nil, count: slotCount)
    }

    /// A zero-filled buffer of `count` elements of `dtype`, as a slot object.
    static func makeBuffer(_ dtype: DType, count: Int) -> AnyObject {
        switch dtype {
        case .float32: TensorBuffer<Float>(count: count)
        case .float64: TensorBuffer<Double>(count: count)
        case .int32: TensorBuffer<Int32>(count: count)
        }
    }

    @inline(__always)
    func buffer<T: TensorElement>(_ slot: Int, _: T.Type = T.self) -> TensorBuffer<T> {
        unsafeDowncast(buffers[slot]!, to: TensorBuffer<T>.self)
    }
}

/// A value's place at run time: a slot, an element offset and a concrete shape.
struct ValueRef: Sendable {
    var slot: Int
    var offset: Int
    var shape: [Int]

    var count: Int { shape.reduce(1, *) }

    /// Rows and columns of the rank ≤ 2 value as a matrix (rank 0: 1×1, rank 1: 1×n).
    var matrixShape: (rows: Int, cols: Int) { ValueRef.matrixShape(of: shape) }

    static func matrixShape(of shape: [Int]) -> (rows: Int, cols: Int) {
        switch shape.count {
        case 0: (1, 1)
        case 1: (1, shape[0])
        default: (shape[0], shape[1])
        }
    }

    /// The dense row-major view of this value.
    @inline(__always)
    func view<T: TensorElement>(_ b: Bindings, _: T.Type = T.self) -> MatrixView<T> {
        let (r, c) = matrixShape
        return MatrixView(b.buffer(slot, T.self), offset: offset, rows: r, cols: c, rowStride: c, colStride: 1)
    }

    /// The view of this value broadcast (numpy rules) to `target`'s rank ≤ 2 shape:
    /// stride 0 along broadcast axes.
    /// Called by element-wise tasks at every run, so it allocates nothing.
    func broadcastView<T: TensorElement>(_ b: Bindings, to target: [Int], _: T.Type = T.self) -> MatrixView<T> {
        let (outRows, outCols) = ValueRef.matrixShape(of: target)
        let (rows, cols) = matrixShape
        let rowStride = rows == 1 && outRows != 1 ? 0 : cols
        let colStride = cols == 1 && outCols != 1 ? 0 : 1
        return MatrixView(b.buffer(slot, T.self), offset: offset, rows: outRows, cols: outCols, rowStride: rowStride, colStride: colStride)
    }

    /// The value as one dense row of `count` elements (any rank).
    @inline(__always)
    func flatView<T: TensorElement>(_ b: Bindings, _: T.Type = T.self) -> MatrixView<T> {
        MatrixView(b.buffer(slot, T.self), offset: offset, rows: 1, cols: count, rowStride: count, colStride: 1)
    }

    /// The transposed view (rank 2): rows and columns swapped through the strides.
    func transposedView<T: TensorElement>(_ b: Bindings, _: T.Type = T.self) -> MatrixView<T> {
        let (r, c) = matrixShape
        return MatrixView(b.buffer(slot, T.self), offset: offset, rows: c, cols: r, rowStride: 1, colStride: c)
    }
}
