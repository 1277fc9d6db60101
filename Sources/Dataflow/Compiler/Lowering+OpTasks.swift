import DataflowKernels
import DataflowScheduler

/// The tasks of one value: tile tasks for matmuls, row ranges for element-wise ops,
/// column ranges for column reductions, one task for the rest.
extension Lowering {
    // MARK: - Per-op tasks

    /// Rows split into at most `chunks` ranges of about equal size.
    func rowChunks(_ rows: Int, elements: Int) -> [Range<Int>] {
        let wanted = max(1, min(rows, elements / options.elementsPerTask, 4 * workers))
        return (0..<wanted).map { c in (rows * c / wanted)..<(rows * (c + 1) / wanted) }
    }

    func task(_ i: Int, _ suffix: String = "", kind: TaskKind, cost: Double,
                      _ body: @escaping @Sendable () throws -> Void) -> PendingTask {
        PendingTask(name: ir.label(i) + suffix, cost: cost, kind: kind, body: guarded(ir.label(i), body), dependencies: [])
    }

    func matmulKind(_ i: Int, transposeA: Bool, transposeB: Bool) -> TaskKind {
        guard ir.values[i].isGradient else { return .forwardMatmul }
        if transposeA { return .weightGradientMatmul }
        if transposeB { return .inputGradientMatmul }
        return .inputGradientMatmul
    }

    /// Tiles wanted for a product of `flops`: one below twice `minimumTileFlops`, else
    /// `tilesPerMatmul` (default 1 for one worker, 2 per worker otherwise), at most one
    /// per `minimumTileFlops`.
    func tileTarget(flops: Double) -> Int {
        flops < options.minimumTileFlops * 2 ? 1
            : max(1, min(options.tilesPerMatmul ?? (workers == 1 ? 1 : 2 * workers), Int(flops / options.minimumTileFlops)))
    }

    mutating func makeTasks<T: KernelScalar>(_ i: Int, _: T.Type) throws -> [PendingTask] {
        let v = ir.values[i]
        var (kind, out, ins) = (v.kind, refs[i]!, v.inputs.map { refs[$0]! })
        if case .op(let op) = v.kind, IR.isImageLayer(op) {
            return try makeImageLayerTasks(i, op, T.self, out: out, ins: ins)
        }
        if case .op(let op) = v.kind, Lowering.isStructural(op) {
            return try makeStructuralTasks(i, op, out: out, ins: ins)   // at their rank-N shapes
        }
        if case .gemm(let ta, let tb, _) = kind, out.shape.count > 2 || ins.contains(where: { $0.shape.count > 2 }) {
            return try makeBatchedGemmTasks(i, kind, transposeA: ta, transposeB: tb, T.self, out: out, ins: ins)
        }
        if out.shape.count > 2 || ins.contains(where: { $0.shape.count > 2 }) {
            guard let flat = flattened(i, kind, out, ins) else {
                return try makeRankNTasks(i, kind, T.self, out: out, ins: ins)
            }
            (kind, out, ins) = flat
        }
        return try makeTasks(i, kind, T.self, out: out, ins: ins)
    }

