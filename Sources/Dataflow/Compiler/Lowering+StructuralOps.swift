import DataflowKernels
import DataflowScheduler

/// Lowering of the structural ops (`Graph/Op.swift`): `cast`, `concat`, `slice` and its
/// adjoint, `permute`, `oneHot`, the embedding gather and its scatter-add, the dropout
/// mask. They take their operands at their true rank-N shapes (no flattening first)
/// and pick their element types themselves, so int32 tensors can be cast, concatenated,
/// sliced and permuted too.
///
/// Every split into tasks here is bitwise neutral: copies and casts move each element
/// on its own, the one-hot rows and dropout mask elements are pure functions of their
/// position, and the scatter-add splits the table's rows (each row summed over the
/// positions in increasing order, as `Gather.rowsBackward` fixes). Index checks run
/// first, in one task over all positions, so a bad index is the interpreter's typed
/// error (`.labelOutOfRange`, the first bad position) whatever the split.
extension Lowering {
    /// The kernel-level copy layout (the compiler has a `StridedLayout` of its own).
    typealias CopyLayout = DataflowKernels.StridedLayout

    /// Whether `op` is lowered by `makeStructuralTasks`.
    static func isStructural(_ op: Op) -> Bool {
        if case .cast = op { return true }
        if case .concat = op { return true }
        if case .slice = op { return true }
        if case .sliceGrad = op { return true }
        if case .permute = op { return true }
        if case .oneHot = op { return true }
        if case .dropoutMask = op { return true }
        return op == .gatherRows || op == .scatterAddRows
    }

    /// The tasks of structural value `i` (inputs `ins`, output `out` at their concrete shapes).
    /// - Throws: `CompileError` (`.unsupported`) for a permutation above rank 6 that no
    ///   merging of axes brings down.
    mutating func makeStructuralTasks(_ i: Int, _ op: Op, out: ValueRef, ins: [ValueRef]) throws -> [PendingTask] {
        let dtype = ir.values[i].dtype
        let inputDType = ir.values[ir.values[i].inputs[0]].dtype
        if case .cast = op { return castTasks(i, from: inputDType, to: dtype, out: out, input: ins[0]) }
        if case .concat(let axis, _) = op {
            let (outer, inner) = Lowering.outerInner(out.shape, axis)
            let total = out.shape[axis] * inner
            var start = 0
            var jobs: [CopyJob] = []
            for r in ins {
                let width = r.shape[axis] * inner
                jobs.append(CopyJob(source: r.slot, sourceLayout: .dense([outer, width], offset: r.offset), destination: out.slot,
                                    destinationLayout: CopyLayout(shape: [outer, width], strides: [total, 1], offset: out.offset + start)))
                start += width
            }
            return try copyTasks(i, dtype, jobs)
        }
        if case .slice(let axis, let start, let count) = op {
            let (outer, inner) = Lowering.outerInner(ins[0].shape, axis)
            let source = CopyLayout(shape: [outer, count * inner], strides: [ins[0].shape[axis] * inner, 1],
                                    offset: ins[0].offset + start * inner)
            return try copyTasks(i, dtype, [CopyJob(source: ins[0].slot, sourceLayout: source, destination: out.slot,
                                                    destinationLayout: .dense([outer, count * inner], offset: out.offset))])
        }
        if case .permute(let permutation) = op {
            let source = try CopyLayout.dense(ins[0].shape, offset: ins[0].offset).permuted(permutation)
            let merged = Lowering.mergedAxes(source, destinationShape: out.shape, destinationOffset: out.offset)
            guard merged.source.shape.count <= StridedCopy.maxRank else {
                throw CompileError(message: "\(ir.label(i)): permute \(permutation) of \(ins[0].shape) needs more than "
                                   + "\(StridedCopy.maxRank) axes after merging", kind: .unsupported)
            }
            return try copyTasks(i, dtype, [CopyJob(source: ins[0].slot, sourceLayout: merged.source, destination: out.slot,
                                                    destinationLayout: merged.destination)])
        }
        switch dtype {
        case .float32: return try floatTasks(i, op, Float.self, out: out, ins: ins)
        case .float64: return try floatTasks(i, op, Double.self, out: out, ins: ins)
        case .int32:
            throw CompileError(message: "\(ir.label(i)): \(op.name) has no int32 kernel", kind: .unsupported)
        }
    }

