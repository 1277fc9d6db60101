/// Shape inference of `matmul` for any rank ≥ 2 (numpy's `matmul`): the last two
/// axes multiply, the leading (batch) axes broadcast.
extension GraphStorage {
    /// `op(A) [..., m, k] · op(B) [..., k, n] → [broadcast batch..., m, n]`; the
    /// transposes swap the last two axes of their operand.
    func matmulShape(_ ta: Bool, _ tb: Bool, _ inputs: [NodeID], _ shapes: [Shape]) throws -> (DType, Shape) {
        let op = Op.matmul(transposeA: ta, transposeB: tb)
        let dtype = try requireFloat(op, inputs)
        for (k, role) in [(0, "left operand"), (1, "right operand")] where shapes[k].rank < 2 {
            throw GraphError("matmul: \(role) \(labelWithShape(inputs[k])) has rank \(shapes[k].rank); expected rank 2 or more "
                             + "(the last two axes multiply, the leading ones are a batch)", kind: .shapeMismatch)
        }
        func lastTwo(_ s: Shape, _ t: Bool) -> (Int?, Int?) {
            let (r, c) = (s.dims[s.rank - 2], s.dims[s.rank - 1])
            return t ? (c, r) : (r, c)
        }
        let (m, ka) = lastTwo(shapes[0], ta)
        let (kb, n) = lastTwo(shapes[1], tb)
        guard Self.compatible(ka, kb) else {
            throw GraphError("matmul: \(labelWithShape(inputs[0]))\(ta ? "ᵀ" : "") and \(labelWithShape(inputs[1]))\(tb ? "ᵀ" : ""): "
                             + "inner dimensions \(ka.map(String.init) ?? "?") and \(kb.map(String.init) ?? "?") differ",
                             kind: .shapeMismatch)
        }
        let batchA = Shape(Array(shapes[0].dims.dropLast(2))), batchB = Shape(Array(shapes[1].dims.dropLast(2)))
        guard let batch = Self.broadcast(batchA, batchB) else {
            throw GraphError("matmul: the batch axes of \(labelWithShape(inputs[0])) and \(labelWithShape(inputs[1])) do not broadcast",
                             kind: .shapeMismatch)
        }
        return (dtype, Shape(batch.dims + [m, n]))
    }

    /// The gradient of a shared rank-2 right operand `B [k, n]` of a batched
    /// `A [..., m, k] · B` as one matrix product over all batch rows,
    /// `reshape(A, [-1, k])ᵀ · reshape(u, [-1, n])`, instead of a product per batch
    /// summed afterwards. `nil` when the shapes do not allow it (A transposed, B
    /// batched or transposed, an unknown k or n).
    mutating func sharedRightOperandGradient(_ u: NodeID, _ a: NodeID, _ b: NodeID, ta: Bool, tb: Bool) throws -> NodeID? {
        let (sa, sb) = (nodes[a.rawValue].shape, nodes[b.rawValue].shape)
        guard !ta, !tb, sa.rank > 2, sb.rank == 2, let k = sb.dims[0], let n = sb.dims[1] else { return nil }
        let flatA = try make(.reshape(Shape([nil, k])), [a], gradient: true)
        let flatU = try make(.reshape(Shape([nil, n])), [u], gradient: true)
        return try make(.matmul(transposeA: true, transposeB: false), [flatA, flatU], gradient: true)
    }
}
