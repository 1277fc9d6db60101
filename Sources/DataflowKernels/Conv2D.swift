// 2-D convolution on the GEMM: NHWC input, HWIO kernel, output NHWC.
//
// Goals, in order of priority:
//   1. Correct for any geometry: stride, dilation, explicit asymmetric padding, odd
//      sizes, one channel.
//   2. Deterministic for any split into tasks. im2col is a copy. col2im is a gather:
//      each input pixel sums the patch entries that read it in a fixed order (kh, then
//      kw, ascending), so a task owns a range of input pixels, never races, and any
//      split gives the same bits.
//   3. Speed from the package GEMM:
//        forward          Y  = cols · K             cols = im2col(X): [N·OH·OW, KH·KW·C]
//        input gradient   dX = col2im(dY · Kᵀ)      K viewed as [KH·KW·C, O] (HWIO, dense)
//        kernel gradient  dK = colsᵀ · dY
//
// im2col follows K. Chellapilla, S. Puri and P. Simard, "High Performance Convolutional
// Neural Networks for Document Processing" (2006) and Caffe's im2col/col2im, with the
// patch laid out (kh, kw, c) so that the HWIO kernel is the GEMM's B matrix as stored.
// Departure: Caffe's col2im scatters (patch by patch); here it gathers (pixel by
// pixel), which removes write conflicts between tasks.

/// The shape of a 2-D convolution: input [N, H, W, C] (NHWC), kernel [KH, KW, C, O]
/// (HWIO), output [N, OH, OW, O], with OH = (H + top + bottom − dH·(KH−1) − 1) / sH + 1
/// (rounded down) and OW likewise.
///
/// ```swift
/// let (top, bottom) = Conv2DGeometry.samePadding(size: 32, kernel: 3, stride: 1)
/// let g = try Conv2DGeometry(batch: 8, height: 32, width: 32, channels: 3, kernelHeight: 3, kernelWidth: 3,
///                            outputChannels: 16, padding: (top, bottom, top, bottom))
/// g.outputHeight   // 32
/// ```
public struct Conv2DGeometry: Sendable, Hashable {
    public let batch: Int, height: Int, width: Int, channels: Int
    public let kernelHeight: Int, kernelWidth: Int, outputChannels: Int
    public let strideHeight: Int, strideWidth: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public let dilationHeight: Int, dilationWidth: Int
    public let outputHeight: Int, outputWidth: Int

    /// A checked geometry.
    /// - Parameters:
    ///   - batch: N ≥ 0; height, width, channels: H, W, C ≥ 1.
    ///   - kernelHeight, kernelWidth, outputChannels: KH, KW, O ≥ 1.
    ///   - stride: (sH, sW) ≥ 1.
    ///   - padding: zeros added (top, bottom, left, right), each ≥ 0.
    ///   - dilation: (dH, dW) ≥ 1: spacing between kernel taps.
    /// - Throws: `KernelError` naming the bad argument, or when the dilated kernel
    ///   is larger than the padded input.
    public init(batch: Int, height: Int, width: Int, channels: Int, kernelHeight: Int, kernelWidth: Int, outputChannels: Int,
                stride: (height: Int, width: Int) = (1, 1), padding: (top: Int, bottom: Int, left: Int, right: Int) = (0, 0, 0, 0),
                dilation: (height: Int, width: Int) = (1, 1)) throws(KernelError) {
        let name = "Conv2DGeometry"
        guard batch >= 0 else { throw KernelError("\(name): batch must be ≥ 0, got \(batch)") }
        for (v, what) in [(height, "height"), (width, "width"), (channels, "channels"), (kernelHeight, "kernelHeight"),
                          (kernelWidth, "kernelWidth"), (outputChannels, "outputChannels"), (stride.height, "stride.height"),
                          (stride.width, "stride.width"), (dilation.height, "dilation.height"), (dilation.width, "dilation.width")]
        where v < 1 {
            throw KernelError("\(name): \(what) must be ≥ 1, got \(v)")
        }
        for (v, what) in [(padding.top, "padding.top"), (padding.bottom, "padding.bottom"), (padding.left, "padding.left"),
                          (padding.right, "padding.right")] where v < 0 {
            throw KernelError("\(name): \(what) must be ≥ 0, got \(v)")
        }
        let extentH = dilation.height * (kernelHeight - 1) + 1, extentW = dilation.width * (kernelWidth - 1) + 1
        let paddedH = height + padding.top + padding.bottom, paddedW = width + padding.left + padding.right
        guard extentH <= paddedH, extentW <= paddedW else {
            throw KernelError("\(name): the dilated kernel (\(extentH)×\(extentW)) is larger than the padded input "
                              + "(\(paddedH)×\(paddedW))")
        }
        self.batch = batch; self.height = height; self.width = width; self.channels = channels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth; self.outputChannels = outputChannels
        self.strideHeight = stride.height; self.strideWidth = stride.width
        self.padTop = padding.top; self.padBottom = padding.bottom; self.padLeft = padding.left; self.padRight = padding.right
        self.dilationHeight = dilation.height; self.dilationWidth = dilation.width
        self.outputHeight = (paddedH - extentH) / stride.height + 1
        self.outputWidth = (paddedW - extentW) / stride.width + 1
    }

