import DataflowKernels
import DataflowScheduler

/// Lowering: a specialised, fused, memory-planned IR becomes a task graph whose
/// bodies call the kernels.
///
/// One task per cheap op; a large matmul becomes several tile tasks (the kernels'
/// tiled entry point: a 2-D split of C, K never split, so results are bitwise the
/// same whatever the tiling and the thread count); large element-wise ops and
/// column reductions are split into row / column ranges, which is also bitwise
/// neutral. A value made of several tasks gets an empty join task that its
/// consumers wait on. Priorities are bottom levels (estimated seconds of the
/// longest path to the end), so the critical chain `dZ_k → dZ_{k−1}` runs ahead
/// of the weight gradients that hang off it.
struct Lowering {
    struct PendingTask {
        var name: String
        var cost: Double
        var kind: TaskKind
        var body: @Sendable () throws -> Void
        var dependencies: [Int]   // indices into `tasks`
    }

    let ir: IR
    let plan: MemoryPlan
    let options: CompileOptions
    let workers: Int

    private(set) var tasks: [PendingTask] = []
    /// The task a consumer of value i waits on (nil for leaves and aliases).
    private(set) var done: [Int?]
    /// All tasks of value i (for update anti-dependencies and extra edges).
    private(set) var tasksOf: [[Int]]
    private(set) var refs: [ValueRef?]
    let bindings: Bindings
    private(set) var arenaSlot: [DType: Int] = [:]
    private(set) var feedSlot: [String: Int] = [:]
    private(set) var parameterSlot: [ParameterID: Int] = [:]
    private(set) var outputSlot: [Int] = []          // per plan.outputSlots entry
    private(set) var constantSlot: [Int] = []        // per plan.constants entry
    /// Parameter value (root) → slot of the copy an output of it is returned in,
    /// for parameters this program updates (the output is the value before the update).
    private(set) var snapshotSlots: [Int: Int] = [:]
    /// Slots the program owns and hands out as outputs: (slot, dtype, element count).
    private(set) var ownedSlots: [(slot: Int, dtype: DType, count: Int)] = []
    /// Bytes of the staging buffers of updates that cannot run in place.
    private(set) var stagingBytes = 0
    var flops: Double = 0   // set by the image-layer lowering too (Lowering+ImageLayers.swift)

    init(ir: IR, plan: MemoryPlan, options: CompileOptions, workers: Int) throws {
        self.ir = ir
        self.plan = plan
        self.options = options
        self.workers = workers
        let n = ir.count
        done = Array(repeating: nil, count: n)
        tasksOf = Array(repeating: [], count: n)
        refs = Array(repeating: nil, count: n)

        // Slots.
        var slots = 0
        var arena: [DType: Int] = [:]
        for dtype in plan.arenaSize.keys.sorted(by: { $0.byteSize < $1.byteSize || ($0.byteSize == $1.byteSize && "\($0)" < "\($1)") }) {
            arena[dtype] = slots; slots += 1
        }
        var feeds: [String: Int] = [:], params: [ParameterID: Int] = [:]
        let outs = plan.outputSlots.map { _ in defer { slots += 1 }; return slots }
        let consts = plan.constants.map { _ in defer { slots += 1 }; return slots }
        for loc in plan.locations {
            switch loc {
            case .feed(let name) where feeds[name] == nil: feeds[name] = slots; slots += 1
            case .parameter(let id) where params[id] == nil: params[id] = slots; slots += 1
            default: break
            }
        }
        var owned = plan.outputSlots.enumerated().map { k, o in (slot: outs[k], dtype: o.dtype, count: o.count) }
        // Outputs that are (views of) parameters this program updates are returned as copies
        // taken before the update; other parameter outputs are returned in the parameter's
        // buffer, which the runtime marks as handed out (copy-on-write).
        let updatedParameters = Set(ir.updates.map(\.parameter))
        var snapshots: [Int: Int] = [:]
        for o in ir.outputs {
            var r = o
            if case .alias(let a) = plan.locations[o] { r = a }
            guard case .parameter = plan.locations[r], updatedParameters.contains(r), snapshots[r] == nil else { continue }
            snapshots[r] = slots
            owned.append((slot: slots, dtype: ir.values[r].dtype, count: ir.values[r].concrete.reduce(1, *)))
            slots += 1
        }
        arenaSlot = arena; feedSlot = feeds; parameterSlot = params; outputSlot = outs; constantSlot = consts
        snapshotSlots = snapshots; ownedSlots = owned
        // Arena slots are bound by the runtime at each call (the arenas are shared by the
        // shape-specialised programs of one function); feeds, parameters and owned outputs too.
        bindings = Bindings(slotCount: slots)
        for (k, c) in plan.constants.enumerated() { bindings.buffers[consts[k]] = c.storageObject }

        // Refs.
        for i in 0..<n {
            refs[i] = ref(of: plan.locations[i], shape: ir.values[i].concrete)
        }
        for i in 0..<n {
            if case .alias(let root) = plan.locations[i] {
                refs[i] = ValueRef(slot: refs[root]!.slot, offset: refs[root]!.offset, shape: ir.values[i].concrete)
            }
        }
        try lowerAll()
    }