    /// The structural ops with a float result: sliceGrad, oneHot, gatherRows, scatterAddRows, dropoutMask.
    private func floatTasks<T: KernelScalar>(_ i: Int, _ op: Op, _: T.Type, out: ValueRef, ins: [ValueRef]) throws -> [PendingTask] {
        let b = bindings
        let cost = Double(out.count) * 1.0e-9
        if case .sliceGrad(let axis, let start) = op {
            // Each task zeroes the rows' parts outside the slice and copies dy into the rest.
            let (dy, (outer, inner)) = (ins[0], Lowering.outerInner(out.shape, axis))
            let (width, before) = (out.shape[axis] * inner, start * inner)
            let count = dy.shape[axis] * inner
            let after = width - before - count
            return rowChunks(outer, elements: out.count).map { r in
                task(i, " rows \(r)", kind: .copy, cost: cost * Double(r.count) / Double(max(outer, 1))) {
                    let buffer = b.buffer(out.slot, T.self)
                    let base = out.offset + r.lowerBound * width
                    if before > 0 {
                        try Elementwise.fill(T(0), into: MatrixView(buffer, offset: base, rows: r.count, cols: before, rowStride: width))
                    }
                    if after > 0 {
                        try Elementwise.fill(T(0), into: MatrixView(buffer, offset: base + before + count, rows: r.count, cols: after,
                                                                    rowStride: width))
                    }
                    try StridedCopy.copy(from: b.buffer(dy.slot, T.self),
                                         .dense([r.count, count], offset: dy.offset + r.lowerBound * count),
                                         into: buffer, CopyLayout(shape: [r.count, count], strides: [width, 1], offset: base + before))
                }
            }
        }
        if case .oneHot(let classes, _) = op {
            let indices = ins[0]
            let n = indices.count
            let encode = rowChunks(n, elements: out.count).map { r in
                var t = task(i, " positions \(r)", kind: .elementwise, cost: cost * Double(r.count) / Double(max(n, 1))) {
                    try OneHot.encode(b.buffer(indices.slot, Int32.self), indicesOffset: indices.offset, classes: classes,
                                      positions: r, into: b.buffer(out.slot, T.self), offset: out.offset)
                }
                t.dependencies = [0]
                return t
            }
            return [indexCheckTask(i, indices: 0, bound: classes, what: "classes")] + encode
        }
        if op == .gatherRows {
            let (table, indices) = (ins[0], ins[1])
            let (n, d) = (indices.count, table.shape[1])
            let gather = rowChunks(n, elements: out.count).map { r in
                var t = task(i, " rows \(r)", kind: .copy, cost: cost * Double(r.count) / Double(max(n, 1))) {
                    try Gather.rows(table.view(b, T.self),
                                    indices: MatrixView(b.buffer(indices.slot, Int32.self), offset: indices.offset + r.lowerBound,
                                                        rows: r.count, cols: 1, rowStride: 1),
                                    into: MatrixView(b.buffer(out.slot, T.self), offset: out.offset + r.lowerBound * d, rows: r.count,
                                                     cols: d, rowStride: d))
                }
                t.dependencies = [0]
                return t
            }
            return [indexCheckTask(i, indices: 1, bound: table.shape[0], what: "rows of the table")] + gather
        }
        if op == .scatterAddRows {
            let (dy, indices) = (ins[0], ins[1])
            let (n, (v, d)) = (indices.count, (out.shape[0], out.shape[1]))
            let scatter = rowChunks(v, elements: out.count + dy.count).map { r in
                var t = task(i, " rows \(r)", kind: .reduction, cost: cost * Double(r.count) / Double(max(v, 1)) + Double(n) * 1.0e-9) {
                    try Gather.rowsBackward(MatrixView(b.buffer(dy.slot, T.self), offset: dy.offset, rows: n, cols: d),
                                            indices: MatrixView(b.buffer(indices.slot, Int32.self), offset: indices.offset,
                                                                rows: n, cols: 1, rowStride: 1),
                                            into: out.view(b, T.self), vocabularyRows: r)
                }
                t.dependencies = [0]
                return t
            }
            return [indexCheckTask(i, indices: 1, bound: v, what: "rows of the table")] + scatter
        }
        if case .dropoutMask(let rate, let seed) = op {
            let counter = ins[1]
            let counterDType = ir.values[ir.values[i].inputs[1]].dtype
            let (label, n) = (ir.label(i), out.count)
            let counterName = tensorName(ir.values[i].inputs[1])
            return rowChunks(n, elements: n).map { r in
                task(i, " elements \(r)", kind: .elementwise, cost: cost * Double(r.count) / Double(max(n, 1))) {
                    let c: Double = switch counterDType {
                    case .float32: Double(b.buffer(counter.slot, Float.self)[counter.offset])
                    case .float64: b.buffer(counter.slot, Double.self)[counter.offset]
                    case .int32: Double(b.buffer(counter.slot, Int32.self)[counter.offset])
                    }
                    // The interpreter's check (Interpreter+StructuralOps.swift), word for word.
                    guard c.isFinite, c >= 0, c == c.rounded(), c < 0x1p64 else {
                        throw RuntimeError(message: "\(label): call counter \(counterName) is \(c); expected a whole number ≥ 0",
                                           kind: .other)
                    }
                    try CounterRandom.dropoutMask(p: T(rate), seed: seed, call: UInt64(c), elements: r,
                                                  into: b.buffer(out.slot, T.self), offset: out.offset)
                }
            }
        }
        throw CompileError(message: "\(ir.label(i)): \(op.name) has no float kernel", kind: .unsupported)
    }

