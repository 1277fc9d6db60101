import DataflowKernels
import DataflowScheduler

/// Lowering of parameter updates (docs/ARCHITECTURE.md, "Updates"): ordering,
/// staging of cycles, output snapshots.
extension Lowering {
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
    mutating func lowerUpdates() throws {
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
                                     body: body, dependencies: [], bytes: copyBytes(p)))
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
                                     kind: .parameterUpdate, body: body, dependencies: deps, bytes: updateBytes(updates[u])))
            stageTask[u] = tasks.count - 1
            for r in reads[u] { updateReaders[r, default: []].append(tasks.count - 1) }
        }
        // 3. In-place updates, each after everything that reads its parameter's old value.
        for u in order {
            let p = updates[u].parameter
            let (body, inputs) = try updateBody(updates[u], into: refs[p]!, fromParameter: false)
            let deps = inputs + graphReaders(of: p) + updateReaders[p, default: []]
            tasks.append(PendingTask(name: "update \(ir.label(p))", cost: Double(refs[p]!.count) * 1e-9,
                                     kind: .parameterUpdate, body: body, dependencies: Array(Set(deps)).sorted(),
                                     bytes: updateBytes(updates[u])))
            for r in reads[u] { updateReaders[r, default: []].append(tasks.count - 1) }
            if case .axpy = updates[u] { flops += 2 * Double(refs[p]!.count) }
        }
        // 4. Commits of the staged updates.
        for u in updates.indices where staged[u] {
            let p = updates[u].parameter
            let body = copyBody(stagingRef[u]!, refs[p]!, ir.values[p].dtype)
            let deps = [stageTask[u]!] + graphReaders(of: p) + updateReaders[p, default: []]
            tasks.append(PendingTask(name: "commit update \(ir.label(p))", cost: Double(refs[p]!.count) * 1e-9,
                                     kind: .parameterUpdate, body: body, dependencies: Array(Set(deps)).sorted(),
                                     bytes: copyBytes(p)))
            if case .axpy = updates[u] { flops += 2 * Double(refs[p]!.count) }
        }
    }

    /// The tasks of the graph that read value `p` (through aliases too).
    func graphReaders(of p: Int) -> [Int] {
        ir.values.indices.compactMap { j in
            ir.values[j].inputs.contains(where: { root($0) == p }) ? done[j] : nil
        }
    }

    /// A new private buffer slot for a staged update.
    mutating func makeStagingSlot(_ dtype: DType, count: Int) -> Int {
        bindings.buffers.append(Bindings.makeBuffer(dtype, count: count))
        stagingBytes += count * dtype.byteSize
        return bindings.buffers.count - 1
    }

    /// The body writing update `update`'s new value into `target` (the parameter
    /// itself, or a staging buffer that starts as a copy of it), and the tasks it
    /// waits for (the producers of what it reads).
    func updateBody(_ update: IR.Update, into target: ValueRef,
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
    func copyBody(_ source: ValueRef, _ target: ValueRef, _ dtype: DType) -> @Sendable () throws -> Void {
        let b = bindings
        return switch dtype {
        case .float32: guarded("copy") { try Elementwise.copy(source.flatView(b, Float.self), into: target.flatView(b, Float.self)) }
        case .float64: guarded("copy") { try Elementwise.copy(source.flatView(b, Double.self), into: target.flatView(b, Double.self)) }
        case .int32: guarded("copy") { try Elementwise.copy(source.flatView(b, Int32.self), into: target.flatView(b, Int32.self)) }
        }
    }

}
