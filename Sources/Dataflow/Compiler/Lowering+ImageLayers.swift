import DataflowKernels

/// Lowering of values of rank > 2: the image layers (convolution and pooling on
/// `Conv2D` / `Pool2D`), and rank-N element-wise ops and reductions as 2-D views.
///
/// Goals, in order: the same bits for any worker count (splits depend only on
/// shapes; the kernel gradient sums per-chunk partials in chunk order); no change
/// to rank ≤ 2 programs (they never reach this file); then parallelism over images.
extension Lowering {
    /// `shape` as a matrix [product of the leading axes, last axis] (rank > 2), else itself.
    static func flat2(_ shape: [Int]) -> [Int] {
        shape.count <= 2 ? shape : [shape.dropLast().reduce(1, *), shape.last!]
    }

    /// The 2-D shape of an operand of shape `s` broadcast (numpy rules) to `target`
    /// viewed as `flat2(target)`, or `nil` when the broadcast is not expressible by
    /// a matrix view (it stretches some leading axes but not all of them).
    static func flatOperand(_ s: [Int], to target: [Int]) -> [Int]? {
        if s == target { return flat2(target) }
        guard s.count <= target.count, let last = target.last else { return nil }
        let padded = [Int](repeating: 1, count: target.count - s.count) + s
        let leading = padded.dropLast()
        if leading.allSatisfy({ $0 == 1 }) { return [1, padded.last!] }                 // a row broadcast down
        if Array(leading) == Array(target.dropLast()) && padded.last == 1 && last != 1 {  // a column broadcast across
            return [leading.reduce(1, *), 1]
        }
        return nil
    }

    /// `shape` split into a matrix so that `axes` become the rows axis ([0]), the
    /// columns axis ([1]) or all of it (`[count]`, axes [0]); `nil` when `axes` are
    /// neither leading nor trailing axes.
    static func axisSplit(_ shape: [Int], _ axes: [Int]) -> (flat: [Int], axes: [Int])? {
        let r = shape.count
        if axes.isEmpty { return (flat2(shape), []) }
        if axes == Array(0..<r) { return ([shape.reduce(1, *)], [0]) }
        if let k = axes.last.map({ $0 + 1 }), axes == Array(0..<k) {
            return ([shape[..<k].reduce(1, *), shape[k...].reduce(1, *)], [0])
        }
        if let k = axes.first, axes == Array(k..<r) {
            return ([shape[..<k].reduce(1, *), shape[k...].reduce(1, *)], [1])
        }
        return nil
    }

    /// Value `i`'s kind and operands as rank ≤ 2 views where one matrix view
    /// expresses them: element-wise ops with equal shapes or a broadcast along all
    /// leading axes or the last, reductions over leading or trailing axes and their
    /// adjoints, and the row ops of the last axis (softmax, log-softmax, their
    /// gradients, argmax).
    /// - Returns: nil when no matrix view fits; `Lowering+RankN.swift` takes those.
    func flattened(_ i: Int, _ kind: IR.Kind, _ out: ValueRef, _ ins: [ValueRef]) -> (IR.Kind, ValueRef, [ValueRef])? {
        func with(_ r: ValueRef, _ shape: [Int]) -> ValueRef { ValueRef(slot: r.slot, offset: r.offset, shape: shape) }
        let isElementwise: Bool = switch kind {
        case .elementwise: true
        case .op(let op): op.elementwiseKernel != nil || op == .zerosLike || op == .broadcastLike
        case .gemm, .folded: false
        }
        if isElementwise {
            var flat: [ValueRef] = []
            for r in ins {
                guard let s = Lowering.flatOperand(r.shape, to: out.shape) else { return nil }
                flat.append(with(r, s))
            }
            if case .op(.broadcastLike) = kind { flat[1] = with(out, Lowering.flat2(out.shape)) }
            return (kind, with(out, Lowering.flat2(out.shape)), flat)
        }
        guard case .op(let op) = kind else { return nil }
        if [Op.softmax, .logSoftmax, .softmaxGrad, .logSoftmaxGrad].contains(op) {
            // Row ops of the last axis: every operand as [rows, last axis].
            return (kind, with(out, Lowering.flat2(out.shape)), ins.map { with($0, Lowering.flat2($0.shape)) })
        }
        if case .argmax(let axis) = op, axis == ins[0].shape.count - 1 {
            return (.op(.argmax(axis: 1)), with(out, [out.count]), [with(ins[0], Lowering.flat2(ins[0].shape))])
        }
        if op == .sumToShapeOf {
            guard let o = Lowering.flatOperand(out.shape, to: ins[0].shape) else { return nil }
            return (kind, with(out, o), [with(ins[0], Lowering.flat2(ins[0].shape)), with(ins[1], o)])
        }
        func reduction(_ axes: [Int], _ make: ([Int]) -> Op) -> (IR.Kind, ValueRef, [ValueRef])? {
            guard let (flat, newAxes) = Lowering.axisSplit(ins[0].shape, axes) else { return nil }
            let reduced = flat.enumerated().filter { !newAxes.contains($0.offset) }.map(\.element)
            return (.op(make(newAxes)), with(out, reduced), [with(ins[0], flat)])
        }
        if case .sum(let axes) = op { return reduction(axes) { .sum(axes: $0) } }
        if case .mean(let axes) = op { return reduction(axes) { .mean(axes: $0) } }
        if case .max(let axes) = op { return reduction(axes) { .max(axes: $0) } }
        if case .meanGrad(let axes) = op {
            guard let (flat, newAxes) = Lowering.axisSplit(out.shape, axes) else { return nil }
            let reduced = flat.enumerated().filter { !newAxes.contains($0.offset) }.map(\.element)
            return (.op(.meanGrad(axes: newAxes)), with(out, flat), [with(ins[0], reduced), with(ins[1], flat)])
        }
        return nil
    }

