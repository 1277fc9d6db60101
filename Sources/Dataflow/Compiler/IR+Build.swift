/// Building the IR from graph outputs, and the structural passes: dead-value
/// pruning and merging of equal values (CSE).
extension IR {
    /// Copies the nodes that `outputs` and `updates` need, in topological order.
    ///
    /// Only nodes on a path to an output are copied (pruning), so a program that asks
    /// for gradients with respect to the weights never computes the gradient with
    /// respect to the input `x`.
    /// - Complexity: O(nodes reachable from the outputs); iterative, no recursion.
    static func build(graph: Graph, outputs: [NodeID], updates: [(NodeID, NodeID)]) -> IR {
        var needed = Set<NodeID>()
        var stack: [NodeID] = outputs + updates.flatMap { [$0.0, $0.1] }
        while let id = stack.popLast() {
            if needed.insert(id).inserted {
                stack.append(contentsOf: graph.storedNode(id).inputs)
            }
        }
        let order = needed.sorted()   // node ids are topological by construction
        var index: [NodeID: Int] = [:]
        var ir = IR()
        ir.values.reserveCapacity(order.count)
        for id in order {
            let node = graph.storedNode(id)
            index[id] = ir.values.count
            ir.values.append(Value(kind: .op(node.op), inputs: node.inputs.map { index[$0]! }, dtype: node.dtype,
                                   shape: node.shape, name: node.name, origin: id, isGradient: node.isGradient))
        }
        ir.outputs = outputs.map { index[$0]! }
        ir.updates = updates.map { .assign(parameter: index[$0.0]!, value: index[$0.1]!) }
        return ir
    }

    /// Removes values no output or update needs and renumbers the rest, keeping order.
    mutating func pruneDead() {
        var live = [Bool](repeating: false, count: values.count)
        for o in outputs { live[o] = true }
        for u in updates { for i in u.reads { live[i] = true } }
        for i in stride(from: values.count - 1, through: 0, by: -1) where live[i] {
            for input in values[i].inputs { live[input] = true }
        }
        var newIndex = [Int](repeating: -1, count: values.count)
        var kept: [Value] = []
        kept.reserveCapacity(values.count)
        for i in values.indices where live[i] {
            var v = values[i]
            v.inputs = v.inputs.map { newIndex[$0] }
            newIndex[i] = kept.count
            kept.append(v)
        }
        values = kept
        outputs = outputs.map { newIndex[$0] }
        updates = updates.map { $0.remapped { newIndex[$0] } }
    }

    /// Merges values with the same producer and the same inputs (common subexpressions).
    ///
    /// Graph nodes are already hash-consed, so after `build` this finds nothing; it
    /// matters after rewrites, and it is what makes separately requested gradients
    /// compile to exactly the program of the joint request even if they were built in
    /// different graphs' orders. Commutative ops compare with sorted inputs.
    /// - Returns: the number of values merged away.
    @discardableResult
    mutating func mergeEqual() -> Int {
        struct Key: Hashable { let kind: Kind; let inputs: [Int]; let dtype: DType }
        var seen: [Key: Int] = [:]
        var replacement = Array(values.indices)
        var merged = 0
        for i in values.indices {
            values[i].inputs = values[i].inputs.map { replacement[$0] }
            var inputs = values[i].inputs
            if case .op(let op) = values[i].kind, op.isCommutative { inputs.sort() }
            // Leaves with identity (placeholders, parameters, constants) are keyed by their op,
            // which carries the name / id, so equal leaves merge and different ones don't.
            let key = Key(kind: values[i].kind, inputs: inputs, dtype: values[i].dtype)
            if let existing = seen[key] {
                replacement[i] = existing
                merged += 1
            } else {
                seen[key] = i
            }
        }
        outputs = outputs.map { replacement[$0] }
        updates = updates.map { $0.remapped { replacement[$0] } }
        pruneDead()
        return merged
    }