    private func ref(of location: MemoryPlan.Location, shape: [Int]) -> ValueRef? {
        switch location {
        case .feed(let name): ValueRef(slot: feedSlot[name]!, offset: 0, shape: shape)
        case .parameter(let id): ValueRef(slot: parameterSlot[id]!, offset: 0, shape: shape)
        case .constant(let k): ValueRef(slot: constantSlot[k], offset: 0, shape: shape)
        case .arena(let dtype, let offset): ValueRef(slot: arenaSlot[dtype]!, offset: offset, shape: shape)
        case .output(let k): ValueRef(slot: outputSlot[k], offset: 0, shape: shape)
        case .alias: nil
        }
    }

    /// A zero-filled buffer of `count` elements of `dtype`, as a slot object.
    static func makeBuffer(_ dtype: DType, count: Int) -> AnyObject {
        switch dtype {
        case .float32: TensorBuffer<Float>(count: count)
        case .float64: TensorBuffer<Double>(count: count)
        case .int32: TensorBuffer<Int32>(count: count)
        }
    }

    /// The storage root of value i (itself unless it is an alias).
    func root(_ i: Int) -> Int {
        if case .alias(let r) = plan.locations[i] { return r }
        return i
    }

    // MARK: - Tasks

    private mutating func lowerAll() throws {
        for i in 0..<ir.count {
            let v = ir.values[i]
            if case .alias = plan.locations[i] { continue }
            switch v.kind {
            case .op(.placeholder), .op(.parameter), .op(.constant), .op(.scalar), .folded:
                continue
            default:
                break
            }
            let dependencies = Array(Set(v.inputs.compactMap { done[root($0)] })).sorted()
            let floatType = v.inputs.first.map { ir.values[$0].dtype } ?? v.dtype
            let bodies: [PendingTask]
            switch (floatType == .int32 ? v.dtype : floatType) {
            case .float32: bodies = try makeTasks(i, Float.self)
            case .float64: bodies = try makeTasks(i, Double.self)
            case .int32:
                throw CompileError(message: "\(ir.label(i)): no kernel computes an int32 result from int32 inputs", kind: .unsupported)
            }
            var ids: [Int] = []
            let first = tasks.count
            for var task in bodies {
                // A body's own dependencies are indices among the value's bodies.
                task.dependencies = dependencies + task.dependencies.map { first + $0 }
                tasks.append(task)
                ids.append(tasks.count - 1)
            }
            tasksOf[i] = ids
            if ids.count == 1 && !options.checkNumerics {
                done[i] = ids[0]
            } else {
                let check = options.checkNumerics ? numericsCheck(i) : nil
                tasks.append(PendingTask(name: "join \(ir.label(i))", cost: 0, kind: .join,
                                         body: check ?? {}, dependencies: ids))
                done[i] = tasks.count - 1
            }
        }
        try lowerUpdates()
        for (reader, writer) in plan.extraEdges {
            guard let r = done[reader] else { continue }
            for t in tasksOf[writer] { tasks[t].dependencies.append(r) }
        }
    }

