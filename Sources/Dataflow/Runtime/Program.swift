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

    let ir: IR
    let plan: MemoryPlan
    let bindings: Bindings
    let feedSlot: [String: Int]
    let parameterSlot: [ParameterID: Int]
    let outputSlot: [Int]
    let outputRefs: [ValueRef]
    let outputValues: [Int]

    init(symbolic: SymbolicProgram, graph: Graph, feedShapes: [String: [Int]], outputs: [Int],
         options: CompileOptions, workers: Int) throws {
        var ir = symbolic.ir
        let verify = options.verifyPasses || _isDebugAssertConfiguration()
        try ir.specialise(graph: graph, feedShapes: feedShapes)
        for i in ir.values.indices where ir.values[i].concrete.contains(0) {
            throw CompileError(message: "\(ir.label(i)) has shape \(ir.values[i].concrete): compiled programs refuse zero-sized tensors")
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
        outputSlot = lowering.outputSlot
        outputValues = ir.outputs
        outputRefs = ir.outputs.map { o in
            let r = lowering.refs[lowering.root(o)]!
            return ValueRef(slot: r.slot, offset: r.offset, shape: ir.values[o].concrete)
        }
        listing = ir.values.indices.map { i in
            "#\(i) \(ir.label(i)) \(ir.values[i].concrete) ← \(ir.values[i].inputs.map { "#\($0)" }.joined(separator: ", ")) @ \(plan.locations[i])"
        }
    }

    /// Points the slot table at this call's feeds, the parameters' current values and
    /// output buffers (reused when the caller dropped last call's results).
    func bind(feeds: [String: TensorValue], graph: Graph) throws {
        for (name, slot) in feedSlot {
            bindings.buffers[slot] = feeds[name]!.storageObject
        }
        for (id, slot) in parameterSlot {
            bindings.buffers[slot] = graph.parameterValue(id).storageObject
        }
        for (k, slot) in outputSlot.enumerated() {
            if bindings.buffers[slot] == nil || !isKnownUniquelyReferenced(&bindings.buffers[slot]) {
                let s = plan.outputSlots[k]
                bindings.buffers[slot] = Lowering.makeBuffer(s.dtype, count: s.count)
            }
        }
    }

    /// The outputs of the run that just finished; drops the references to feeds so the
    /// caller's buffers are not kept alive.
    func collectOutputs() -> [TensorValue] {
        // An output that is a feed, a parameter or a constant is returned in that value's
        // own buffer (no copy); the others in the program's output buffers.
        let result = outputRefs.enumerated().map { k, r in
            Program.value(bindings.buffers[r.slot]!, shape: r.shape, dtype: ir.values[outputValues[k]].dtype)
        }
        for slot in feedSlot.values { bindings.buffers[slot] = nil }
        return result
    }

    static func value(_ object: AnyObject, shape: [Int], dtype: DType) -> TensorValue {
        switch dtype {
        case .float32: try! TensorValue(shape: shape, storage: .float32(object as! TensorBuffer<Float>))
        case .float64: try! TensorValue(shape: shape, storage: .float64(object as! TensorBuffer<Double>))
        case .int32: try! TensorValue(shape: shape, storage: .int32(object as! TensorBuffer<Int32>))
        }
    }
}