    mutating func makeTasks<T: KernelScalar>(_ i: Int, _ kind: IR.Kind, _: T.Type, out: ValueRef, ins: [ValueRef]) throws -> [PendingTask] {
        let b = bindings
        let count = Double(out.count)
        let elementCost = 1.0e-9   // seconds per element touched: a rough memory-bound estimate
        switch kind {
        case .gemm(let ta, let tb, let epilogueKind):
            let (m, n) = out.matrixShape
            let k = ta ? ins[0].matrixShape.rows : ins[0].matrixShape.cols
            let f = 2.0 * Double(m) * Double(n) * Double(k)
            flops += f
            let target = tileTarget(flops: f)
            let tiling = GEMMTiling.automatic(m: m, n: n, k: k, targetTiles: target, transposeA: ta)
            let (a, bb) = (ins[0], ins[1])
            let kind = matmulKind(i, transposeA: ta, transposeB: tb)
            if epilogueKind == .sumOfProducts {
                // Every pair has A's and B's shapes (IR.fuseProductSums), so one tiling fits all.
                let pairs = ins.count / 2
                flops += f * Double(pairs - 1)
                let tiling = GEMMTiling.automatic(m: m, n: n, k: k, targetTiles: tileTarget(flops: f * Double(pairs)), transposeA: ta)
                let perTile = f * Double(pairs) / Double(tiling.tileCount) / 1.5e11
                return (0..<tiling.tileCount).map { t in
                    task(i, tiling.tileCount > 1 ? " tile \(t)" : "", kind: kind, cost: perTile) {
                        let c = out.view(b, T.self)
                        for p in 0..<pairs {
                            try GEMM.multiplyTile(ins[2 * p].view(b, T.self), transposeA: ta, ins[2 * p + 1].view(b, T.self),
                                                  transposeB: tb, into: c, beta: p == 0 ? 0 : 1, tiling: tiling, tile: t)
                        }
                    }
                }
            }
            let extra = ins.count > 2 ? ins[2] : nil
            let perTile = f / Double(tiling.tileCount) / 1.5e11
            return (0..<tiling.tileCount).map { t in
                task(i, tiling.tileCount > 1 ? " tile \(t)" : "", kind: kind, cost: perTile) {
                    let epilogue: GEMMEpilogue<T>
                    switch epilogueKind {
                    case .none: epilogue = .none
                    case .bias(let act): epilogue = .bias(extra!.view(b, T.self), act)
                    case .activation(let act): epilogue = .activation(act)
                    case .activationGradient(let act): epilogue = .activationGradient(act, output: extra!.view(b, T.self))
                    case .sumOfProducts: epilogue = .none   // returned above
                    }
                    try GEMM.multiplyTile(a.view(b, T.self), transposeA: ta, bb.view(b, T.self), transposeB: tb,
                                          into: out.view(b, T.self), epilogue: epilogue, tiling: tiling, tile: t)
                }
            }
        case .elementwise(let program):
            let (rows, _) = out.matrixShape
            return rowChunks(rows, elements: out.count).map { range in
                task(i, " rows \(range)", kind: .elementwise, cost: count * elementCost * Double(range.count) / Double(max(rows, 1))) {
                    let inputs = ins.map { $0.broadcastView(b, to: out.shape, T.self).rows(range) }
                    try Elementwise.run(program, inputs: inputs, into: out.view(b, T.self).rows(range))
                }
            }
        case .folded:
            return []
        case .op(let op):
            return try makeOpTasks(i, op, T.self, out: out, ins: ins, cost: count * elementCost)
        }
    }