    /// TensorFlow's "SAME" padding of one axis: output size ⌈size / stride⌉, the total
    /// padding split with the extra element at the end (`after ≥ before`).
    ///
    /// ```swift
    /// Conv2DGeometry.samePadding(size: 5, kernel: 4, stride: 1)   // (1, 2)
    /// ```
    public static func samePadding(size: Int, kernel: Int, stride: Int = 1, dilation: Int = 1) -> (before: Int, after: Int) {
        let out = (size + stride - 1) / max(stride, 1)
        let total = max(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - size)
        return (total / 2, total - total / 2)
    }

    /// KH·KW·C: the columns of the im2col matrix and the rows of the kernel matrix.
    public var patchSize: Int { kernelHeight * kernelWidth * channels }
    /// N·OH·OW: the rows of the im2col matrix and of the output matrix.
    public var outputPixels: Int { batch * outputHeight * outputWidth }
    /// N·H·W: the rows of the input matrix.
    public var inputPixels: Int { batch * height * width }

    /// The same geometry for `n` images (a chunk of the batch).
    func withBatch(_ n: Int) -> Conv2DGeometry {
        Conv2DGeometry(copying: self, batch: n)
    }

    private init(copying g: Conv2DGeometry, batch: Int) {
        self.batch = batch; height = g.height; width = g.width; channels = g.channels
        kernelHeight = g.kernelHeight; kernelWidth = g.kernelWidth; outputChannels = g.outputChannels
        strideHeight = g.strideHeight; strideWidth = g.strideWidth
        padTop = g.padTop; padBottom = g.padBottom; padLeft = g.padLeft; padRight = g.padRight
        dilationHeight = g.dilationHeight; dilationWidth = g.dilationWidth
        outputHeight = g.outputHeight; outputWidth = g.outputWidth
    }
}

/// Convolution kernels: im2col, col2im and the whole passes on the package GEMM.
///
/// Tensors are passed as matrices of pixels: input [N·H·W, C], output [N·OH·OW, O]
/// (each row one pixel's channels, `colStride` 1, any `rowStride` ≥ the channels),
/// kernel [KH·KW·C, O] (HWIO as stored, `colStride` 1).
public enum Conv2D {
    /// Elements of scratch the whole passes need for `images` images:
    /// images·OH·OW·KH·KW·C (one im2col matrix; the same for all three passes).
    ///
    /// ```swift
    /// let scratch = TensorBuffer<Float>(count: Conv2D.scratchCount(g, images: g.batch))
    /// ```
    public static func scratchCount(_ g: Conv2DGeometry, images: Int) -> Int {
        images * g.outputHeight * g.outputWidth * g.patchSize
    }

