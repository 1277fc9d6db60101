/// The reference `matmul` for any rank ≥ 2: one plain triple loop per batch
/// element, batch axes broadcast (numpy rules).
extension Interpreter {
    func batchedMatmul(_ a: DenseValue, _ b: DenseValue, _ ta: Bool, _ tb: Bool, name: String,
                       describe: (Int) -> String) throws -> DenseValue {
        guard a.shape.count >= 2, b.shape.count >= 2 else {
            throw RuntimeError(message: "\(name): \(describe(0)) and \(describe(1)): matmul needs operands of rank 2 or more",
                               kind: .shapeMismatch(name))
        }
        let (ar, ac) = (a.shape[a.shape.count - 2], a.shape[a.shape.count - 1])
        let (br, bc) = (b.shape[b.shape.count - 2], b.shape[b.shape.count - 1])
        let (m, k) = ta ? (ac, ar) : (ar, ac)
        let (k2, n) = tb ? (bc, br) : (br, bc)
        guard k == k2 else {
            throw RuntimeError(message: "\(name): \(describe(0))\(ta ? "ᵀ" : "") and \(describe(1))\(tb ? "ᵀ" : ""): "
                               + "inner dimensions \(k) and \(k2) differ", kind: .shapeMismatch(name))
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let rank = max(batchA.count, batchB.count)
        let pa = [Int](repeating: 1, count: rank - batchA.count) + batchA
        let pb = [Int](repeating: 1, count: rank - batchB.count) + batchB
        var batch: [Int] = []
        for d in 0..<rank {
            guard pa[d] == pb[d] || pa[d] == 1 || pb[d] == 1 else {
                throw RuntimeError(message: "\(name): the batch axes of \(describe(0)) and \(describe(1)) do not broadcast",
                                   kind: .shapeMismatch(name))
            }
            batch.append(pa[d] == 1 ? pb[d] : pa[d])
        }
        let batchCount = batch.reduce(1, *)
        var c = [Double](repeating: 0, count: batchCount * m * n)
        for t in 0..<batchCount {
            // The batch index of t in each operand (size-1 axes repeat).
            var rest = t, ia = 0, ib = 0, strideA = 1, strideB = 1
            for d in stride(from: rank - 1, through: 0, by: -1) {
                let idx = rest % batch[d]
                rest /= batch[d]
                ia += (pa[d] == 1 ? 0 : idx) * strideA
                ib += (pb[d] == 1 ? 0 : idx) * strideB
                strideA *= pa[d]
                strideB *= pb[d]
            }
            let (oa, ob, oc) = (ia * ar * ac, ib * br * bc, t * m * n)
            for i in 0..<m {
                for p in 0..<k {
                    let av = ta ? a.data[oa + p * ac + i] : a.data[oa + i * ac + p]
                    for j in 0..<n {
                        c[oc + i * n + j] += av * (tb ? b.data[ob + j * bc + p] : b.data[ob + p * bc + j])
                    }
                }
            }
        }
        return DenseValue(shape: batch + [m, n], data: c)
    }
}
