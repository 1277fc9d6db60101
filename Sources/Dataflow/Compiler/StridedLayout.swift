import DataflowKernels

/// Operands read over one output shape through element strides (stride 0 along
/// broadcast axes), with unit axes dropped and adjacent axes merged wherever every
/// operand is contiguous across them. Most rank-N element-wise values become one
/// 2-D view this way; what stays above two axes is looped over by the task body.
struct StridedLayout: Sendable, Equatable {
    /// The merged shape, rank ≥ 2 (padded with leading 1s).
    var shape: [Int]
    /// Per operand, its element stride along each merged axis.
    var strides: [[Int]]

    /// Dense row-major strides of `shape`.
    static func dense(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: shape.count)
        var k = 1
        for d in shape.indices.reversed() { strides[d] = k; k *= shape[d] }
        return strides
    }

    /// Strides that read a dense tensor of `shape` as `target` (numpy broadcasting:
    /// missing leading axes and size-1 axes repeat, stride 0).
    static func broadcast(_ shape: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: max(0, target.count - shape.count)) + shape
        let strides = dense(padded)
        return target.indices.map { padded[$0] == 1 && target[$0] != 1 ? 0 : strides[$0] }
    }

    /// Strides that read a dense tensor of `target` without `axes` as `target`
    /// (stride 0 along `axes`): a reduced value repeated over what was reduced.
    static func reducedBroadcast(axes: [Int], to target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var k = 1
        for d in target.indices.reversed() where !axes.contains(d) { strides[d] = k; k *= target[d] }
        return strides
    }

    /// Merges the axes of `shape` read by operands with `strides` (one array per operand).
    init(shape: [Int], strides: [[Int]]) {
        var mergedShape: [Int] = []
        var merged: [[Int]] = strides.map { _ in [] }
        for d in shape.indices where shape[d] != 1 {
            let n = shape[d]
            if let last = mergedShape.indices.last, strides.indices.allSatisfy({ merged[$0][last] == strides[$0][d] * n }) {
                mergedShape[last] *= n
                for k in strides.indices { merged[k][last] = strides[k][d] }
            } else {
                mergedShape.append(n)
                for k in strides.indices { merged[k].append(strides[k][d]) }
            }
        }
        while mergedShape.count < 2 {
            mergedShape.insert(1, at: 0)
            for k in strides.indices { merged[k].insert(0, at: 0) }
        }
        self.shape = mergedShape
        self.strides = merged
    }

    var rank: Int { shape.count }
    /// Rows and columns of the 2-D views (the last two merged axes).
    var rows: Int { shape[rank - 2] }
    var cols: Int { shape[rank - 1] }
    /// Number of 2-D views (the product of the leading merged axes).
    var outerCount: Int { shape.dropLast(2).reduce(1, *) }

    /// Element offset of operand k's 2-D view number `outer` (row-major over the leading axes).
    func offset(_ k: Int, outer: Int) -> Int {
        var rest = outer, offset = 0
        for d in stride(from: rank - 3, through: 0, by: -1) {
            offset += (rest % shape[d]) * strides[k][d]
            rest /= shape[d]
        }
        return offset
    }

    /// Operand k's 2-D view number `outer`, in the buffer bound to `r`'s slot.
    func view<T: TensorElement>(_ k: Int, _ r: ValueRef, _ b: Bindings, outer: Int, _: T.Type) -> MatrixView<T> {
        MatrixView(b.buffer(r.slot, T.self), offset: r.offset + offset(k, outer: outer), rows: rows, cols: cols,
                   rowStride: strides[k][rank - 2], colStride: strides[k][rank - 1])
    }
}
