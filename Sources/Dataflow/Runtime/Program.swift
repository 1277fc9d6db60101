import DataflowKernels
import DataflowScheduler

/// One specialisation of a `Function` for concrete input shapes: the fused IR, its
/// memory plan and its task graph, plus the buffers it runs in.
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

    let ir: IR
    let plan: MemoryPlan
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
    let outputRefs: [ValueRef]
    let outputValues: [Int]
    private let ownedBytes: Int
    private let stagingBytes: Int

    init(symbolic: SymbolicProgram, graph: Graph, feedShapes: [String: [Int]], outputs: [Int],
         options: CompileOptions, workers: Int) throws {
        var ir = symbolic.ir
        let verify = options.verifyPasses || _isDebugAssertConfiguration()
        try ir.specialise(graph: graph, feedShapes: feedShapes)
        for i in ir.values.indices where ir.values[i].concrete.contains(0) {
            throw CompileError(message: "\(ir.label(i)) has shape \(ir.values[i].concrete): compiled programs refuse zero-sized tensors",
                               kind: .unsupported)
        }
        if verify { try ir.verify(after: "specialise") }
        // Guard mode keeps every op separate so that a NaN is pinned on exactly one op.
        if !options.checkNumerics {
            ir.fuseMatmulEpilogues()
            if verify { try ir.verify(after: "matmul epilogue fusion") }
            ir.fuseElementwiseChains()
            if verify { try ir.verify(after: "element-wise fusion") }
        }
        let plan = MemoryPlan(ir: ir, graph: graph)
        let lowering = try Lowering(ir: ir, plan: plan, options: options, workers: workers)
        self.ir = ir
        self.plan = plan
        taskGraph = lowering.makeTaskGraph()
        try taskGraph.validate()
        flops = lowering.flops
        peakIntermediateBytes = plan.peakIntermediateBytes
        outputBytes = plan.outputSlots.reduce(0) { $0 + $1.count * $1.dtype.byteSize }
        valueCount = ir.count
        bindings = lowering.bindings
        feedSlot = lowering.feedSlot
        parameterSlot = lowering.parameterSlot
        arenaSlot = lowering.arenaSlot
        arenaSize = plan.arenaSize
        ownedSlots = lowering.ownedSlots
        ownedBytes = lowering.ownedSlots.reduce(0) { $0 + $1.count * $1.dtype.byteSize }
        stagingBytes = lowering.stagingBytes
        outputValues = ir.outputs
        func parameterID(_ v: Int) -> ParameterID? {
            if case .op(.parameter(let id)) = ir.values[v].kind { return id }
            return nil
        }
        updatedParameters = Set(ir.updates.compactMap { parameterID($0.parameter) })
        var exposed: [ParameterID] = []
        outputRefs = ir.outputs.map { o in
            let root = lowering.root(o)
            if let slot = lowering.snapshotSlots[root] {
                return ValueRef(slot: slot, offset: 0, shape: ir.values[o].concrete)
            }
            if let id = parameterID(root) { exposed.append(id) }
            let r = lowering.refs[root]!
            return ValueRef(slot: r.slot, offset: r.offset, shape: ir.values[o].concrete)
        }
        exposedParameters = exposed
        listing = ir.values.indices.map { i in
            "#\(i) \(ir.label(i)) \(ir.values[i].concrete) ← \(ir.values[i].inputs.map { "#\($0)" }.joined(separator: ", ")) @ \(plan.locations[i])"
        }
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
                bindings.buffers[owned.slot] = Lowering.makeBuffer(owned.dtype, count: owned.count)
            }
        }
    }

    /// The outputs of the run that just finished. Drops the references to feeds, so
    /// that the caller's buffers are not kept alive.
    func collectOutputs(graph: Graph) -> [TensorValue] {
        // An output that is a feed, a parameter or a constant is returned in that value's
        // own buffer (no copy; a parameter's is marked handed out), the others in the
        // program's output buffers.
        let result = outputRefs.enumerated().map { k, r in
            Program.value(bindings.buffers[r.slot]!, shape: r.shape, dtype: ir.values[outputValues[k]].dtype)
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
