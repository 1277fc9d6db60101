import DataflowKernels

/// Lowering of `matmul` above rank 2: `[..., m, k] · [k, n]` is one 2-D product over
/// all batch rows; otherwise one product per batch element (batch axes broadcast),
/// with tasks over batch ranges or, when the batch is smaller than the tiles wanted,
/// tiles of each product. Every product's bits depend only on its shapes (the GEMM
/// never splits k), so results are the same for any worker count.
extension Lowering {
    mutating func makeBatchedGemmTasks<T: KernelScalar>(_ i: Int, _ kind: IR.Kind, transposeA ta: Bool, transposeB tb: Bool,
                                                        _: T.Type, out: ValueRef, ins: [ValueRef]) throws -> [PendingTask] {
        func with(_ r: ValueRef, _ shape: [Int]) -> ValueRef { ValueRef(slot: r.slot, offset: r.offset, shape: shape) }
        let (a, bm) = (ins[0], ins[1])
        if !ta, a.shape.count > 2, bm.shape.count == 2 {
            // A shared right operand: the batch rows of A are rows of one product.
            let (k, n) = (a.shape[a.shape.count - 1], out.shape[out.shape.count - 1])
            return try makeTasks(i, kind, T.self, out: with(out, [out.count / n, n]),
                                 ins: [with(a, [a.count / k, k]), bm])
        }
        let batch = Array(out.shape.dropLast(2))
        let (m, n) = (out.shape[out.shape.count - 2], out.shape[out.shape.count - 1])
        let aMatrix = Array(a.shape.suffix(2)), bMatrix = Array(bm.shape.suffix(2))
        let k = ta ? aMatrix[0] : aMatrix[1]
        // Element offsets of each operand's matrix for batch index t (size-1 batch axes repeat).
        let aStrides = StridedLayout.broadcast(Array(a.shape.dropLast(2)), to: batch).map { $0 * aMatrix[0] * aMatrix[1] }
        let bStrides = StridedLayout.broadcast(Array(bm.shape.dropLast(2)), to: batch).map { $0 * bMatrix[0] * bMatrix[1] }
        let batchCount = batch.reduce(1, *)
        @Sendable func offsets(_ t: Int) -> (Int, Int) {
            var rest = t, oa = 0, ob = 0
            for d in batch.indices.reversed() {
                let idx = rest % batch[d]
                rest /= batch[d]
                oa += idx * aStrides[d]
                ob += idx * bStrides[d]
            }
            return (oa, ob)
        }
        let f = 2.0 * Double(m) * Double(n) * Double(k)
        flops += f * Double(batchCount)
        let total = f * Double(batchCount)
        let wanted = tileTarget(flops: total)
        let b = bindings
        let taskKind = matmulKind(i, transposeA: ta, transposeB: tb)
        let perTileCost = 1 / 1.5e11
        @Sendable func matrices(_ t: Int) -> (MatrixView<T>, MatrixView<T>, MatrixView<T>) {
            let (oa, ob) = offsets(t)
            let av = MatrixView(b.buffer(a.slot, T.self), offset: a.offset + oa, rows: aMatrix[0], cols: aMatrix[1])
            let bv = MatrixView(b.buffer(bm.slot, T.self), offset: bm.offset + ob, rows: bMatrix[0], cols: bMatrix[1])
            let cv = MatrixView(b.buffer(out.slot, T.self), offset: out.offset + t * m * n, rows: m, cols: n)
            return (av, bv, cv)
        }
        if wanted <= batchCount {
            // Whole products, batch elements grouped into `wanted` ranges.
            return (0..<wanted).map { c in
                let range = (batchCount * c / wanted)..<(batchCount * (c + 1) / wanted)
                return task(i, wanted > 1 ? " batch \(range)" : "", kind: taskKind, cost: f * Double(range.count) * perTileCost) {
                    for t in range {
                        let (av, bv, cv) = matrices(t)
                        try GEMM.multiply(av, transposeA: ta, bv, transposeB: tb, into: cv)
                    }
                }
            }
        }
        let tiling = GEMMTiling.automatic(m: m, n: n, k: k, targetTiles: (wanted + batchCount - 1) / batchCount, transposeA: ta)
        return (0..<batchCount).flatMap { t in
            (0..<tiling.tileCount).map { tile in
                task(i, " batch \(t) tile \(tile)", kind: taskKind, cost: f / Double(tiling.tileCount) * perTileCost) {
                    let (av, bv, cv) = matrices(t)
                    try GEMM.multiplyTile(av, transposeA: ta, bv, transposeB: tb, into: cv, tiling: tiling, tile: tile)
                }
            }
        }
    }
}