    /// Writes rows `rows` of the im2col matrix into `columns`: row r = (n, oh, ow) holds
    /// the receptive field of output pixel r, laid out (kh, kw, c); padding is zero.
    ///
    /// ```swift
    /// try Conv2D.im2col(g, input: x, rows: 0..<g.outputPixels, into: cols)
    /// ```
    /// - Parameters:
    ///   - input: [N·H·W, C] with colStride 1.
    ///   - rows: a range of 0..<N·OH·OW (a task's tile).
    ///   - columns: [rows.count, KH·KW·C] with colStride 1 (row i holds row rows.lowerBound + i).
    /// - Throws: `KernelError` naming "input", "rows" or "columns".
    /// - Complexity: rows.count·KH·KW·C copies.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func im2col<T: KernelScalar>(_ g: Conv2DGeometry, input: MatrixView<T>, rows: Range<Int>,
                                               into columns: MatrixView<T>) throws(KernelError) {
        let name = "Conv2D.im2col"
        try _checkPixels(input, "input", rows: g.inputPixels, cols: g.channels, name)
        try _checkRange(rows, "rows", 0..<g.outputPixels, name)
        try _checkPixels(columns, "columns", rows: rows.count, cols: g.patchSize, name, output: true)
        try _checkDisjoint(columns, "columns", input, "input", name)
        _uncheckedIm2col(g, input, rows, columns)
    }

    /// Writes rows `pixels` of the input gradient from the gradient of the im2col
    /// matrix: dX[p, c] = Σ of the columns entries that im2col copied from (p, c), summed
    /// in a fixed order (kh, then kw, ascending), starting from zero. Any split of the
    /// pixels into tasks gives the same bits.
    ///
    /// ```swift
    /// try Conv2D.col2im(g, columns: dCols, pixels: 0..<g.inputPixels, into: dx)
    /// ```
    /// - Parameters:
    ///   - columns: [N·OH·OW, KH·KW·C] with colStride 1 (the whole matrix: every pixel reads
    ///     several rows).
    ///   - pixels: a range of 0..<N·H·W.
    ///   - inputGradient: [N·H·W, C] with colStride 1; only rows `pixels` are written
    ///     (overwritten, not accumulated).
    /// - Throws: `KernelError` naming "columns", "pixels" or "inputGradient".
    /// - Complexity: pixels.count·KH·KW·C additions at most.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func col2im<T: KernelScalar>(_ g: Conv2DGeometry, columns: MatrixView<T>, pixels: Range<Int>,
                                               into inputGradient: MatrixView<T>) throws(KernelError) {
        let name = "Conv2D.col2im"
        try _checkPixels(columns, "columns", rows: g.outputPixels, cols: g.patchSize, name)
        try _checkRange(pixels, "pixels", 0..<g.inputPixels, name)
        try _checkPixels(inputGradient, "inputGradient", rows: g.inputPixels, cols: g.channels, name, output: true)
        try _checkDisjoint(inputGradient, "inputGradient", columns, "columns", name)
        _uncheckedCol2im(g, columns, pixels, inputGradient)
    }

    /// Y = conv2d(X, K) for images `images`: im2col into scratch, then one GEMM.
    ///
    /// ```swift
    /// let scratch = TensorBuffer<Float>(count: Conv2D.scratchCount(g, images: g.batch))
    /// try Conv2D.forward(g, input: x, kernel: k, into: y, scratch: scratch)
    /// ```
    /// - Parameters:
    ///   - input: [N·H·W, C]; kernel: [KH·KW·C, O]; output: [N·OH·OW, O]; colStride 1.
    ///   - scratch, scratchOffset: at least `scratchCount(g, images: images.count)`
    ///     elements from the offset, not overlapping any operand (an arena may hold both).
    ///   - images: the images to compute (a task's share); all by default. Rows of the
    ///     output of other images are not touched.
    /// - Throws: `KernelError` naming the operand, "scratch" or "images".
    /// - Complexity: 2·images·OH·OW·KH·KW·C·O flops.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func forward<T: KernelScalar>(_ g: Conv2DGeometry, input: MatrixView<T>, kernel: MatrixView<T>,
                                                into output: MatrixView<T>, scratch: TensorBuffer<T>, scratchOffset: Int = 0,
                                                images: Range<Int>? = nil) throws(KernelError) {
        let name = "Conv2D.forward"
        try _checkPixels(input, "input", rows: g.inputPixels, cols: g.channels, name)
        try _checkPixels(kernel, "kernel", rows: g.patchSize, cols: g.outputChannels, name)
        try _checkPixels(output, "output", rows: g.outputPixels, cols: g.outputChannels, name, output: true)
        let images = images ?? 0..<g.batch
        try _checkRange(images, "images", 0..<g.batch, name)
        let cols = try _scratch(g, images.count, scratch, scratchOffset, name,
                                operands: [(input, "input"), (kernel, "kernel"), (output, "output")])
        try _checkDisjoint(output, "output", input, "input", name)
        try _checkDisjoint(output, "output", kernel, "kernel", name)
        if _prefersDirectForward(g) {
            _directForward(g, input, kernel, output, images: images)
            return
        }
        let sub = g.withBatch(images.count)
        let x = input.rows(images.lowerBound * g.height * g.width..<images.upperBound * g.height * g.width)
        let ohw = g.outputHeight * g.outputWidth
        _uncheckedIm2col(sub, x, 0..<sub.outputPixels, cols)
        try GEMM.multiply(cols, transposeA: false, kernel, transposeB: false,
                          into: output.rows(images.lowerBound * ohw..<images.upperBound * ohw))
    }

    /// dX = col2im(dY · Kᵀ) for images `images` (their rows of dX are overwritten).
    ///
    /// ```swift
    /// try Conv2D.backwardInput(g, outputGradient: dy, kernel: k, into: dx, scratch: scratch)
    /// ```
    /// - Parameters:
    ///   - outputGradient: [N·OH·OW, O]; kernel: [KH·KW·C, O]; inputGradient: [N·H·W, C].
    ///   - scratch, scratchOffset, images: as `forward`.
    /// - Throws: `KernelError` naming the operand, "scratch" or "images".
    /// - Complexity: 2·images·OH·OW·KH·KW·C·O flops plus the col2im additions.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func backwardInput<T: KernelScalar>(_ g: Conv2DGeometry, outputGradient: MatrixView<T>, kernel: MatrixView<T>,
                                                      into inputGradient: MatrixView<T>, scratch: TensorBuffer<T>,
                                                      scratchOffset: Int = 0, images: Range<Int>? = nil) throws(KernelError) {
        let name = "Conv2D.backwardInput"
        try _checkPixels(outputGradient, "outputGradient", rows: g.outputPixels, cols: g.outputChannels, name)
        try _checkPixels(kernel, "kernel", rows: g.patchSize, cols: g.outputChannels, name)
        try _checkPixels(inputGradient, "inputGradient", rows: g.inputPixels, cols: g.channels, name, output: true)
        let images = images ?? 0..<g.batch
        try _checkRange(images, "images", 0..<g.batch, name)
        let cols = try _scratch(g, images.count, scratch, scratchOffset, name,
                                operands: [(outputGradient, "outputGradient"), (kernel, "kernel"), (inputGradient, "inputGradient")])
        try _checkDisjoint(inputGradient, "inputGradient", outputGradient, "outputGradient", name)
        try _checkDisjoint(inputGradient, "inputGradient", kernel, "kernel", name)
        if let t = _transposedGeometry(g), _prefersDirectForward(t) {
            _directBackwardInput(g, t, outputGradient, kernel, inputGradient, images: images)
            return
        }
        let sub = g.withBatch(images.count)
        let hw = g.height * g.width, ohw = g.outputHeight * g.outputWidth
        try GEMM.multiply(outputGradient.rows(images.lowerBound * ohw..<images.upperBound * ohw), transposeA: false,
                          kernel, transposeB: true, into: cols)
        _uncheckedCol2im(sub, cols, 0..<sub.inputPixels, inputGradient.rows(images.lowerBound * hw..<images.upperBound * hw))
    }

    /// dK = im2col(X)ᵀ · dY over images `images` (dK += … when `accumulate`, so a caller
    /// may sum chunks of the batch in a fixed order).
    ///
    /// ```swift
    /// try Conv2D.backwardKernel(g, input: x, outputGradient: dy, into: dk, scratch: scratch)
    /// ```
    /// - Parameters:
    ///   - input: [N·H·W, C]; outputGradient: [N·OH·OW, O]; kernelGradient: [KH·KW·C, O].
    ///   - scratch, scratchOffset, images: as `forward`.
    ///   - accumulate: add to kernelGradient instead of overwriting it.
    /// - Throws: `KernelError` naming the operand, "scratch" or "images".
    /// - Complexity: 2·images·OH·OW·KH·KW·C·O flops.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func backwardKernel<T: KernelScalar>(_ g: Conv2DGeometry, input: MatrixView<T>, outputGradient: MatrixView<T>,
                                                       into kernelGradient: MatrixView<T>, scratch: TensorBuffer<T>,
                                                       scratchOffset: Int = 0, images: Range<Int>? = nil,
                                                       accumulate: Bool = false) throws(KernelError) {
        let name = "Conv2D.backwardKernel"
        try _checkPixels(input, "input", rows: g.inputPixels, cols: g.channels, name)
        try _checkPixels(outputGradient, "outputGradient", rows: g.outputPixels, cols: g.outputChannels, name)
        try _checkPixels(kernelGradient, "kernelGradient", rows: g.patchSize, cols: g.outputChannels, name, output: true)
        let images = images ?? 0..<g.batch
        try _checkRange(images, "images", 0..<g.batch, name)
        let cols = try _scratch(g, images.count, scratch, scratchOffset, name,
                                operands: [(input, "input"), (outputGradient, "outputGradient"), (kernelGradient, "kernelGradient")])
        try _checkDisjoint(kernelGradient, "kernelGradient", input, "input", name)
        try _checkDisjoint(kernelGradient, "kernelGradient", outputGradient, "outputGradient", name)
        if _prefersDirectKernelGradient(g) {
            _directBackwardKernel(g, input, outputGradient, kernelGradient, images: images, accumulate: accumulate)
            return
        }
        let sub = g.withBatch(images.count)
        let hw = g.height * g.width, ohw = g.outputHeight * g.outputWidth
        _uncheckedIm2col(sub, input.rows(images.lowerBound * hw..<images.upperBound * hw), 0..<sub.outputPixels, cols)
        try GEMM.multiply(cols, transposeA: true, outputGradient.rows(images.lowerBound * ohw..<images.upperBound * ohw),
                          transposeB: false, into: kernelGradient, beta: accumulate ? 1 : 0)
    }

    // MARK: - Checks and dispatch

    /// The scratch im2col matrix for `images` images, checked against the buffer and
    /// the operands that share it.
    static func _scratch<T>(_ g: Conv2DGeometry, _ images: Int, _ scratch: TensorBuffer<T>, _ offset: Int, _ name: String,
                            operands: [(MatrixView<T>, String)]) throws(KernelError) -> MatrixView<T> {
        let need = scratchCount(g, images: images)
        guard offset >= 0, offset + need <= scratch.count else {
            throw KernelError("\(name): scratch needs \(need) elements from offset \(offset) (Conv2D.scratchCount for \(images) images), "
                              + "but the buffer has \(scratch.count)")
        }
        let cols = MatrixView(scratch, offset: offset, rows: images * g.outputHeight * g.outputWidth, cols: g.patchSize)
        for (v, operand) in operands { try _checkDisjoint(cols, "scratch", v, operand, name) }
        return cols
    }

    static func _uncheckedIm2col<T: KernelScalar>(_ g: Conv2DGeometry, _ input: MatrixView<T>, _ rows: Range<Int>,
                                                  _ columns: MatrixView<T>) {
        input.withUnsafeMatrix { px in
        columns.withUnsafeMatrix { pc in
            switch _KernelKind(T.self) {
            case .float: _ConvKernels<Float>.im2col(g, px.cast(to: Float.self), rows, pc.cast(to: Float.self))
            case .double: _ConvKernels<Double>.im2col(g, px.cast(to: Double.self), rows, pc.cast(to: Double.self))
            }
        }}
    }

    /// `inputGradient` is the whole [N·H·W, C] matrix of `g`; rows `pixels` are written.
    static func _uncheckedCol2im<T: KernelScalar>(_ g: Conv2DGeometry, _ columns: MatrixView<T>, _ pixels: Range<Int>,
                                                  _ inputGradient: MatrixView<T>) {
        columns.withUnsafeMatrix { pc in
        inputGradient.withUnsafeMatrix { pd in
            switch _KernelKind(T.self) {
            case .float: _ConvKernels<Float>.col2im(g, pc.cast(to: Float.self), pixels, pd.cast(to: Float.self))
            case .double: _ConvKernels<Double>.col2im(g, pc.cast(to: Double.self), pixels, pd.cast(to: Double.self))
            }
        }}
    }
}

