import DataflowKernels

/// Lowering of rank > 2 values that no single 2-D view expresses: element-wise ops
/// with any numpy broadcast, and reductions over any set of axes (with their
/// adjoints). Operands become `StridedLayout`s; element-wise tasks split the rows of
/// all the 2-D views together (bitwise neutral), reductions split their outputs.
extension Lowering {
    /// The program of one element-wise value: its fused program, or a one-instruction
    /// program of its op's kernel, or a copy (broadcast) / zero fill.
    func elementwiseProgram(_ kind: IR.Kind, inputs: Int) -> ElementwiseProgram? {
        switch kind {
        case .elementwise(let program): return program
        case .op(.broadcastLike): return ElementwiseProgram(inputCount: 1, instructions: [.input(0)])
        case .op(.zerosLike): return ElementwiseProgram(inputCount: 0, instructions: [.constant(0)])
        case .op(let op):
            guard let kernel = op.elementwiseKernel, kernel.arity == inputs else { return nil }
            let operands: [ElementwiseProgram.Instruction] = (0..<inputs).map { .input($0) }
            return ElementwiseProgram(inputCount: inputs, instructions: operands + [kernel.instruction(Array(0..<inputs))])
        case .gemm, .folded: return nil
        }
    }

    /// Tasks of a rank-N value the 2-D lowering cannot take (`flattened` returned nil).
    /// - Throws: `CompileError.unsupported` naming the value for what is not lowered.
    mutating func makeRankNTasks<T: KernelScalar>(_ i: Int, _ kind: IR.Kind, _: T.Type, out: ValueRef,
                                                  ins: [ValueRef]) throws -> [PendingTask] {
        let b = bindings
        let cost = Double(out.count + ins.reduce(0) { $0 + $1.count }) * 1.0e-9
        // meanGrad: dy (reduced shape) repeated over `axes`, times 1/count.
        if case .op(.meanGrad(let axes)) = kind {
            let count = axes.reduce(1) { $0 * out.shape[$1] }
            let program = ElementwiseProgram(inputCount: 1, instructions: [.input(0), .constant(1 / Double(max(count, 1))),
                                                                           .binary(.mul, 0, 1)])
            let layout = StridedLayout(shape: out.shape, strides: [StridedLayout.dense(out.shape),
                                                                   StridedLayout.reducedBroadcast(axes: axes, to: out.shape)])
            return stridedElementwiseTasks(i, program, layout, out: out, operands: [ins[0]], cost: cost, T.self)
        }
        if let program = elementwiseProgram(kind, inputs: ins.count) {
            let operands = kind == .op(.broadcastLike) ? [ins[0]] : (kind == .op(.zerosLike) ? [] : ins)
            let layout = StridedLayout(shape: out.shape, strides: [StridedLayout.dense(out.shape)]
                                       + operands.map { StridedLayout.broadcast($0.shape, to: out.shape) })
            return stridedElementwiseTasks(i, program, layout, out: out, operands: operands, cost: cost, T.self)
        }
        guard case .op(let op) = kind else { throw rankNUnsupported(i, out, ins) }
        if case .sum(let axes) = op { return reductionTasks(i, .sum, ins[0], axes: axes, out: out, cost: cost, T.self) }
        if case .mean(let axes) = op { return reductionTasks(i, .mean, ins[0], axes: axes, out: out, cost: cost, T.self) }
        if case .max(let axes) = op { return reductionTasks(i, .max, ins[0], axes: axes, out: out, cost: cost, T.self) }
        if op == .sumToShapeOf {
            // The axes the broadcast stretched: the extra leading ones and the size-1 ones.
            let x = ins[0].shape
            let target = [Int](repeating: 1, count: x.count - out.shape.count) + out.shape
            let axes = x.indices.filter { d in d < x.count - out.shape.count || (target[d] == 1 && x[d] != 1) }
            return reductionTasks(i, .sum, ins[0], axes: axes, out: out, cost: cost, T.self)
        }
        if case .maxGrad(let axes) = op {
            let (x, y, dy) = (ins[0], ins[1], ins[2])
            let reduced = StridedLayout.reducedBroadcast(axes: axes, to: x.shape)
            return [task(i, kind: .reduction, cost: cost) {
                try StridedReduce.maxBackward(shape: x.shape, x: (b.buffer(x.slot, T.self), offset: x.offset,
                                                                  strides: StridedLayout.dense(x.shape)),
                                              max: (b.buffer(y.slot, T.self), offset: y.offset, strides: reduced),
                                              gradient: (b.buffer(dy.slot, T.self), offset: dy.offset, strides: reduced),
                                              into: b.buffer(out.slot, T.self), dxOffset: out.offset)
            }]
        }
        throw rankNUnsupported(i, out, ins)
    }

