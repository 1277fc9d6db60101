/// The stabilising rewrites, applied as nodes are built (when the graph stabilises
/// at construction) and by `stabilize(_:)`:
///
/// 1. `log(softmax(z))` → `logSoftmax(z)`;
/// 2. `neg(mean(gatherLabels(logSoftmax(z), y)))` → `crossEntropy(z, y)`, whose
///    gradient is `crossEntropyGrad` = `(softmax(z) − onehot(y)) / n`.
///
/// Together they turn the seed's `-mean(log(softmax(z))[arange(n), y])` into one
/// fused, stable op: with logits of ±1000 the loss and its gradient stay finite.
extension GraphStorage {
    /// The replacement node for `op(inputs)`, or `nil` when no rewrite applies.
    mutating func stabilized(_ op: Op, _ inputs: [NodeID], name: String?, gradient: Bool) throws -> NodeID? {
        // Pattern matches on two ops (not a switch over `Op`, so that no `default:`
        // hides a new op; a new op is simply never rewritten).
        if op == .log {
            let p = nodes[inputs[0].rawValue]
            guard p.op == .softmax else { return nil }
            return try make(.logSoftmax, p.inputs, name: name, gradient: gradient)
        }
        if op == .neg {
            let m = nodes[inputs[0].rawValue]
            guard case .mean(let axes) = m.op, axes == [0] else { return nil }
            let g = nodes[m.inputs[0].rawValue]
            guard g.op == .gatherLabels else { return nil }
            let ls = nodes[g.inputs[0].rawValue]
            guard ls.op == .logSoftmax, ls.shape.rank == 2 else { return nil }
            return try make(.crossEntropy, [ls.inputs[0], g.inputs[1]], name: name, gradient: gradient)
        }
        return nil
    }
}
