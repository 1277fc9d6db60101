import DataflowKernels
import DataflowScheduler

/// What the compiler hands the runtime for one set of input shapes: the task graph,
/// the slot table its tasks read and write, and where feeds, parameters, outputs
/// and owned buffers go in it. The runtime's `Program` wraps one; nothing in it
/// refers back to the runtime.
struct ExecutablePlan {
    /// The scheduler's task graph; task bodies resolve operands through `bindings`.
    let taskGraph: TaskGraph
    /// The workers the program was tiled for and runs on: the requested count, or
    /// fewer for a small program when the count was the default (`adaptedWorkers`).
    let workers: Int
    /// Floating-point operations of one run (matmuls, convolutions and updates).
    let flops: Double
    /// Peak bytes of intermediate buffers (the arenas), outputs excluded.
    let peakIntermediateBytes: Int
    /// Bytes of the output buffers kept between calls.
    let outputBytes: Int
    /// Number of values after fusion.
    let valueCount: Int
    /// One line per value: kernel, shape, inputs and memory location.
    let listing: [String]
    /// The slot table (constants bound; arenas, feeds, parameters and owned buffers
    /// are bound by the runtime).
    let bindings: Bindings
    let feedSlot: [String: Int]
    let parameterSlot: [ParameterID: Int]
    /// Parameters the program writes (copy-on-write before the run).
    let updatedParameters: Set<ParameterID>
    /// Parameters returned as outputs in their own buffer (marked handed out after the run).
    let exposedParameters: [ParameterID]
    let arenaSlot: [DType: Int]
    let arenaSize: [DType: Int]
    /// Slots whose buffers the program owns: outputs and snapshots.
    let ownedSlots: [(slot: Int, dtype: DType, count: Int)]
    /// Where each output is found after a run, and its element type.
    let outputs: [(ref: ValueRef, dtype: DType)]
    /// Bytes of the staging buffers of updates that cannot run in place.
    let stagingBytes: Int
}

extension SymbolicProgram {
    /// The compiler's per-shape half, and its one entry point from the runtime:
    /// specialise the symbolic IR to `feedShapes`, fuse (matmul epilogues, then
    /// element-wise chains; not in guard mode), plan memory, lower to tasks.
    /// - Throws: `RuntimeError.Kind.shapeMismatch` / `.missingFeed` when the feeds'
    ///   shapes do not fit the graph; `CompileError` for what cannot be lowered.
    func plan(graph: Graph, feedShapes: [String: [Int]], options: CompileOptions, workers: Int) throws -> ExecutablePlan {
        var ir = self.ir
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
            ir.fuseProductSums()
            if verify { try ir.verify(after: "product-sum fusion") }
            ir.fuseElementwiseChains()
            if verify { try ir.verify(after: "element-wise fusion") }
        }
        let memory = MemoryPlan(ir: ir, graph: graph)
        var lowering = try Lowering(ir: ir, plan: memory, options: options, workers: workers)
        var taskGraph = lowering.makeTaskGraph()
        let runWorkers = ExecutablePlan.adaptedWorkers(taskGraph, requested: workers, options: options)
        if runWorkers < workers {
            lowering = try Lowering(ir: ir, plan: memory, options: options, workers: runWorkers)
            taskGraph = lowering.makeTaskGraph()
        }
        try taskGraph.validate()

        func parameterID(_ v: Int) -> ParameterID? {
            if case .op(.parameter(let id)) = ir.values[v].kind { return id }
            return nil
        }
        var exposed: [ParameterID] = []
        let outputs = ir.outputs.map { o -> (ref: ValueRef, dtype: DType) in
            let root = lowering.root(o)
            let shape = ir.values[o].concrete
            if let slot = lowering.snapshotSlots[root] {
                return (ValueRef(slot: slot, offset: 0, shape: shape), ir.values[o].dtype)
            }
            if let id = parameterID(root) { exposed.append(id) }
            let r = lowering.refs[root]!
            return (ValueRef(slot: r.slot, offset: r.offset, shape: shape), ir.values[o].dtype)
        }
        let listing = ir.values.indices.map { i in
            let inputs = ir.values[i].inputs.map { "#\($0)" }.joined(separator: ", ")
            return "#\(i) \(ir.label(i)) \(ir.values[i].concrete) ← \(inputs) @ \(memory.locations[i])"
        }
        return ExecutablePlan(
            taskGraph: taskGraph,
            workers: runWorkers,
            flops: lowering.flops,
            peakIntermediateBytes: memory.peakIntermediateBytes,
            outputBytes: memory.outputSlots.reduce(0) { $0 + $1.count * $1.dtype.byteSize },
            valueCount: ir.count,
            listing: listing,
            bindings: lowering.bindings,
            feedSlot: lowering.feedSlot,
            parameterSlot: lowering.parameterSlot,
            updatedParameters: Set(ir.updates.compactMap { parameterID($0.parameter) }),
            exposedParameters: exposed,
            arenaSlot: lowering.arenaSlot,
            arenaSize: memory.arenaSize,
            ownedSlots: lowering.ownedSlots,
            outputs: outputs,
            stagingBytes: lowering.stagingBytes)
    }
}

extension ExecutablePlan {
    /// Fixed cost of one task beyond its cost hint (kernel call, checks, scheduling),
    /// measured with `dataflow-bench models --profile` on the digits models (Zen 4):
    /// traced work minus the hints, over the tasks, is 1.2–3 µs per task.
    static let overheadPerTask = 1.5e-6

    /// How many workers a program runs on. An explicit `CompileOptions.workers` is
    /// honoured; with the default (all cores), each worker must get at least
    /// `minimumWorkPerWorker` of estimated work (the tasks' cost hints plus
    /// `overheadPerTask` each), because waking a worker for less costs more than it
    /// saves (digits models on 2 cores: logistic regression, ~40 µs of work, ran
    /// 0.038 ms on one worker and 0.046 ms on two).
    static func adaptedWorkers(_ graph: TaskGraph, requested: Int, options: CompileOptions) -> Int {
        guard options.workers == nil, requested > 1, options.minimumWorkPerWorker > 0 else { return requested }
        var estimate = 0.0
        for t in 0..<graph.count { estimate += graph.cost(of: TaskID(index: t)) + overheadPerTask }
        return max(1, min(requested, Int(estimate / options.minimumWorkPerWorker)))
    }
}