    /// Parameter updates as simultaneous assignments (Theano's `updates`): every
    /// update reads the values from before the call, whatever the others write.
    ///
    /// An update runs in place (an `axpy` on the parameter's buffer, or a copy of a
    /// separately computed value) once every task that reads the old value is done:
    /// the graph's readers, an output snapshot, and the other updates that read the
    /// parameter while they write their own. When those update-reads-update orders
    /// form a cycle (a swap `a ← b, b ← a`, or `a ← a − b, b ← b − a`), in place is
    /// not possible: each update in the cycle is *staged*, computed into a private
    /// buffer first and committed (copied) after every reader. Staging computes the
    /// same kernels in the same order, so results do not depend on the choice.
    private mutating func lowerUpdates() throws {
        var updated = Set<Int>()
        for update in ir.updates {
            guard updated.insert(update.parameter).inserted else {
                throw CompileError(message: "parameter \(ir.label(update.parameter)) is updated twice in one program",
                                   kind: .invalidUpdate)
            }
            if ir.values[update.parameter].dtype == .int32, case .axpy = update {
                throw CompileError(message: "update of \(ir.label(update.parameter)): int32 parameters cannot be trained",
                                   kind: .invalidUpdate)
            }
        }
        let updates = ir.updates
        var writer: [Int: Int] = [:]                 // parameter value → index of its update
        for (u, update) in updates.enumerated() { writer[update.parameter] = u }
        // Parameters (other than its own) an update reads while it runs, not through a graph task.
        func commitReads(_ update: IR.Update) -> [Int] {
            let read: [Int] = switch update {
            case .axpy(_, let s, let g, _): [root(s), root(g)]
            case .assign(_, let v): [root(v)]
            }
            return Array(Set(read.filter { $0 != update.parameter && writer[$0] != nil })).sorted()
        }
        let reads = updates.map(commitReads)
        // u → w when u reads w's parameter: u must run before w writes.
        let successors = reads.map { $0.compactMap { writer[$0] } }
        let staged = UpdateOrder.onCycles(successors)
        let order = try UpdateOrder.topological(successors, skipping: staged)

        // Readers of each parameter among the update tasks, filled as they are created.
        var updateReaders: [Int: [Int]] = [:]
        // 1. Snapshots of parameters that are outputs and are updated (the output is the old value).
        for (p, slot) in snapshotSlots.sorted(by: { $0.key < $1.key }) where writer[p] != nil {
            let source = refs[p]!
            let target = ValueRef(slot: slot, offset: 0, shape: source.shape)
            let body = copyBody(source, target, ir.values[p].dtype)
            tasks.append(PendingTask(name: "snapshot \(ir.label(p))", cost: Double(source.count) * 1e-9, kind: .copy,
                                     body: body, dependencies: []))
            updateReaders[p, default: []].append(tasks.count - 1)
        }
        // 2. Staged updates: compute into a private buffer (reads old values only).
        var stageTask: [Int: Int] = [:]
        var stagingRef: [Int: ValueRef] = [:]
        for u in updates.indices where staged[u] {
            let p = updates[u].parameter
            let target = refs[p]!
            let temp = ValueRef(slot: makeStagingSlot(ir.values[p].dtype, count: target.count), offset: 0, shape: target.shape)
            stagingRef[u] = temp
            let (body, deps) = try updateBody(updates[u], into: temp, fromParameter: true)
            tasks.append(PendingTask(name: "stage update \(ir.label(p))", cost: Double(target.count) * 1e-9,
                                     kind: .parameterUpdate, body: body, dependencies: deps))
            stageTask[u] = tasks.count - 1
            for r in reads[u] { updateReaders[r, default: []].append(tasks.count - 1) }
        }
        // 3. In-place updates, each after everything that reads its parameter's old value.
        for u in order {
            let p = updates[u].parameter
            let (body, inputs) = try updateBody(updates[u], into: refs[p]!, fromParameter: false)
            let deps = inputs + graphReaders(of: p) + updateReaders[p, default: []]
            tasks.append(PendingTask(name: "update \(ir.label(p))", cost: Double(refs[p]!.count) * 1e-9,
                                     kind: .parameterUpdate, body: body, dependencies: Array(Set(deps)).sorted()))
            for r in reads[u] { updateReaders[r, default: []].append(tasks.count - 1) }
            if case .axpy = updates[u] { flops += 2 * Double(refs[p]!.count) }
        }
        // 4. Commits of the staged updates.
        for u in updates.indices where staged[u] {
            let p = updates[u].parameter
            let body = copyBody(stagingRef[u]!, refs[p]!, ir.values[p].dtype)
            let deps = [stageTask[u]!] + graphReaders(of: p) + updateReaders[p, default: []]
            tasks.append(PendingTask(name: "commit update \(ir.label(p))", cost: Double(refs[p]!.count) * 1e-9,
                                     kind: .parameterUpdate, body: body, dependencies: Array(Set(deps)).sorted()))
            if case .axpy = updates[u] { flops += 2 * Double(refs[p]!.count) }
        }
    }

