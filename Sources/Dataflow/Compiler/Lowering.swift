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
        /// Estimated bytes moved to and from main memory (the scale model's bandwidth
        /// share; `Lowering+Traffic.swift`).
        var bytes: Int = 0
    }

    let ir: IR
    let plan: MemoryPlan
    let options: CompileOptions
    let workers: Int

    var tasks: [PendingTask] = []
    /// The task a consumer of value i waits on (nil for leaves and aliases).
    var done: [Int?]
    /// All tasks of value i (for update anti-dependencies and extra edges).
    var tasksOf: [[Int]]
    var refs: [ValueRef?]
    let bindings: Bindings
    var arenaSlot: [DType: Int] = [:]
    var feedSlot: [String: Int] = [:]
    var parameterSlot: [ParameterID: Int] = [:]
    var outputSlot: [Int] = []          // per plan.outputSlots entry
    var constantSlot: [Int] = []        // per plan.constants entry
    /// Parameter value (root) → slot of the copy an output of it is returned in,
    /// for parameters this program updates (the output is the value before the update).
    var snapshotSlots: [Int: Int] = [:]
    /// Slots the program owns and hands out as outputs: (slot, dtype, element count).
    var ownedSlots: [(slot: Int, dtype: DType, count: Int)] = []
    /// Bytes of the staging buffers of updates that cannot run in place.
    var stagingBytes = 0
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

    func ref(of location: MemoryPlan.Location, shape: [Int]) -> ValueRef? {
        switch location {
        case .feed(let name): ValueRef(slot: feedSlot[name]!, offset: 0, shape: shape)
        case .parameter(let id): ValueRef(slot: parameterSlot[id]!, offset: 0, shape: shape)
        case .constant(let k): ValueRef(slot: constantSlot[k], offset: 0, shape: shape)
        case .arena(let dtype, let offset): ValueRef(slot: arenaSlot[dtype]!, offset: offset, shape: shape)
        case .output(let k): ValueRef(slot: outputSlot[k], offset: 0, shape: shape)
        case .alias: nil
        }
    }

    /// The storage root of value i (itself unless it is an alias).
    func root(_ i: Int) -> Int {
        if case .alias(let r) = plan.locations[i] { return r }
        return i
    }

    // MARK: - Tasks

    mutating func lowerAll() throws {
        for i in 0..<ir.count {
            let v = ir.values[i]
            if case .alias = plan.locations[i] { continue }
            // Leaves and folded constants are bound, not computed.
            if case .op(let op) = v.kind, op.isLeaf { continue }
            if case .folded = v.kind { continue }
            let dependencies = Array(Set(v.inputs.compactMap { done[root($0)] })).sorted()
            let floatType = v.inputs.first.map { ir.values[$0].dtype } ?? v.dtype
            let bodies: [PendingTask]
            switch (floatType == .int32 ? v.dtype : floatType) {
            case .float32: bodies = try makeTasks(i, Float.self)
            case .float64: bodies = try makeTasks(i, Double.self)
            case .int32:
                // Structural ops move int32 elements themselves (cast, concat, slice, permute).
                if case .op(let op) = v.kind, Lowering.isStructural(op) {
                    bodies = try makeStructuralTasks(i, op, out: refs[i]!, ins: v.inputs.map { refs[$0]! })
                    break
                }
                throw CompileError(message: "\(ir.label(i)): no kernel computes an int32 result from int32 inputs", kind: .unsupported)
            }
            var ids: [Int] = []
            let first = tasks.count
            for var task in withTraffic(i, bodies) {
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

    /// Wraps a task body so that a kernel's refusal surfaces as a `RuntimeError`
    /// prefixed with the op's label.
    func guarded(_ label: String, _ body: @escaping @Sendable () throws -> Void) -> @Sendable () throws -> Void {
        return {
            do { try body() } catch let error as KernelError {
                throw RuntimeError(message: "\(label): \(error.message)")
            }
        }
    }

    /// Guard mode: the join task of value i throws, naming the op, if the value holds a
    /// NaN or an infinity.
    func numericsCheck(_ i: Int) -> (@Sendable () throws -> Void)? {
        let r = refs[i]!
        let b = bindings
        let label = ir.label(i)
        func check<T: KernelScalar>(_: T.Type) -> @Sendable () throws -> Void {
            return {
                let view = r.flatView(b, T.self)
                guard let k = try Reduce.firstNonFinite(view) else { return }
                throw RuntimeError(message: "non-finite value \(view.buffer[r.offset + k]) first produced by \(label) "
                                   + "at element \(k) of shape \(r.shape)", kind: .nonFinite(op: label))
            }
        }
        switch ir.values[i].dtype {
        case .float32: return check(Float.self)
        case .float64: return check(Double.self)
        case .int32: return nil
        }
    }
}
