/// The reverse sweep behind `grad` (micrograd `backward`, tinygrad
/// `compute_gradient`), run with the graph locked once.
extension GraphStorage {
    /// The gradient node of `loss` with respect to each of `wrt`.
    mutating func gradients(of loss: NodeID, wrt: [NodeID], seed given: NodeID?,
                            constants: Set<NodeID>, disconnected: GradOptions.Disconnected) throws -> [NodeID] {
        let lossNode = nodes[loss.rawValue]
        guard lossNode.dtype.isFloatingPoint else {
            throw GraphError("grad: the loss \(labelWithShape(loss)) is \(lossNode.dtype); expected a floating-point tensor")
        }
        for w in wrt where !nodes[w.rawValue].dtype.isFloatingPoint {
            throw GraphError("grad: cannot differentiate with respect to \(labelWithShape(w)): it is \(nodes[w.rawValue].dtype)")
        }
        let seed: NodeID
        if let given {
            let g = nodes[given.rawValue]
            guard g.dtype == lossNode.dtype, Self.compatible(g.shape, lossNode.shape) else {
                throw GraphError("grad: output gradient \(labelWithShape(given)) (\(g.dtype)) does not match the loss "
                    + "\(labelWithShape(loss)) (\(lossNode.dtype))")
            }
            seed = given
        } else {
            guard lossNode.shape.rank == 0 else {
                throw GraphError("grad: the loss \(labelWithShape(loss)) is not a scalar; reduce it or pass options.outputGradient")
            }
            seed = scalar(1, lossNode.dtype, gradient: true)
        }

        let lo = wrt.map(\.rawValue).filter { $0 <= loss.rawValue }.min() ?? loss.rawValue
        let span = loss.rawValue - lo + 1
        let wrtSet = Set(wrt)

        // Forward: which nodes in lo...loss depend on some wrt tensor through edges
        // that carry a gradient.
        var depends = [Bool](repeating: false, count: span)
        for w in wrt where w.rawValue >= lo && w.rawValue <= loss.rawValue { depends[w.rawValue - lo] = true }
        for i in lo...loss.rawValue where !depends[i - lo] && !constants.contains(NodeID(i)) {
            let node = nodes[i]
            for (k, input) in node.inputs.enumerated()
            where input.rawValue >= lo && depends[input.rawValue - lo] && node.op.passesGradient(toInput: k) {
                depends[i - lo] = true
                break
            }
        }

        // Backward: nodes reached from the loss along those edges, in decreasing id.
        var contributions = [[NodeID]](repeating: [], count: span)
        contributions[span - 1] = [seed]
        var results: [NodeID: NodeID] = [:]
        for i in stride(from: loss.rawValue, through: lo, by: -1) {
            let parts = contributions[i - lo]
            guard !parts.isEmpty else { continue }
            contributions[i - lo] = []
            var adjoint = parts[0]
            for part in parts.dropFirst() {
                adjoint = try make(.add, [adjoint, part], gradient: true)
            }
            let id = NodeID(i)
            if wrtSet.contains(id) { results[id] = adjoint }
            if constants.contains(id) { continue }
            let node = nodes[i]
            let needed = node.inputs.enumerated().map { k, input in
                input.rawValue >= lo && depends[input.rawValue - lo] && node.op.passesGradient(toInput: k)
            }
            guard needed.contains(true) else { continue }
            let adjoints = try vjp(of: id, cotangent: adjoint, needed: needed)
            for (k, g) in adjoints.enumerated() where needed[k] {
                guard let g else { continue }
                contributions[node.inputs[k].rawValue - lo].append(g)
            }
        }

        return try wrt.map { w in
            if let r = results[w] { return r }
            switch disconnected {
            case .zeros:
                return try make(.zerosLike, [w], gradient: true)
            case .error:
                throw GraphError("grad: the loss \(labelWithShape(loss)) does not depend on \(labelWithShape(w)); pass "
                    + "options.disconnected = .zeros to get zeros", kind: .disconnected)
            }
        }
    }
}