    // MARK: - Helpers

    /// One strided copy: the layouts carry the refs' offsets.
    struct CopyJob {
        var source: Int
        var sourceLayout: CopyLayout
        var destination: Int
        var destinationLayout: CopyLayout
    }

    /// Tasks for `jobs`, each split along its first axis (a rank-2 job whose first axis
    /// is 1 is first read as one line, so that it splits too).
    private func copyTasks(_ i: Int, _ dtype: DType, _ jobs: [CopyJob]) throws -> [PendingTask] {
        func make<E: TensorElement>(_: E.Type) -> [PendingTask] {
            let b = bindings
            var tasks: [PendingTask] = []
            for (k, var job) in jobs.enumerated() where job.sourceLayout.count > 0 {
                if job.sourceLayout.shape.count == 2 && job.sourceLayout.shape[0] == 1 {
                    job.sourceLayout = CopyLayout(shape: [job.sourceLayout.shape[1]], strides: [job.sourceLayout.strides[1]],
                                                  offset: job.sourceLayout.offset)
                    job.destinationLayout = CopyLayout(shape: [job.destinationLayout.shape[1]], strides: [job.destinationLayout.strides[1]],
                                                       offset: job.destinationLayout.offset)
                }
                let (source, destination) = (job.sourceLayout, job.destinationLayout)
                let (sourceSlot, destinationSlot) = (job.source, job.destination)
                let rows = source.shape.first ?? 1
                let cost = Double(source.count) * 2.0e-9
                let chunks: [Range<Int>?] = source.shape.isEmpty ? [nil] : rowChunks(rows, elements: source.count)
                for r in chunks {
                    let name = (jobs.count > 1 ? " input \(k)" : "") + (r.map { " rows \($0)" } ?? "")
                    tasks.append(task(i, name, kind: .copy, cost: cost * Double(r?.count ?? 1) / Double(max(rows, 1))) {
                        let (s, d) = try r.map { (try source.sliced(axis: 0, $0), try destination.sliced(axis: 0, $0)) }
                            ?? (source, destination)
                        try StridedCopy.copy(from: b.buffer(sourceSlot, E.self), s, into: b.buffer(destinationSlot, E.self), d)
                    })
                }
            }
            return tasks
        }
        switch dtype {
        case .float32: return make(Float.self)
        case .float64: return make(Double.self)
        case .int32: return make(Int32.self)
        }
    }