/// A matrix of pixels: shape rows×cols, colStride 1 (unless one column), and for an
/// output, rows that do not overlap.
@inline(never)
func _checkPixels<T>(_ v: MatrixView<T>, _ name: @autoclosure () -> String, rows: Int, cols: Int, _ op: @autoclosure () -> String, output: Bool = false) throws(KernelError) {
    try _checkShape(v, name(), rows: rows, cols: cols, op())
    guard v.colStride == 1 || cols <= 1 else {
        throw KernelError("\(op()): \(name()) needs colStride 1 (channels contiguous), got \(v.describe(name()))")
    }
    if output {
        guard rows <= 1 || v.rowStride >= cols else {
            throw KernelError("\(op()): \(name()) is an output and its rows overlap (rowStride < cols): \(v.describe(name()))")
        }
    }
}

@inline(never)
func _checkRange(_ r: Range<Int>, _ name: @autoclosure () -> String, _ valid: Range<Int>, _ op: @autoclosure () -> String) throws(KernelError) {
    guard r.lowerBound >= valid.lowerBound, r.upperBound <= valid.upperBound else {
        throw KernelError("\(op()): \(name()) \(r) is outside \(valid)")
    }
}

/// The buffer indices a view addresses, as a closed span (nil when empty).
func _span<T>(_ v: MatrixView<T>) -> ClosedRange<Int>? {
    if v.rows == 0 || v.cols == 0 { return nil }
    let lastRow = (v.rows - 1) * v.rowStride, lastCol = (v.cols - 1) * v.colStride
    return (v.offset + min(0, lastRow) + min(0, lastCol))...(v.offset + max(0, lastRow) + max(0, lastCol))
}