    mutating func makeOpTasks<T: KernelScalar>(_ i: Int, _ op: Op, _: T.Type, out: ValueRef, ins: [ValueRef],
                                               cost: Double) throws -> [PendingTask] {
        let b = bindings
        let v = ir.values[i]
        func elementwiseTasks(_ kind: TaskKind, _ body: @escaping @Sendable (Range<Int>) throws -> Void) -> [PendingTask] {
            let (rows, _) = out.matrixShape
            return rowChunks(rows, elements: out.count).map { range in
                task(i, " rows \(range)", kind: kind, cost: cost * Double(range.count) / Double(max(rows, 1))) { try body(range) }
            }
        }
        func unary(_ u: UnaryOp) -> [PendingTask] {
            elementwiseTasks(.elementwise) { r in
                try Elementwise.unary(u, ins[0].broadcastView(b, to: out.shape, T.self).rows(r), into: out.view(b, T.self).rows(r))
            }
        }
        func ternary(_ top: TernaryOp) -> [PendingTask] {
            elementwiseTasks(.elementwise) { r in
                try Elementwise.ternary(top, ins[0].broadcastView(b, to: out.shape, T.self).rows(r),
                                        ins[1].broadcastView(b, to: out.shape, T.self).rows(r),
                                        ins[2].broadcastView(b, to: out.shape, T.self).rows(r), into: out.view(b, T.self).rows(r))
            }
        }
        func binary(_ bop: BinaryOp) -> [PendingTask] {
            elementwiseTasks(.elementwise) { r in
                try Elementwise.binary(bop, ins[0].broadcastView(b, to: out.shape, T.self).rows(r),
                                       ins[1].broadcastView(b, to: out.shape, T.self).rows(r), into: out.view(b, T.self).rows(r))
            }
        }
        func single(_ kind: TaskKind, _ body: @escaping @Sendable () throws -> Void) -> [PendingTask] {
            [task(i, kind: kind, cost: cost, body)]
        }
        /// Reduces `x` (rank ≤ 2) over `axes` of its padded 2-D form into `out`.
        func reduce(_ rop: ReduceOp, _ x: ValueRef, rowsAxis: Bool, colsAxis: Bool, kind: TaskKind) -> [PendingTask] {
            if x.shape.count == 1 || (rowsAxis && colsAxis) {
                return single(kind) { try Reduce.all(rop, x.view(b, T.self), into: out.view(b, T.self)) }
            } else if rowsAxis {
                // Per column, split into column ranges: bitwise neutral (each column's order is fixed).
                let cols = x.matrixShape.cols
                let chunks = max(1, min(cols / 64, x.count / options.elementsPerTask, 4 * workers))
                return (0..<chunks).map { c in
                    let range = (cols * c / chunks)..<(cols * (c + 1) / chunks)
                    return task(i, chunks > 1 ? " cols \(range)" : "", kind: kind, cost: cost * Double(x.count) / Double(max(out.count,
                            1)) / Double(chunks)) {
                        let y = MatrixView(b.buffer(out.slot, T.self), offset: out.offset, rows: 1, cols: cols)
                        try Reduce.columns(rop, x.view(b, T.self).cols(range), into: y.cols(range))
                    }
                }
            } else if colsAxis {
                return single(kind) {
                    let y = MatrixView(b.buffer(out.slot, T.self), offset: out.offset, rows: x.matrixShape.rows, cols: 1)
                    try Reduce.rows(rop, x.view(b, T.self), into: y)
                }
            } else {
                return single(.copy) { try Elementwise.copy(x.view(b, T.self), into: out.view(b, T.self)) }
            }
        }
        func reduceAxes(_ rop: ReduceOp, _ axes: [Int]) -> [PendingTask] {
            let x = ins[0]
            if x.shape.isEmpty {
                return single(.copy) { try Elementwise.copy(x.view(b, T.self), into: out.view(b, T.self)) }
            }
            if x.shape.count == 1 {
                return reduce(rop, x, rowsAxis: !axes.isEmpty, colsAxis: !axes.isEmpty, kind: .reduction)
            }
            return reduce(rop, x, rowsAxis: axes.contains(0), colsAxis: axes.contains(1), kind: .reduction)
        }
        let labelName: String = v.inputs.count > 1 ? (ir.values[v.inputs[1]].name ?? ir.label(v.inputs[1])) : "labels"
        /// Checks the labels (`ins[1]`) against the class count of `ins[classesFrom]`
        /// first, so that a bad label is the same typed error as in the interpreter.
        func labelsGuard(classesFrom: Int = 0, _ body: @escaping @Sendable () throws -> Void) -> @Sendable () throws -> Void {
            let labels = ins[1], classes = ins[classesFrom].matrixShape.cols
            let name = labelName
            return {
                let buffer = b.buffer(labels.slot, Int32.self)
                for k in 0..<labels.count {
                    let l = Int(buffer[labels.offset + k])
                    if l < 0 || l >= classes {
                        throw RuntimeError(message: "labels '\(name)': label \(l) at row \(k) is out of range 0..<\(classes)",
                                           kind: .labelOutOfRange(tensor: name, index: k, label: l, classes: classes))
                    }
                }
                do { try body() } catch let error as KernelError {
                    throw RuntimeError(message: "labels '\(name)': \(error.message)")
                }
            }
        }

        switch op {
        case .placeholder, .parameter, .constant, .scalar, .reshape, .stopGradient:
            return []
        case .conv2d, .conv2dBackwardInput, .conv2dBackwardKernel, .maxPool2d, .maxPool2dGrad, .avgPool2d, .avgPool2dGrad:
            return try makeImageLayerTasks(i, op, T.self, out: out, ins: ins)
        case .cast, .concat, .slice, .sliceGrad, .permute, .oneHot, .gatherRows, .scatterAddRows, .dropoutMask:
            return try makeStructuralTasks(i, op, out: out, ins: ins)   // Lowering+StructuralOps.swift
        case .zerosLike:
            return single(.elementwise) { try Elementwise.fill(T(0), into: out.view(b, T.self)) }
        case .matmul(let ta, let tb):
            let (m, n) = out.matrixShape
            let k = ta ? ins[0].matrixShape.rows : ins[0].matrixShape.cols
            let f = 2.0 * Double(m * n) * Double(k)
            flops += f
            return single(matmulKind(i, transposeA: ta, transposeB: tb)) {
                try GEMM.multiply(ins[0].view(b, T.self), transposeA: ta, ins[1].view(b, T.self), transposeB: tb, into: out.view(b, T.self))
            }
        case .transpose:
            return single(.copy) { try Elementwise.copy(ins[0].transposedView(b, T.self), into: out.view(b, T.self)) }
        case .add, .sub, .mul, .div, .sigmoidGrad, .tanhGrad, .reluGrad, .neg, .exp, .log, .sigmoid, .tanh, .relu,
             .sqrt, .rsqrt, .square, .abs, .sign, .log1p, .expm1, .pow, .maximum, .minimum,
             .greater, .greaterEqual, .less, .lessEqual, .equal, .notEqual, .select, .clamp:
            // The kernel comes from the one table (Op+Elementwise.swift).
            switch op.elementwiseKernel {
            case .unary(let u): return unary(u)
            case .binary(let bop): return binary(bop)
            case .ternary(let top): return ternary(top)
            case nil: throw CompileError(message: "\(ir.label(i)): \(op.name) is not in the element-wise table", kind: .other)
            }
        case .sum(let axes): return reduceAxes(.sum, axes)
        case .mean(let axes): return reduceAxes(.mean, axes)
        case .max(let axes): return reduceAxes(.max, axes)
        case .broadcastLike:
            return single(.copy) { try Elementwise.copy(ins[0].broadcastView(b, to: out.shape, T.self), into: out.view(b, T.self)) }
        case .sumToShapeOf:
            let x = ins[0]
            let xs = [Int](repeating: 1, count: max(0, 2 - x.shape.count)) + x.shape
            let os = [Int](repeating: 1, count: max(0, 2 - out.shape.count)) + out.shape
            let rowsAxis = os[0] == 1 && xs[0] != 1
            let colsAxis = os[1] == 1 && xs[1] != 1
            return reduce(.sum, x, rowsAxis: rowsAxis, colsAxis: colsAxis,
                          kind: v.isGradient && rowsAxis && !colsAxis ? .biasGradient : .reduction)
        case .meanGrad(let axes):
            // dy (reduced shape) broadcast back over `axes`, times 1/count, in one fused loop.
            let dy = ins[0]
            let reducedCount = axes.reduce(1) { $0 * out.shape[$1] }
            let program = ElementwiseProgram(inputCount: 1, instructions: [.input(0), .constant(1 / Double(max(reducedCount, 1))),
                                                                           .binary(.mul, 0, 1)])
            return elementwiseTasks(.elementwise) { r in
                try Elementwise.run(program, inputs: [Lowering.reducedBroadcastView(dy, axes: axes, to: out.shape, b, T.self).rows(r)],
                                    into: out.view(b, T.self).rows(r))
            }
        case .maxGrad(let axes):
            let (x, y, dy) = (ins[0], ins[1], ins[2])
            return single(.reduction) {
                try Reduce.maxBackward(x: x.view(b, T.self), max: Lowering.reducedBroadcastView(y, axes: axes, to: x.shape, b, T.self),
                                       gradient: Lowering.reducedBroadcastView(dy, axes: axes, to: x.shape, b, T.self),
                                       into: out.view(b, T.self))
            }
        case .softmax:
            return single(.rowwise) { try RowOps.softmax(ins[0].view(b, T.self), into: out.view(b, T.self)) }
        case .logSoftmax:
            return single(.rowwise) { try RowOps.logSoftmax(ins[0].view(b, T.self), into: out.view(b, T.self)) }
        case .softmaxGrad:
            return single(.rowwise) { try RowOps.softmaxBackward(output: ins[0].view(b, T.self), ins[1].view(b, T.self),
                                                                 into: out.view(b, T.self)) }
        case .logSoftmaxGrad:
            return single(.rowwise) { try RowOps.logSoftmaxBackward(output: ins[0].view(b, T.self), ins[1].view(b, T.self),
                                                                    into: out.view(b, T.self)) }
        case .gatherLabels:
            return single(.rowwise, labelsGuard { try RowOps.gather(ins[0].view(b, T.self), labels: ins[1].view(b, Int32.self),
                                                                    into: out.view(b, T.self)) })
        case .scatterLabels:
            return single(.rowwise, labelsGuard(classesFrom: 2) { try RowOps.scatter(ins[0].view(b, T.self), labels: ins[1].view(b,
                    Int32.self), into: out.view(b, T.self)) })
        case .crossEntropy:
            return single(.rowwise, labelsGuard { try RowOps.crossEntropy(logits: ins[0].view(b, T.self), labels: ins[1].view(b,
                    Int32.self), into: out.view(b, T.self)) })
        case .crossEntropyGrad:
            return single(.rowwise, labelsGuard {
                try RowOps.crossEntropyBackward(logits: ins[0].view(b, T.self), labels: ins[1].view(b, Int32.self),
                                                scale: ins[2].view(b, T.self), into: out.view(b, T.self))
            })
        case .argmax(let axis):
            let x = ins[0]
            let transposed = x.shape.count == 2 && axis == 0
            return single(.rowwise) {
                let xv = transposed ? x.transposedView(b, T.self) : x.view(b, T.self)
                try RowOps.argmax(xv, into: out.view(b, Int32.self))
            }
        }
    }

    /// A view of `r`, whose shape is `target` with `axes` removed, that repeats it
    /// along `axes` (stride 0) to `target`'s rank ≤ 2 shape.
    static func reducedBroadcastView<T: TensorElement>(_ r: ValueRef, axes: [Int], to target: [Int], _ b: Bindings,
                                                       _: T.Type) -> MatrixView<T> {
        // Dense strides of r's own dims, then stride 0 for the reduced axes.
        let strides = StridedLayout.reducedBroadcast(axes: axes, to: target)
        let out2 = target.count == 0 ? [1, 1] : (target.count == 1 ? [1, target[0]] : target)
        let s2 = target.count == 0 ? [0, 0] : (target.count == 1 ? [0, strides[0]] : strides)
        return MatrixView(b.buffer(r.slot, T.self), offset: r.offset, rows: out2[0], cols: out2[1], rowStride: s2[0], colStride: s2[1])
    }

}