    /// The tasks of the graph that read value `p` (through aliases too).
    private func graphReaders(of p: Int) -> [Int] {
        ir.values.indices.compactMap { j in
            ir.values[j].inputs.contains(where: { root($0) == p }) ? done[j] : nil
        }
    }

    /// A new private buffer slot for a staged update.
    private mutating func makeStagingSlot(_ dtype: DType, count: Int) -> Int {
        bindings.buffers.append(Lowering.makeBuffer(dtype, count: count))
        stagingBytes += count * dtype.byteSize
        return bindings.buffers.count - 1
    }

    /// The body writing update `update`'s new value into `target` (the parameter
    /// itself, or a staging buffer that starts as a copy of it), and the tasks it
    /// waits for (the producers of what it reads).
    private func updateBody(_ update: IR.Update, into target: ValueRef,
                            fromParameter stagedCopy: Bool) throws -> (@Sendable () throws -> Void, [Int]) {
        let b = bindings
        let p = update.parameter
        let label = "update \(ir.label(p))"
        let source = refs[p]!
        switch update {
        case .axpy(_, let s, let g, let sign):
            let (sr, gr) = (refs[s]!, refs[g]!)
            let deps = [done[root(s)], done[root(g)]].compactMap { $0 }
            func body<T: KernelScalar>(_: T.Type) -> @Sendable () throws -> Void {
                guarded(label) {
                    let scale = b.buffer(sr.slot, T.self)[sr.offset] * T(sign)
                    if stagedCopy { try Elementwise.copy(source.flatView(b, T.self), into: target.flatView(b, T.self)) }
                    try Elementwise.axpby(alpha: scale, gr.flatView(b, T.self), beta: 1, into: target.flatView(b, T.self))
                }
            }
            switch ir.values[p].dtype {
            case .float32: return (body(Float.self), deps)
            case .float64: return (body(Double.self), deps)
            case .int32: throw CompileError(message: "\(label): int32 parameters cannot be trained", kind: .invalidUpdate)
            }
        case .assign(_, let v):
            let deps = [done[root(v)]].compactMap { $0 }
            return (copyBody(refs[v]!, target, ir.values[p].dtype), deps)
        }
    }

