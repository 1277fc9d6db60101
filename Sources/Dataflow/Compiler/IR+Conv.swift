import DataflowKernels

/// How the network-layer values (convolution and pooling over NHWC images) are
/// split into tasks, and the arena scratch the convolutions need.
///
/// Goals, in order: results that do not depend on the worker count (the split
/// depends only on the batch size, and the kernel gradient sums per-chunk partial
/// gradients in chunk order); then parallelism over images.
extension IR {
    /// At most this many image chunks per value; a chunk is a task.
    static let maximumImageChunks = 8

    /// The image ranges of a batch of `images`: at most `maximumImageChunks` of them,
    /// sizes differing by at most one. A function of the batch size alone.
    static func imageChunks(_ images: Int) -> [Range<Int>] {
        let chunks = Swift.max(1, Swift.min(images, maximumImageChunks))
        return (0..<chunks).map { c in (images * c / chunks)..<(images * (c + 1) / chunks) }
    }

    /// The convolution geometry of value `i` (a conv2d op or one of its backward ops)
    /// from the concrete shapes, or `nil` for any other value.
    func convGeometryOfValue(_ i: Int) throws -> Conv2DGeometry? {
        guard case .op(let op) = values[i].kind, IR.isImageLayer(op) else { return nil }   // cheap for every other value
        let ins = values[i].inputs.map { values[$0].concrete }
        if case .conv2d(let a) = op { return try convGeometry(i, a, input: ins[0], outputChannels: ins[1][3]) }
        if case .conv2dBackwardInput(let a) = op { return try convGeometry(i, a, input: ins[2], outputChannels: ins[1][3]) }
        if case .conv2dBackwardKernel(let a) = op { return try convGeometry(i, a, input: ins[0], outputChannels: ins[1][3]) }
        return nil
    }

    /// Whether `op` is a convolution or pooling op (lowered by `Lowering`'s image-layer tasks).
    static func isImageLayer(_ op: Op) -> Bool {
        if case .conv2d = op { return true }
        if case .conv2dBackwardInput = op { return true }
        if case .conv2dBackwardKernel = op { return true }
        if case .maxPool2d = op { return true }
        if case .maxPool2dGrad = op { return true }
        if case .avgPool2d = op { return true }
        if case .avgPool2dGrad = op { return true }
        return false
    }

    /// Elements of one chunk's im2col scratch, rounded up to the arena alignment.
    static func im2colScratch(_ g: Conv2DGeometry, chunks: [Range<Int>]) -> Int {
        let images = chunks.map(\.count).max() ?? 0
        return align(Conv2D.scratchCount(g, images: images))
    }

    /// Elements rounded up to `MemoryPlan.alignment`.
    static func align(_ n: Int) -> Int {
        (n + MemoryPlan.alignment - 1) / MemoryPlan.alignment * MemoryPlan.alignment
    }

    /// Elements of arena scratch (of the value's dtype) that value `i` needs while it
    /// runs: one im2col matrix per image chunk, plus, for a kernel gradient of several
    /// chunks, one partial kernel gradient per chunk. Zero for every other value.
    func scratchCount(_ i: Int) -> Int {
        guard let g = try? convGeometryOfValue(i) else { return 0 }
        let chunks = IR.imageChunks(g.batch)
        var need = chunks.count * IR.im2colScratch(g, chunks: chunks)
        if case .op(.conv2dBackwardKernel) = values[i].kind, chunks.count > 1 {
            need += chunks.count * IR.align(g.patchSize * g.outputChannels)
        }
        return need
    }
}
