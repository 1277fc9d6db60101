import DataflowKernels
import DataflowScheduler

/// One specialisation of a `Function` for concrete input shapes: the compiler's
/// executable plan (task graph and slot table) plus the buffers it runs in.
public final class Program: @unchecked Sendable {
    /// The scheduler's task graph: run it with an `Executor`, trace it, simulate it.
    public let taskGraph: TaskGraph
    /// Number of tasks (including joins).
    public var taskCount: Int { taskGraph.count }
    /// Floating-point operations of one run (matmuls and updates; element-wise work is
    /// not counted).
    public let flops: Double
    /// Peak bytes of intermediate buffers (the arenas), outputs excluded.
    public let peakIntermediateBytes: Int
    /// Bytes of the output buffers the program keeps between calls.
    public let outputBytes: Int
    /// Number of values after fusion (one kernel call or tile group each).
    public let valueCount: Int
    /// Human-readable lines: one per value, with its kernel and shape.
    public let listing: [String]

    /// Bytes this program keeps between calls: its output and snapshot buffers and
    /// the staging buffers of updates that cannot run in place (the arenas are the
    /// function's, shared by all its programs, and not counted here).
    public var heldBytes: Int { ownedBytes + stagingBytes }

    let bindings: Bindings
    let feedSlot: [String: Int]
    let parameterSlot: [ParameterID: Int]
    /// Parameters this program writes (copy-on-write before the run).
    let updatedParameters: Set<ParameterID>
    /// Parameters returned as outputs in their own buffer (marked handed out after the run).
    let exposedParameters: [ParameterID]
    let arenaSlot: [DType: Int]
    let arenaSize: [DType: Int]
    let ownedSlots: [(slot: Int, dtype: DType, count: Int)]
    let outputs: [(ref: ValueRef, dtype: DType)]
    private let ownedBytes: Int
    private let stagingBytes: Int

    /// Wraps the compiler's plan for one set of input shapes.
    init(_ plan: ExecutablePlan) {
        taskGraph = plan.taskGraph
        flops = plan.flops
        peakIntermediateBytes = plan.peakIntermediateBytes
        outputBytes = plan.outputBytes
        valueCount = plan.valueCount
        listing = plan.listing
        bindings = plan.bindings
        feedSlot = plan.feedSlot
        parameterSlot = plan.parameterSlot
        updatedParameters = plan.updatedParameters
        exposedParameters = plan.exposedParameters
        arenaSlot = plan.arenaSlot
        arenaSize = plan.arenaSize
        ownedSlots = plan.ownedSlots
        outputs = plan.outputs
        ownedBytes = plan.ownedSlots.reduce(0) { $0 + $1.count * $1.dtype.byteSize }
        stagingBytes = plan.stagingBytes
    }

    /// Points the slot table at this call's feeds, the
    /// parameters' current values (private copies for those this program updates, if
    /// they were handed out) and the output buffers (reused when the caller dropped
    /// last call's results). The caller holds the graph's run lock.
    func bind(feeds: [String: TensorValue], graph: Graph) {
        for (name, slot) in feedSlot {
            bindings.buffers[slot] = feeds[name]!.storageObject
        }
        for (id, slot) in parameterSlot {
            let value = updatedParameters.contains(id) ? graph.parameterForWriting(id) : graph.parameterForReading(id)
            bindings.buffers[slot] = value.storageObject
        }
        for owned in ownedSlots {
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
        let result = outputs.map { o in
            Program.value(bindings.buffers[o.ref.slot]!, shape: o.ref.shape, dtype: o.dtype)
        }
        for id in exposedParameters { graph.markShared(id) }
        unbind()
        return result
    }

    /// Drops the references to feeds (after a run, or a failed one).
    func unbind() {
        for slot in feedSlot.values { bindings.buffers[slot] = nil }
    }

    /// Points the arena slots at `arenas`: when the program is made and whenever the
    /// function's shared arenas grow (calls do not rebind them).
    func rebindArenas(_ arenas: [DType: AnyObject]) {
        for (dtype, slot) in arenaSlot { bindings.buffers[slot] = arenas[dtype] }
    }

    static func value(_ object: AnyObject, shape: [Int], dtype: DType) -> TensorValue {
        switch dtype {
        case .float32: TensorValue(uncheckedShape: shape, storage: .float32(unsafeDowncast(object, to: TensorBuffer<Float>.self)))
        case .float64: TensorValue(uncheckedShape: shape, storage: .float64(unsafeDowncast(object, to: TensorBuffer<Double>.self)))
        case .int32: TensorValue(uncheckedShape: shape, storage: .int32(unsafeDowncast(object, to: TensorBuffer<Int32>.self)))
        }
    }
}