/// An output must not share memory with an input of the same call (checked by span:
/// two views of one buffer whose spans intersect are rejected even if interleaved).
@inline(never)
func _checkDisjoint<T>(_ out: MatrixView<T>, _ outName: @autoclosure () -> String, _ other: MatrixView<T>, _ otherName: @autoclosure () -> String,
                       _ op: @autoclosure () -> String) throws(KernelError) {
    guard out.buffer === other.buffer, let a = _span(out), let b = _span(other) else { return }
    if a.overlaps(b) {
        throw KernelError("\(op()): \(outName()) overlaps \(otherName()) in the same buffer (elements \(a) and \(b))")
    }
}

/// The loops, specialised per element type.
enum _ConvKernels<T: KernelScalar> {
    static func im2col(_ g: Conv2DGeometry, _ x: _UnsafeMatrix<T>, _ rows: Range<Int>, _ cols: _UnsafeMatrix<T>) {
        let c = g.channels, kh = g.kernelHeight, kw = g.kernelWidth
        let h = g.height, w = g.width, oh = g.outputHeight, ow = g.outputWidth
        for r in rows {
            let n = r / (oh * ow), pixel = r % (oh * ow), y = pixel / ow, xo = pixel % ow
            let dst = cols.at(r - rows.lowerBound, 0)
            for i in 0..<kh {
                let ih = y * g.strideHeight - g.padTop + i * g.dilationHeight
                for j in 0..<kw {
                    let iw = xo * g.strideWidth - g.padLeft + j * g.dilationWidth
                    let d = dst + (i * kw + j) * c
                    if ih >= 0 && ih < h && iw >= 0 && iw < w {
                        d.update(from: x.at((n * h + ih) * w + iw, 0), count: c)
                    } else {
                        d.update(repeating: 0, count: c)
                    }
                }
            }
        }
    }

    static func col2im(_ g: Conv2DGeometry, _ cols: _UnsafeMatrix<T>, _ pixels: Range<Int>, _ dx: _UnsafeMatrix<T>) {
        let c = g.channels, kh = g.kernelHeight, kw = g.kernelWidth
        let h = g.height, w = g.width, oh = g.outputHeight, ow = g.outputWidth
        for p in pixels {
            let n = p / (h * w), pixel = p % (h * w), ih = pixel / w, iw = pixel % w
            let out = dx.at(p, 0)
            out.update(repeating: 0, count: c)
            for i in 0..<kh {
                let th = ih + g.padTop - i * g.dilationHeight
                guard th >= 0, th % g.strideHeight == 0, th / g.strideHeight < oh else { continue }
                for j in 0..<kw {
                    let tw = iw + g.padLeft - j * g.dilationWidth
                    guard tw >= 0, tw % g.strideWidth == 0, tw / g.strideWidth < ow else { continue }
                    let src = cols.at((n * oh + th / g.strideHeight) * ow + tw / g.strideWidth, (i * kw + j) * c)
                    for k in 0..<c { out[k] += src[k] }
                }
            }
        }
    }
}