    func rankNUnsupported(_ i: Int, _ out: ValueRef, _ ins: [ValueRef]) -> CompileError {
        CompileError(message: "\(ir.label(i)) of shape \(out.shape) reading \(ins.map { "\($0.shape)" }.joined(separator: ", ")): "
                     + "this op has no compiled kernel above rank 2 (the reference interpreter handles any rank)",
                     kind: .unsupported)
    }

    /// Element-wise tasks over a strided layout (operand 0 of `layout` is the output):
    /// the rows of all its 2-D views, split into ranges.
    func stridedElementwiseTasks<T: KernelScalar>(_ i: Int, _ program: ElementwiseProgram, _ layout: StridedLayout,
                                                  out: ValueRef, operands: [ValueRef], cost: Double,
                                                  _: T.Type) -> [PendingTask] {
        let b = bindings
        let rows = layout.rows
        let totalRows = layout.outerCount * rows
        return rowChunks(totalRows, elements: out.count).map { range in
            task(i, " rows \(range)", kind: .elementwise, cost: cost * Double(range.count) / Double(max(totalRows, 1))) {
                var o = range.lowerBound / rows
                while o * rows < range.upperBound {
                    let part = max(range.lowerBound - o * rows, 0)..<min(range.upperBound - o * rows, rows)
                    let inputs = operands.indices.map { layout.view($0 + 1, operands[$0], b, outer: o, T.self).rows(part) }
                    try Elementwise.run(program, inputs: inputs, into: layout.view(0, out, b, outer: o, T.self).rows(part))
                    o += 1
                }
            }
        }
    }

    /// `op` of x over `axes` into the dense `out` (x's shape without `axes`), any rank,
    /// with StridedReduce; the outputs are split into ranges (bitwise neutral: each
    /// output's order is fixed).
    func reductionTasks<T: KernelScalar>(_ i: Int, _ op: ReduceOp, _ x: ValueRef, axes: [Int], out: ValueRef,
                                         cost: Double, _: T.Type) -> [PendingTask] {
        let b = bindings
        // Merge axes that are both kept or both reduced (a second operand with stride 0 along
        // the reduced axes keeps them apart).
        let layout = StridedLayout(shape: x.shape, strides: [StridedLayout.dense(x.shape),
                                                              StridedLayout.reducedBroadcast(axes: axes, to: x.shape)])
        let reduced = layout.shape.indices.map { layout.strides[1][$0] == 0 && layout.shape[$0] != 1 }
        let outputs = max(out.count, 1)
        let kind: TaskKind = .reduction
        return rowChunks(outputs, elements: x.count).map { range in
            task(i, outputs > range.count ? " outputs \(range)" : "", kind: kind, cost: cost * Double(range.count) / Double(outputs)) {
                try StridedReduce.reduce(op, b.buffer(x.slot, T.self), offset: x.offset, shape: layout.shape,
                                         strides: layout.strides[0], reduced: reduced, into: b.buffer(out.slot, T.self),
                                         yOffset: out.offset, outputs: range)
            }
        }
    }
}
