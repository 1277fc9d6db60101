/// The stabilisation pass, for graphs built without construction-time rewrites
/// (`Graph(stabilizing: false)`) or through `apply`.
extension Graph {
    /// Rebuilds the nodes `outputs` depend on with the stabilising rewrites:
    /// `log(softmax(z))` → `logSoftmax(z)` and
    /// `-mean(gatherLabels(logSoftmax(z) or log(softmax(z)), y))` → `crossEntropy(z, y)`.
    ///
    /// Unchanged nodes map to themselves (hash-consing); the old nodes stay in the
    /// graph, unused.
    /// - Returns: the node replacing each output.
    /// - Complexity: O(n) in the nodes below the highest output.
    public func stabilize(_ outputs: [NodeID]) throws -> [NodeID] {
        try withStorage { s in
            guard let top = outputs.map(\.rawValue).max() else { return [] }
            var keep = [Bool](repeating: false, count: top + 1)
            for o in outputs { keep[o.rawValue] = true }
            for i in stride(from: top, through: 0, by: -1) where keep[i] {
                for input in s.nodes[i].inputs { keep[input.rawValue] = true }
            }
            var map = [NodeID](repeating: NodeID(-1), count: top + 1)
            for i in 0...top where keep[i] {
                let node = s.nodes[i]
                if node.op.isLeaf {
                    map[i] = NodeID(i)
                    continue
                }
                let inputs = node.inputs.map { map[$0.rawValue] }
                map[i] = try s.make(node.op, inputs, name: node.name, gradient: node.isGradient, rewrite: true)
            }
            return outputs.map { map[$0.rawValue] }
        }
    }
}

/// Stabilises the expressions `outputs` (tensors of one graph); see `Graph.stabilize(_:)`.
/// - Throws: `GraphError` if a rebuilt node fails shape inference (it cannot for a valid graph).
public func stabilize(_ outputs: [Tensor]) throws -> [Tensor] {
    guard let graph = outputs.first?.graph else { return [] }
    return try graph.stabilize(outputs.map(\.id)).map { Tensor(graph: graph, id: $0) }
}
