import DataflowKernels
import DataflowScheduler

/// One specialisation of a `Function` for concrete input shapes: the compiler's
/// executable plan (task graph and slot table) plus the buffers it runs in.
public final class Program: @unchecked Sendable {
    /// The compiler's plan (`Compiler/ExecutablePlan.swift`); its slot table is the
    /// only part that changes, between runs (`bind`, `collectOutputs`).
    let plan: ExecutablePlan

    /// The scheduler's task graph: run it with an `Executor`, trace it, simulate it.
    public var taskGraph: TaskGraph { plan.taskGraph }
    /// Number of tasks (including joins).
    public var taskCount: Int { plan.taskGraph.count }
    /// The workers this program runs on: the function's, or fewer for a small program
    /// compiled with the default worker count (`CompileOptions.minimumWorkPerWorker`).
    public var workers: Int { plan.workers }
    /// Floating-point operations of one run (matmuls, convolutions and updates;
    /// element-wise work is not counted).
    public var flops: Double { plan.flops }
    /// Peak bytes of intermediate buffers (the arenas), outputs excluded.
    public var peakIntermediateBytes: Int { plan.peakIntermediateBytes }
    /// Bytes of the output buffers the program keeps between calls.
    public var outputBytes: Int { plan.outputBytes }
    /// Number of values after fusion (one kernel call or tile group each).
    public var valueCount: Int { plan.valueCount }
    /// Human-readable lines: one per value, with its kernel and shape.
    public var listing: [String] { plan.listing }

    /// Bytes this program keeps between calls: its output and snapshot buffers and
    /// the staging buffers of updates that cannot run in place (the arenas are the
    /// function's, shared by all its programs, and not counted here).
    public var heldBytes: Int {
        plan.ownedSlots.reduce(0) { $0 + $1.count * $1.dtype.byteSize } + plan.stagingBytes
    }

    var bindings: Bindings { plan.bindings }
    var arenaSize: [DType: Int] { plan.arenaSize }

    /// Wraps the compiler's plan for one set of input shapes.
    init(_ plan: ExecutablePlan) {
        self.plan = plan
    }

    /// Points the slot table at this call's feeds, the
    /// parameters' current values (private copies for those this program updates, if
    /// they were handed out) and the output buffers (reused when the caller dropped
    /// last call's results). The caller holds the graph's run lock.
    func bind(feeds: [String: TensorValue], graph: Graph) {
        for (name, slot) in plan.feedSlot {
            bindings.buffers[slot] = feeds[name]!.storageObject
        }
        for (id, slot) in plan.parameterSlot {
            let value = plan.updatedParameters.contains(id) ? graph.parameterForWriting(id) : graph.parameterForReading(id)
            bindings.buffers[slot] = value.storageObject
        }
        for owned in plan.ownedSlots {
            if bindings.buffers[owned.slot] == nil || !isKnownUniquelyReferenced(&bindings.buffers[owned.slot]) {
                bindings.buffers[owned.slot] = Bindings.makeBuffer(owned.dtype, count: owned.count)
            }
        }
    }

    /// The outputs of the run that just finished. Drops the references to feeds, so
    /// that the caller's buffers are not kept alive.
    func collectOutputs(graph: Graph) -> [TensorValue] {
        // An output that is a feed, a parameter or a constant is returned in that value's
        // own buffer (no copy; a parameter's is marked handed out), the others in the
        // program's output buffers.
        let result = plan.outputs.map { o in
            Program.value(bindings.buffers[o.ref.slot]!, shape: o.ref.shape, dtype: o.dtype)
        }
        for id in plan.exposedParameters { graph.markShared(id) }
        unbind()
        return result
    }

    /// Drops the references to feeds (after a run, or a failed one).
    func unbind() {
        for slot in plan.feedSlot.values { bindings.buffers[slot] = nil }
    }

    /// Points the arena slots at `arenas`: when the program is made and whenever the
    /// function's shared arenas grow (calls do not rebind them).
    func rebindArenas(_ arenas: [DType: AnyObject]) {
        for (dtype, slot) in plan.arenaSlot { bindings.buffers[slot] = arenas[dtype] }
    }

    static func value(_ object: AnyObject, shape: [Int], dtype: DType) -> TensorValue {
        switch dtype {
        case .float32: TensorValue(uncheckedShape: shape, storage: .float32(unsafeDowncast(object, to: TensorBuffer<Float>.self)))
        case .float64: TensorValue(uncheckedShape: shape, storage: .float64(unsafeDowncast(object, to: TensorBuffer<Double>.self)))
        case .int32: TensorValue(uncheckedShape: shape, storage: .int32(unsafeDowncast(object, to: TensorBuffer<Int32>.self)))
        }
    }
}