    /// A body copying `source`'s elements into `target` (same count, dense).
    private func copyBody(_ source: ValueRef, _ target: ValueRef, _ dtype: DType) -> @Sendable () throws -> Void {
        let b = bindings
        return switch dtype {
        case .float32: guarded("copy") { try Elementwise.copy(source.flatView(b, Float.self), into: target.flatView(b, Float.self)) }
        case .float64: guarded("copy") { try Elementwise.copy(source.flatView(b, Double.self), into: target.flatView(b, Double.self)) }
        case .int32: guarded("copy") { try Elementwise.copy(source.flatView(b, Int32.self), into: target.flatView(b, Int32.self)) }
        }
    }

    private func guarded(_ label: String, _ body: @escaping @Sendable () throws -> Void) -> @Sendable () throws -> Void {
        return {
            do { try body() } catch let error as KernelError {
                throw RuntimeError(message: "\(label): \(error.message)")
            }
        }
    }

    private func numericsCheck(_ i: Int) -> (@Sendable () throws -> Void)? {
        let r = refs[i]!
        let b = bindings
        let label = ir.label(i)
        switch ir.values[i].dtype {
        case .float32:
            return { try Lowering.checkFinite(b.buffer(r.slot, Float.self), r, label) }
        case .float64:
            return { try Lowering.checkFinite(b.buffer(r.slot, Double.self), r, label) }
        case .int32:
            return nil
        }
    }

    private static func checkFinite<T: KernelScalar>(_ buffer: TensorBuffer<T>, _ r: ValueRef, _ label: String) throws {
        for k in 0..<r.count where !buffer[r.offset + k].isFinite {
            throw RuntimeError(message: "non-finite value \(buffer[r.offset + k]) first produced by \(label) at element \(k) of shape \(r.shape)",
                               kind: .nonFinite(op: label))
        }
    }

    // MARK: - Per-op tasks

    /// Rows split into at most `chunks` ranges of about equal size.
    private func rowChunks(_ rows: Int, elements: Int) -> [Range<Int>] {
        let wanted = max(1, min(rows, elements / options.elementsPerTask, 4 * workers))
        return (0..<wanted).map { c in (rows * c / wanted)..<(rows * (c + 1) / wanted) }
    }

    func task(_ i: Int, _ suffix: String = "", kind: TaskKind, cost: Double,
                      _ body: @escaping @Sendable () throws -> Void) -> PendingTask {
        PendingTask(name: ir.label(i) + suffix, cost: cost, kind: kind, body: guarded(ir.label(i), body), dependencies: [])
    }

    private func matmulKind(_ i: Int, transposeA: Bool, transposeB: Bool) -> TaskKind {
        guard ir.values[i].isGradient else { return .forwardMatmul }
        if transposeA { return .weightGradientMatmul }
        if transposeB { return .inputGradientMatmul }
        return .inputGradientMatmul
    }

    private mutating func makeTasks<T: KernelScalar>(_ i: Int, _: T.Type) throws -> [PendingTask] {
        let v = ir.values[i]
        var (kind, out, ins) = (v.kind, refs[i]!, v.inputs.map { refs[$0]! })
        if case .op(let op) = v.kind, IR.isImageLayer(op) {
            return try makeImageLayerTasks(i, op, T.self, out: out, ins: ins)
        }
        if out.shape.count > 2 || ins.contains(where: { $0.shape.count > 2 }) {
            (kind, out, ins) = try flattened(i, kind, out, ins)
        }
        return try makeTasks(i, kind, T.self, out: out, ins: ins)
    }