    /// An NHWC value as the kernels' pixel matrix [N·H·W, C].
    static func pixels<T: TensorElement>(_ r: ValueRef, _ b: Bindings, _: T.Type) -> MatrixView<T> {
        let c = r.shape.last ?? 1
        return MatrixView(b.buffer(r.slot, T.self), offset: r.offset, rows: r.count / Swift.max(c, 1), cols: c, rowStride: c, colStride: 1)
    }

    /// The tasks of a convolution or pooling value: one per chunk of images
    /// (`IR.imageChunks`, a function of the batch size only), plus, for a kernel
    /// gradient of several chunks, one task summing the chunks' partial gradients in
    /// chunk order.
    mutating func makeImageLayerTasks<T: KernelScalar>(_ i: Int, _ op: Op, _: T.Type, out: ValueRef,
                                                       ins: [ValueRef]) throws -> [PendingTask] {
        let b = bindings
        let dtype = ir.values[i].dtype
        let gradient = ir.values[i].isGradient
        if let g = try ir.convGeometryOfValue(i) {
            let chunks = IR.imageChunks(g.batch)
            let per = IR.im2colScratch(g, chunks: chunks)
            let base = plan.scratchOffsets[i] ?? 0
            let arena = arenaSlot[dtype]
            let f = 2.0 * Double(g.outputPixels) * Double(g.patchSize) * Double(g.outputChannels)
            flops += f
            let cost = f / Double(chunks.count) / 1.0e11
            @Sendable func scratch() -> TensorBuffer<T> {
                // Zero elements of scratch (an empty batch) need no arena.
                arena.map { b.buffer($0, T.self) } ?? TensorBuffer<T>(count: 0)
            }
            func suffix(_ images: Range<Int>) -> String { chunks.count > 1 ? " images \(images)" : "" }
            let kernelRows = g.patchSize
            if case .conv2d = op {
                let (x, k) = (ins[0], ins[1])
                return chunks.enumerated().map { c, images in
                    task(i, suffix(images), kind: gradient ? .inputGradientMatmul : .forwardMatmul, cost: cost) {
                        let kv = MatrixView(b.buffer(k.slot, T.self), offset: k.offset, rows: kernelRows, cols: g.outputChannels)
                        try Conv2D.forward(g, input: Lowering.pixels(x, b, T.self), kernel: kv, into: Lowering.pixels(out, b, T.self),
                                           scratch: scratch(), scratchOffset: base + c * per, images: images)
                    }
                }
            }
            if case .conv2dBackwardInput = op {
                let (dy, k) = (ins[0], ins[1])
                return chunks.enumerated().map { c, images in
                    task(i, suffix(images), kind: .inputGradientMatmul, cost: cost) {
                        let kv = MatrixView(b.buffer(k.slot, T.self), offset: k.offset, rows: kernelRows, cols: g.outputChannels)
                        try Conv2D.backwardInput(g, outputGradient: Lowering.pixels(dy, b, T.self), kernel: kv,
                                                 into: Lowering.pixels(out, b, T.self), scratch: scratch(),
                                                 scratchOffset: base + c * per, images: images)
                    }
                }
            }
            // conv2dBackwardKernel: (x, dy) → dK; chunk c writes its own partial, then one
            // task sums the partials in chunk order (so any worker count gives the same bits).
            let (x, dy) = (ins[0], ins[1])
            let kcount = IR.align(kernelRows * g.outputChannels)
            let partialBase = base + chunks.count * per
            let single = chunks.count == 1
            var bodies = chunks.enumerated().map { c, images in
                task(i, suffix(images), kind: .weightGradientMatmul, cost: cost) {
                    let target = single ? MatrixView(b.buffer(out.slot, T.self), offset: out.offset, rows: kernelRows,
                                                     cols: g.outputChannels)
                                        : MatrixView(scratch(), offset: partialBase + c * kcount, rows: kernelRows, cols: g.outputChannels)
                    try Conv2D.backwardKernel(g, input: Lowering.pixels(x, b, T.self), outputGradient: Lowering.pixels(dy, b, T.self),
                                              into: target, scratch: scratch(), scratchOffset: base + c * per, images: images)
                }
            }
            if !single {
                let n = chunks.count
                var sum = task(i, " sum of \(n) partials", kind: .weightGradientMatmul, cost: Double(n * kcount) * 1.0e-9) {
                    let total = MatrixView(b.buffer(out.slot, T.self), offset: out.offset, rows: 1, cols: kernelRows * g.outputChannels)
                    let s = scratch()
                    func partial(_ c: Int) -> MatrixView<T> { MatrixView(s, offset: partialBase + c * kcount, rows: 1, cols: total.cols) }
                    try Elementwise.copy(partial(0), into: total)
                    for c in 1..<n { try Elementwise.axpby(alpha: T(1), partial(c), beta: T(1), into: total) }
                }
                sum.dependencies = Array(0..<n)
                bodies.append(sum)
            }
            return bodies
        }
        // Pooling: the input is ins[0] except for avgPool2dGrad (dy, like x).
        let (attributes, input): (Pool2DAttributes, ValueRef)
        if case .maxPool2d(let a) = op { (attributes, input) = (a, ins[0]) }
        else if case .avgPool2d(let a) = op { (attributes, input) = (a, ins[0]) }
        else if case .maxPool2dGrad(let a) = op { (attributes, input) = (a, ins[0]) }
        else if case .avgPool2dGrad(let a) = op { (attributes, input) = (a, ins[1]) }
        else { throw CompileError(message: "\(ir.label(i)): \(op.name) is not an image layer", kind: .other) }
        let g = try ir.poolGeometry(i, attributes, input: input.shape)
        let chunks = IR.imageChunks(g.batch)
        let ohw = g.outputHeight * g.outputWidth
        let cost = Double(input.count + out.count) * 2.0e-9 / Double(chunks.count)
        let includePadding = attributes.countIncludesPadding
        return chunks.map { images in
            let rows = images.lowerBound * ohw..<images.upperBound * ohw
            return task(i, chunks.count > 1 ? " images \(images)" : "", kind: gradient ? .reduction : .rowwise, cost: cost) {
                let o = Lowering.pixels(out, b, T.self)
                if case .maxPool2d = op {
                    try Pool2D.maxForward(g, input: Lowering.pixels(ins[0], b, T.self), into: o, rows: rows)
                } else if case .avgPool2d = op {
                    try Pool2D.averageForward(g, input: Lowering.pixels(ins[0], b, T.self), into: o, includePadding: includePadding,
                                              rows: rows)
                } else if case .maxPool2dGrad = op {
                    try Pool2D.maxBackward(g, input: Lowering.pixels(ins[0], b, T.self), outputGradient: Lowering.pixels(ins[1], b, T.self),
                                           into: o, images: images)
                } else {
                    try Pool2D.averageBackward(g, outputGradient: Lowering.pixels(ins[0], b, T.self), into: o,
                                               includePadding: includePadding, images: images)
                }
            }
        }
    }
}