    /// `matmul(transpose(a), b)` → `matmul(a, b, transposeA: true)` and likewise for B:
    /// GEMM reads transposed operands in its packing, so no transpose is materialised.
    mutating func foldTransposesIntoMatmul() {
        for i in values.indices {
            guard case .op(.matmul(var ta, var tb)) = values[i].kind else { continue }
            var inputs = values[i].inputs
            // Only a rank-2 transpose swaps exactly the two axes the product reads.
            if case .op(.transpose) = values[inputs[0]].kind, values[inputs[0]].shape.rank == 2 {
                inputs[0] = values[inputs[0]].inputs[0]
                ta.toggle()
            }
            if case .op(.transpose) = values[inputs[1]].kind, values[inputs[1]].shape.rank == 2 {
                inputs[1] = values[inputs[1]].inputs[0]
                tb.toggle()
            }
            values[i].kind = .op(.matmul(transposeA: ta, transposeB: tb))
            values[i].inputs = inputs
        }
        pruneDead()
    }

    /// Checks the invariants every pass must keep; throws naming the pass and value.
    func verify(after pass: String) throws {
        for (i, v) in values.enumerated() {
            for input in v.inputs where input < 0 || input >= i {
                throw IRVerificationError(message: "after \(pass): \(label(i)) reads value #\(input), which is not defined before it")
            }
            if !v.concrete.isEmpty || v.shape.rank == 0 {
                if v.shape.rank != v.concrete.count && !v.concrete.isEmpty {
                    throw IRVerificationError(message: "after \(pass): \(label(i)) has symbolic rank \(v.shape.rank) but concrete "
                        + "shape \(v.concrete)")
                }
                for (d, c) in zip(v.shape.dims, v.concrete) {
                    if let d, d != c {
                        throw IRVerificationError(message: "after \(pass): \(label(i)) has static dim \(d) but concrete \(c) (shape "
                            + "\(v.shape) vs \(v.concrete))")
                    }
                }
            }
            switch v.kind {
            case .gemm(_, _, let epilogue):
                let expected: Int
                switch epilogue {
                case .none, .activation: expected = 2                       // A, B
                case .bias, .activationGradient: expected = 3               // A, B, epilogue operand
                case .sumOfProducts: expected = max(4, v.inputs.count + v.inputs.count % 2)   // pairs, at least two
                }
                if v.inputs.count != expected {
                    throw IRVerificationError(message: "after \(pass): \(label(i)) has \(v.inputs.count) inputs, expected \(expected)")
                }
            case .elementwise(let program):
                if program.inputCount != v.inputs.count {
                    throw IRVerificationError(message: "after \(pass): \(label(i)) program takes \(program.inputCount) inputs but has "
                        + "\(v.inputs.count)")
                }
            case .op, .folded:
                break
            }
        }
        for u in updates {
            guard case .op(.parameter) = values[u.parameter].kind else {
                throw IRVerificationError(message: "after \(pass): an update targets \(label(u.parameter)), which is not a parameter")
            }
        }
        for o in outputs where o < 0 || o >= values.count {
            throw IRVerificationError(message: "after \(pass): output refers to missing value #\(o)")
        }
    }
}

extension IR {
    /// `p ← p − s·g` (or `p − g·s`, `p + s·g`) with `s` rank 0 becomes an in-place
    /// `axpy` on the parameter's own buffer: no new weights are materialised and
    /// nothing is copied back.
    mutating func recogniseInPlaceUpdates() {
        updates = updates.map { update in
            guard case .assign(let p, let v) = update, case .op(let outer) = values[v].kind,
                  outer == .sub || outer == .add else { return update }
            let ins = values[v].inputs
            guard ins[0] == p, values[ins[1]].dtype == values[p].dtype else { return update }
            let t = ins[1]
            let sign: Double = outer == .sub ? -1 : 1
            if case .op(.mul) = values[t].kind {
                let (a, b) = (values[t].inputs[0], values[t].inputs[1])
                if values[a].shape.rank == 0, values[b].shape == values[p].shape {
                    return .axpy(parameter: p, scale: a, gradient: b, sign: sign)
                }
                if values[b].shape.rank == 0, values[a].shape == values[p].shape {
                    return .axpy(parameter: p, scale: b, gradient: a, sign: sign)
                }
            }
            return update
        }
        pruneDead()
    }
}