    private mutating func makeTasks<T: KernelScalar>(_ i: Int, _ kind: IR.Kind, _: T.Type, out: ValueRef, ins: [ValueRef]) throws -> [PendingTask] {
        let b = bindings
        let count = Double(out.count)
        let elementCost = 1.0e-9   // seconds per element touched: a rough memory-bound estimate
        switch kind {
        case .gemm(let ta, let tb, let epilogueKind):
            let (m, n) = out.matrixShape
            let k = ta ? ins[0].matrixShape.rows : ins[0].matrixShape.cols
            let f = 2.0 * Double(m) * Double(n) * Double(k)
            flops += f
            let target = f < options.minimumTileFlops * 2 ? 1 : max(1, min(options.tilesPerMatmul ?? (workers == 1 ? 1 : 2 * workers), Int(f / options.minimumTileFlops)))
            let tiling = GEMMTiling.automatic(m: m, n: n, k: k, targetTiles: target, transposeA: ta)
            let (a, bb) = (ins[0], ins[1])
            let extra = ins.count > 2 ? ins[2] : nil
            let kind = matmulKind(i, transposeA: ta, transposeB: tb)
            let perTile = f / Double(tiling.tileCount) / 1.5e11
            return (0..<tiling.tileCount).map { t in
                task(i, tiling.tileCount > 1 ? " tile \(t)" : "", kind: kind, cost: perTile) {
                    let epilogue: GEMMEpilogue<T>
                    switch epilogueKind {
                    case .none: epilogue = .none
                    case .bias(let act): epilogue = .bias(extra!.view(b, T.self), act)
                    case .activation(let act): epilogue = .activation(act)
                    case .activationGradient(let act): epilogue = .activationGradient(act, output: extra!.view(b, T.self))
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

    private mutating func makeOpTasks<T: KernelScalar>(_ i: Int, _ op: Op, _: T.Type, out: ValueRef, ins: [ValueRef], cost: Double) throws -> [PendingTask] {
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
                    return task(i, chunks > 1 ? " cols \(range)" : "", kind: kind, cost: cost * Double(x.count) / Double(max(out.count, 1)) / Double(chunks)) {
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
            return reduce(.sum, x, rowsAxis: rowsAxis, colsAxis: colsAxis, kind: v.isGradient && rowsAxis && !colsAxis ? .biasGradient : .reduction)
        case .meanGrad(let axes):
            // dy (reduced shape) broadcast back over `axes`, times 1/count, in one fused loop.
            let dy = ins[0]
            let reducedCount = axes.reduce(1) { $0 * out.shape[$1] }
            let program = ElementwiseProgram(inputCount: 1, instructions: [.input(0), .constant(1 / Double(max(reducedCount, 1))), .binary(.mul, 0, 1)])
            return elementwiseTasks(.elementwise) { r in
                try Elementwise.run(program, inputs: [Lowering.reducedBroadcastView(dy, axes: axes, to: out.shape, b, T.self).rows(r)],
                                    into: out.view(b, T.self).rows(r))
            }
        case .maxGrad(let axes):
            // Rare (not in the networks this library is tuned for): plain loops over
            // bounds-checked buffers, split equally among tied maxima like the interpreter.
            let (x, y, dy) = (ins[0], ins[1], ins[2])
            return single(.reduction) {
                let xv = x.view(b, T.self)
                let yv = Lowering.reducedBroadcastView(y, axes: axes, to: x.shape, b, T.self)
                let dyv = Lowering.reducedBroadcastView(dy, axes: axes, to: x.shape, b, T.self)
                let ov = out.view(b, T.self)
                let yCount = y.count
                var ties = [Int](repeating: 0, count: max(yCount, 1))
                func slot(_ i: Int, _ j: Int) -> Int { (yv.offset + i * yv.rowStride + j * yv.colStride) - y.offset }
                for i in 0..<xv.rows { for j in 0..<xv.cols where xv.buffer[xv.offset + i * xv.rowStride + j] == yv.buffer[yv.offset + i * yv.rowStride + j * yv.colStride] { ties[slot(i, j)] += 1 } }
                for i in 0..<xv.rows {
                    for j in 0..<xv.cols {
                        let isMax = xv.buffer[xv.offset + i * xv.rowStride + j] == yv.buffer[yv.offset + i * yv.rowStride + j * yv.colStride]
                        let g = dyv.buffer[dyv.offset + i * dyv.rowStride + j * dyv.colStride]
                        ov.buffer[ov.offset + i * ov.cols + j] = isMax ? g / T(ties[slot(i, j)]) : 0
                    }
                }
            }
        case .softmax:
            return single(.rowwise) { try RowOps.softmax(ins[0].view(b, T.self), into: out.view(b, T.self)) }
        case .logSoftmax:
            return single(.rowwise) { try RowOps.logSoftmax(ins[0].view(b, T.self), into: out.view(b, T.self)) }
        case .softmaxGrad:
            return single(.rowwise) { try RowOps.softmaxBackward(output: ins[0].view(b, T.self), ins[1].view(b, T.self), into: out.view(b, T.self)) }
        case .logSoftmaxGrad:
            return single(.rowwise) { try RowOps.logSoftmaxBackward(output: ins[0].view(b, T.self), ins[1].view(b, T.self), into: out.view(b, T.self)) }
        case .gatherLabels:
            return single(.rowwise, labelsGuard { try RowOps.gather(ins[0].view(b, T.self), labels: ins[1].view(b, Int32.self), into: out.view(b, T.self)) })
        case .scatterLabels:
            return single(.rowwise, labelsGuard(classesFrom: 2) { try RowOps.scatter(ins[0].view(b, T.self), labels: ins[1].view(b, Int32.self), into: out.view(b, T.self)) })
        case .crossEntropy:
            return single(.rowwise, labelsGuard { try RowOps.crossEntropy(logits: ins[0].view(b, T.self), labels: ins[1].view(b, Int32.self), into: out.view(b, T.self)) })
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
    static func reducedBroadcastView<T: TensorElement>(_ r: ValueRef, axes: [Int], to target: [Int], _ b: Bindings, _: T.Type) -> MatrixView<T> {
        // Dense strides of r's own dims, then stride 0 for the reduced axes.
        var strides = [Int](repeating: 0, count: target.count)
        var stride = 1
        var kept = target.indices.filter { !axes.contains($0) }
        kept.reverse()
        for d in kept { strides[d] = stride; stride *= target[d] }
        let out2 = target.count == 0 ? [1, 1] : (target.count == 1 ? [1, target[0]] : target)
        let s2 = target.count == 0 ? [0, 0] : (target.count == 1 ? [0, strides[0]] : strides)
        return MatrixView(b.buffer(r.slot, T.self), offset: r.offset, rows: out2[0], cols: out2[1], rowStride: s2[0], colStride: s2[1])
    }

    // MARK: - Priorities and the task graph

    /// Builds the scheduler's task graph with bottom-level priorities.
    func makeTaskGraph() -> TaskGraph {
        var successors = [[Int]](repeating: [], count: tasks.count)
        for (t, task) in tasks.enumerated() {
            for d in task.dependencies { successors[d].append(t) }
        }
        // Tasks are created in topological order (dependencies point backwards).
        var bottom = [Double](repeating: 0, count: tasks.count)
        for t in stride(from: tasks.count - 1, through: 0, by: -1) {
            bottom[t] = tasks[t].cost + (successors[t].map { bottom[$0] }.max() ?? 0)
        }
        var graph = TaskGraph()
        var ids: [TaskID] = []
        ids.reserveCapacity(tasks.count)
        for (t, task) in tasks.enumerated() {
            let priority = Int(min(bottom[t] * 1e9, Double(Int.max / 2)))
            ids.append(graph.addTask(task.name, priority: priority, cost: task.cost, kind: task.kind.rawValue, task.body))
        }
        for (t, task) in tasks.enumerated() {
            for d in Set(task.dependencies) { graph.addDependency(ids[d], ids[t]) }
        }
        return graph
    }
}