    /// Element-range tasks converting `input` (of `source` dtype) into `out` (of `target`).
    private func castTasks(_ i: Int, from source: DType, to target: DType, out: ValueRef, input: ValueRef) -> [PendingTask] {
        let b = bindings
        let n = out.count
        func make<S: TensorElement, D: TensorElement>(_: S.Type, _: D.Type) -> [PendingTask] {
            rowChunks(n, elements: n).map { r in
                task(i, " elements \(r)", kind: .copy, cost: Double(r.count) * 2.0e-9) {
                    try Convert.cast(b.buffer(input.slot, S.self), sourceOffset: input.offset, into: b.buffer(out.slot, D.self),
                                     offset: out.offset, elements: r)
                }
            }
        }
        func to<S: TensorElement>(_: S.Type) -> [PendingTask] {
            switch target {
            case .float32: make(S.self, Float.self)
            case .float64: make(S.self, Double.self)
            case .int32: make(S.self, Int32.self)
            }
        }
        switch source {
        case .float32: return to(Float.self)
        case .float64: return to(Double.self)
        case .int32: return to(Int32.self)
        }
    }

    /// A task that throws the interpreter's `.labelOutOfRange` error for the first index
    /// of input `k` (int32) outside 0..<bound; the value's other tasks wait for it.
    private func indexCheckTask(_ i: Int, indices k: Int, bound: Int, what: String) -> PendingTask {
        let b = bindings
        let r = refs[ir.values[i].inputs[k]]!
        let (label, tensor) = (ir.label(i), tensorName(ir.values[i].inputs[k]))
        return task(i, " index check", kind: .copy, cost: Double(r.count) * 1.0e-9) {
            guard let (p, v) = try IndexCheck.firstOutOfRange(b.buffer(r.slot, Int32.self), offset: r.offset, positions: 0..<r.count,
                                                              bound: bound) else { return }
            throw RuntimeError(message: "\(label): index \(v) at position \(p) of \(tensor) is out of range 0..<\(bound) (\(what))",
                               kind: .labelOutOfRange(tensor: tensor, index: p, label: Int(v), classes: bound))
        }
    }

    /// The name the interpreter gives value `k` in errors: its name, else `op#node`.
    func tensorName(_ k: Int) -> String {
        let v = ir.values[k]
        if let name = v.name { return name }
        if case .op(let op) = v.kind, let origin = v.origin { return "\(op.name)#\(origin.rawValue)" }
        return ir.label(k)
    }

    /// The products of the axes before and after `axis`.
    static func outerInner(_ shape: [Int], _ axis: Int) -> (outer: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[(axis + 1)...].reduce(1, *))
    }

    /// `source` (read in the order of a dense destination of `destinationShape`) with
    /// size-1 axes dropped and adjacent axes merged where the source is contiguous
    /// across them, so that permutations of any rank that move few blocks fit the kernel.
    static func mergedAxes(_ source: CopyLayout, destinationShape: [Int],
                           destinationOffset: Int) -> (source: CopyLayout, destination: CopyLayout) {
        var shape: [Int] = [], strides: [Int] = []
        for (n, s) in zip(source.shape, source.strides) where n != 1 {
            if let last = shape.indices.last, strides[last] == s * n {
                shape[last] *= n
                strides[last] = s
            } else {
                shape.append(n)
                strides.append(s)
            }
        }
        if source.shape.contains(0) { (shape, strides) = ([0], [1]) }
        return (CopyLayout(shape: shape, strides: strides, offset: source.offset), .dense(shape, offset: destinationOffset))
    }
}
