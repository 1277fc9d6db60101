import DataflowKernels

/// The symbolic half of compilation: shape-independent passes.
struct SymbolicProgram {
    var ir: IR

    init(graph: Graph, inputs: [Tensor], outputs: [Tensor], updates: [ParameterUpdate], options: CompileOptions) throws {
        var outs = outputs
        var ups = updates.map { ($0.parameter, $0.value) }
        var updatedParameters = Set<NodeID>()
        for u in updates where !updatedParameters.insert(u.parameter.id).inserted {
            throw CompileError(message: "compile: parameter '\(u.parameter.label)' is updated twice in one program", kind: .invalidUpdate)
        }
        for u in updates {
            guard case .parameter = graph.storedNode(u.parameter.id).op else {
                throw CompileError(message: "compile: update target \(u.parameter.name ?? "#\(u.parameter.id.rawValue)") is not a "
                    + "parameter", kind: .invalidUpdate)
            }
            guard graph.storedNode(u.parameter.id).shape == graph.storedNode(u.value.id).shape,
                  graph.storedNode(u.parameter.id).dtype == graph.storedNode(u.value.id).dtype else {
                throw CompileError(message: "compile: update of parameter '\(u.parameter.name ?? "?")' "
                    + "\(graph.storedNode(u.parameter.id).shape) with a value of shape \(graph.storedNode(u.value.id).shape) "
                        + "(\(graph.storedNode(u.value.id).dtype))", kind: .invalidUpdate)
            }
        }
        if options.stabilize {
            let all = try stabilize(outs + ups.map(\.1))
            outs = Array(all.prefix(outs.count))
            ups = zip(ups, all.dropFirst(outs.count)).map { ($0.0, $1) }
        }
        ir = IR.build(graph: graph, outputs: outs.map(\.id), updates: ups.map { ($0.0.id, $0.1.id) })
        let verify = options.verifyPasses || _isDebugAssertConfiguration()
        func step(_ name: String, _ body: (inout IR) throws -> Void) throws {
            try body(&ir)
            if verify { try ir.verify(after: name) }
        }
        try step("build + prune") { _ in }
        try step("merge") { $0.mergeEqual() }
        try step("constant folding") { try $0.foldConstants(graph: graph) }
        try step("fold transposes") { $0.foldTransposesIntoMatmul() }
        try step("in-place updates") { $0.recogniseInPlaceUpdates() }
        try step("merge") { $0.mergeEqual() }

        // Every placeholder the program reads must be an input.
        let inputNames = Set(inputs.compactMap { t -> String? in
            if case .placeholder(let name) = graph.storedNode(t.id).op { return name } else { return nil }
        })
        for t in inputs {
            guard case .placeholder = graph.storedNode(t.id).op else {
                throw CompileError(message: "compile: input \(t.name ?? "#\(t.id.rawValue)") is not a placeholder", kind: .invalidInput)
            }
        }
        for v in ir.values {
            if case .op(.placeholder(let name)) = v.kind, !inputNames.contains(name) {
                throw CompileError(message: "compile: the outputs need placeholder '\(name)', which is not among the inputs "
                    + "\(inputNames.sorted())", kind: .missingInput(name))
            }
        }
    }
}

extension IR {
    /// Evaluates at compile time every value whose inputs are all constants
    /// (not parameters: they change), with the reference interpreter.
    mutating func foldConstants(graph: Graph) throws {
        var isConstant = [Bool](repeating: false, count: values.count)
        for i in values.indices {
            switch values[i].kind {
            case .op(.constant), .op(.scalar), .folded:
                isConstant[i] = true
            case .op(.placeholder), .op(.parameter):
                continue
            case .op(.zerosLike):
                continue   // its input's values do not matter, but its shape may be unknown
            case .op, .gemm, .elementwise:
                guard !values[i].inputs.isEmpty, values[i].inputs.allSatisfy({ isConstant[$0] }),
                      values[i].shape.dims.allSatisfy({ $0 != nil }), let origin = values[i].origin else { continue }
                // Folding through the interpreter is only worthwhile for small values.
                let size = values[i].shape.dims.reduce(1) { $0 * ($1 ?? 1) }
                guard size <= 1 << 16 else { continue }
                let value = try evaluate([Tensor(graph: graph, id: origin)], feeds: [:])[0]
                values[i].kind = .folded(FoldedConstant(value: value, id: origin.rawValue))
                values[i].inputs = []
                isConstant[i] = true
            }
        }
        pruneDead()
    }
}
