// 2-D max and average pooling, NHWC, forward and backward.
//
// Goals, in order: correct windows at the padded edges; deterministic gradients for
// any split into tasks (a backward task owns whole images, whose input-gradient rows
// no other task writes, and scans their windows in a fixed order); then speed (the
// channel loop is innermost and contiguous).
//
// Semantics follow PyTorch's max_pool2d / avg_pool2d (floor mode):
// - max: padding never wins (it is not −∞ but absent); the output is the first
//   maximal element of the window in scan order (kh, then kw, ascending); a NaN
//   wins over any number and the first NaN is kept. The backward pass routes the
//   gradient to that same element (PyTorch routes to the last NaN instead).
// - average: with `includePadding` (PyTorch's default count_include_pad=True) the
//   divisor is always KH·KW, padding counting as zeros; without it, the number of
//   window elements inside the input. Sums run in scan order and are then divided.

/// The shape of a 2-D pooling: input [N, H, W, C], output [N, OH, OW, C] with
/// OH = (H + top + bottom − KH) / sH + 1 (rounded down) and OW likewise.
///
/// ```swift
/// let g = try Pool2DGeometry(batch: 8, height: 32, width: 32, channels: 16, window: (2, 2))   // stride 2
/// ```
public struct Pool2DGeometry: Sendable, Hashable {
    public let batch: Int, height: Int, width: Int, channels: Int
    public let windowHeight: Int, windowWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public let outputHeight: Int, outputWidth: Int

    /// A checked geometry.
    /// - Parameters:
    ///   - batch: N ≥ 0; height, width, channels ≥ 1.
    ///   - window: (KH, KW) ≥ 1.
    ///   - stride: (sH, sW) ≥ 1; the window by default.
    ///   - padding: (top, bottom, left, right), each in 0..<the window's size along its
    ///     axis, so that every window holds at least one input element.
    /// - Throws: `KernelError` naming the bad argument.
    public init(batch: Int, height: Int, width: Int, channels: Int, window: (height: Int, width: Int),
                stride: (height: Int, width: Int)? = nil,
                padding: (top: Int, bottom: Int, left: Int, right: Int) = (0, 0, 0, 0)) throws(KernelError) {
        let name = "Pool2DGeometry"
        let stride = stride ?? window
        guard batch >= 0 else { throw KernelError("\(name): batch must be ≥ 0, got \(batch)") }
        for (v, what) in [(height, "height"), (width, "width"), (channels, "channels"), (window.height, "window.height"),
                          (window.width, "window.width"), (stride.height, "stride.height"), (stride.width, "stride.width")] where v < 1 {
            throw KernelError("\(name): \(what) must be ≥ 1, got \(v)")
        }
        for (v, what, k) in [(padding.top, "padding.top", window.height), (padding.bottom, "padding.bottom", window.height),
                             (padding.left, "padding.left", window.width), (padding.right, "padding.right", window.width)]
        where v < 0 || v >= k {
            throw KernelError("\(name): \(what) must be in 0..<\(k) (the window), got \(v)")
        }
        let paddedH = height + padding.top + padding.bottom, paddedW = width + padding.left + padding.right
        guard window.height <= paddedH, window.width <= paddedW else {
            throw KernelError("\(name): the window (\(window.height)×\(window.width)) is larger than the padded input "
                              + "(\(paddedH)×\(paddedW))")
        }
        self.batch = batch; self.height = height; self.width = width; self.channels = channels
        self.windowHeight = window.height; self.windowWidth = window.width
        self.strideHeight = stride.height; self.strideWidth = stride.width
        self.padTop = padding.top; self.padBottom = padding.bottom; self.padLeft = padding.left; self.padRight = padding.right
        self.outputHeight = (paddedH - window.height) / stride.height + 1
        self.outputWidth = (paddedW - window.width) / stride.width + 1
    }

    /// N·OH·OW: the rows of the output matrix.
    public var outputPixels: Int { batch * outputHeight * outputWidth }
    /// N·H·W: the rows of the input matrix.
    public var inputPixels: Int { batch * height * width }
}

/// Max and average pooling over pixel matrices: input [N·H·W, C], output
/// [N·OH·OW, C], each row one pixel's channels (colStride 1).
public enum Pool2D {
    /// Y = max over each window (first maximal element in scan order; NaN wins).
    ///
    /// ```swift
    /// try Pool2D.maxForward(g, input: x, into: y)
    /// ```
    /// - Parameters:
    ///   - input: [N·H·W, C]; output: [N·OH·OW, C]; colStride 1.
    ///   - rows: the output rows to compute (a task's share), all by default.
    /// - Throws: `KernelError` naming "input", "output" or "rows".
    /// - Complexity: rows·KH·KW·C comparisons.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func maxForward<T: KernelScalar>(_ g: Pool2DGeometry, input: MatrixView<T>, into output: MatrixView<T>,
                                                   rows: Range<Int>? = nil) throws(KernelError) {
        let name = "Pool2D.maxForward"
        let rows = try checkForward(g, input, output, rows, name)
        dispatch(input, output) { k, x, y in k.maxForward(g, x, y, rows) }
    }

    /// dX = the gradient of `maxForward`: each output gradient goes to the element
    /// `maxForward` chose (the first maximal one), summed over the windows that chose it
    /// in output order. Rows of dX of images `images` are overwritten.
    ///
    /// ```swift
    /// try Pool2D.maxBackward(g, input: x, outputGradient: dy, into: dx)
    /// ```
    /// - Parameters:
    ///   - input: X [N·H·W, C] (the windows are scanned again); outputGradient:
    ///     [N·OH·OW, C]; inputGradient: [N·H·W, C]; colStride 1.
    ///   - images: the images to compute (a task's share), all by default.
    /// - Throws: `KernelError` naming the operand or "images".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func maxBackward<T: KernelScalar>(_ g: Pool2DGeometry, input: MatrixView<T>, outputGradient: MatrixView<T>,
                                                    into inputGradient: MatrixView<T>, images: Range<Int>? = nil) throws(KernelError) {
        let name = "Pool2D.maxBackward"
        try _checkPixels(input, "input", rows: g.inputPixels, cols: g.channels, name)
        let images = try checkBackward(g, outputGradient, inputGradient, images, name)
        try _checkDisjoint(inputGradient, "inputGradient", input, "input", name)
        input.withUnsafeMatrix { px in
            dispatch(outputGradient, inputGradient) { k, dy, dx in k.maxBackward(g, px, dy, dx, images) }
        }
    }

    /// Y = average over each window (see the file header for the divisor).
    ///
    /// ```swift
    /// try Pool2D.averageForward(g, input: x, into: y)
    /// ```
    /// - Parameters:
    ///   - input, output, rows: as `maxForward`.
    ///   - includePadding: divide by KH·KW (PyTorch's count_include_pad=True, the
    ///     default) rather than by the number of input elements in the window.
    /// - Throws: `KernelError` naming "input", "output" or "rows".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func averageForward<T: KernelScalar>(_ g: Pool2DGeometry, input: MatrixView<T>, into output: MatrixView<T>,
                                                       includePadding: Bool = true, rows: Range<Int>? = nil) throws(KernelError) {
        let name = "Pool2D.averageForward"
        let rows = try checkForward(g, input, output, rows, name)
        dispatch(input, output) { k, x, y in k.averageForward(g, x, y, rows, includePadding) }
    }

    /// dX = the gradient of `averageForward`: each input element receives dy / divisor
    /// from every window holding it, in output order. Rows of dX of images `images`
    /// are overwritten.
    ///
    /// ```swift
    /// try Pool2D.averageBackward(g, outputGradient: dy, into: dx)
    /// ```
    /// - Parameters: as `maxBackward` (no input needed), and `includePadding` as in
    ///   `averageForward`.
    /// - Throws: `KernelError` naming the operand or "images".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func averageBackward<T: KernelScalar>(_ g: Pool2DGeometry, outputGradient: MatrixView<T>,
                                                        into inputGradient: MatrixView<T>, includePadding: Bool = true,
                                                        images: Range<Int>? = nil) throws(KernelError) {
        let name = "Pool2D.averageBackward"
        let images = try checkBackward(g, outputGradient, inputGradient, images, name)
        dispatch(outputGradient, inputGradient) { k, dy, dx in k.averageBackward(g, dy, dx, images, includePadding) }
    }

    // MARK: - Checks and dispatch

    static func checkForward<T>(_ g: Pool2DGeometry, _ input: MatrixView<T>, _ output: MatrixView<T>, _ rows: Range<Int>?,
                                _ name: String) throws(KernelError) -> Range<Int> {
        try _checkPixels(input, "input", rows: g.inputPixels, cols: g.channels, name)
        try _checkPixels(output, "output", rows: g.outputPixels, cols: g.channels, name, output: true)
        try _checkDisjoint(output, "output", input, "input", name)
        let rows = rows ?? 0..<g.outputPixels
        try _checkRange(rows, "rows", 0..<g.outputPixels, name)
        return rows
    }

    static func checkBackward<T>(_ g: Pool2DGeometry, _ dy: MatrixView<T>, _ dx: MatrixView<T>, _ images: Range<Int>?,
                                 _ name: String) throws(KernelError) -> Range<Int> {
        try _checkPixels(dy, "outputGradient", rows: g.outputPixels, cols: g.channels, name)
        try _checkPixels(dx, "inputGradient", rows: g.inputPixels, cols: g.channels, name, output: true)
        try _checkDisjoint(dx, "inputGradient", dy, "outputGradient", name)
        let images = images ?? 0..<g.batch
        try _checkRange(images, "images", 0..<g.batch, name)
        return images
    }

    /// Calls `body` with the concrete kernels and the two views lowered to pointers.
    @inline(__always)
    static func dispatch<T: KernelScalar>(_ a: MatrixView<T>, _ b: MatrixView<T>,
                                          _ body: (_PoolKernelsDispatch, _UnsafeMatrix<T>, _UnsafeMatrix<T>) -> Void) {
        a.withUnsafeMatrix { pa in
        b.withUnsafeMatrix { pb in
            body(_PoolKernelsDispatch(), pa, pb)
        }}
    }
}

/// Forwards each pooling loop to its concrete specialisation.
struct _PoolKernelsDispatch {
    func maxForward<T: KernelScalar>(_ g: Pool2DGeometry, _ x: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>, _ rows: Range<Int>) {
        switch _KernelKind(T.self) {
        case .float: _PoolVectorKernels<SIMD16<Float>>.maxForward(g, x.cast(to: Float.self), y.cast(to: Float.self), rows)
        case .double: _PoolVectorKernels<SIMD8<Double>>.maxForward(g, x.cast(to: Double.self), y.cast(to: Double.self), rows)
        }
    }
    func maxBackward<T: KernelScalar>(_ g: Pool2DGeometry, _ x: _UnsafeMatrix<T>, _ dy: _UnsafeMatrix<T>, _ dx: _UnsafeMatrix<T>,
                                      _ images: Range<Int>) {
        switch _KernelKind(T.self) {
        case .float:
            _PoolVectorKernels<SIMD16<Float>>.maxBackward(g, x.cast(to: Float.self), dy.cast(to: Float.self), dx.cast(to: Float.self), images)
        case .double:
            _PoolVectorKernels<SIMD8<Double>>.maxBackward(g, x.cast(to: Double.self), dy.cast(to: Double.self), dx.cast(to: Double.self),
                                                          images)
        }
    }
    func averageForward<T: KernelScalar>(_ g: Pool2DGeometry, _ x: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>, _ rows: Range<Int>,
                                         _ pad: Bool) {
        switch _KernelKind(T.self) {
        case .float: _PoolKernels<Float>.averageForward(g, x.cast(to: Float.self), y.cast(to: Float.self), rows, pad)
        case .double: _PoolKernels<Double>.averageForward(g, x.cast(to: Double.self), y.cast(to: Double.self), rows, pad)
        }
    }
    func averageBackward<T: KernelScalar>(_ g: Pool2DGeometry, _ dy: _UnsafeMatrix<T>, _ dx: _UnsafeMatrix<T>, _ images: Range<Int>,
                                          _ pad: Bool) {
        switch _KernelKind(T.self) {
        case .float: _PoolKernels<Float>.averageBackward(g, dy.cast(to: Float.self), dx.cast(to: Float.self), images, pad)
        case .double: _PoolKernels<Double>.averageBackward(g, dy.cast(to: Double.self), dx.cast(to: Double.self), images, pad)
        }
    }
}

/// The loops, specialised per element type.
enum _PoolKernels<T: KernelScalar> {
    /// The input rows of output pixel r's window, in scan order (−1: padding).
    @inline(__always)
    static func window(_ g: Pool2DGeometry, _ r: Int, _ body: (_ inputRow: Int) -> Void) {
        let ohw = g.outputHeight * g.outputWidth
        let n = r / ohw, y = (r % ohw) / g.outputWidth, x = r % g.outputWidth
        for i in 0..<g.windowHeight {
            let ih = y * g.strideHeight - g.padTop + i
            for j in 0..<g.windowWidth {
                let iw = x * g.strideWidth - g.padLeft + j
                body(ih >= 0 && ih < g.height && iw >= 0 && iw < g.width ? (n * g.height + ih) * g.width + iw : -1)
            }
        }
    }

    @inline(__always)
    static func divisor(_ g: Pool2DGeometry, _ r: Int, _ includePadding: Bool) -> T {
        if includePadding { return T(g.windowHeight * g.windowWidth) }
        var count = 0
        window(g, r) { p in if p >= 0 { count += 1 } }
        return T(count)
    }

    static func averageForward(_ g: Pool2DGeometry, _ x: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>, _ rows: Range<Int>,
                               _ includePadding: Bool) {
        let c = g.channels
        for r in rows {
            let out = y.at(r, 0)
            out.update(repeating: 0, count: c)
            window(g, r) { p in
                guard p >= 0 else { return }
                let src = x.at(p, 0)
                for k in 0..<c { out[k] += src[k] }
            }
            let d = divisor(g, r, includePadding)
            for k in 0..<c { out[k] /= d }
        }
    }

    static func averageBackward(_ g: Pool2DGeometry, _ dy: _UnsafeMatrix<T>, _ dx: _UnsafeMatrix<T>, _ images: Range<Int>,
                                _ includePadding: Bool) {
        let c = g.channels, hw = g.height * g.width, ohw = g.outputHeight * g.outputWidth
        for p in images.lowerBound * hw..<images.upperBound * hw { dx.at(p, 0).update(repeating: 0, count: c) }
        let share = UnsafeMutablePointer<T>.allocate(capacity: c)
        defer { share.deallocate() }
        for r in images.lowerBound * ohw..<images.upperBound * ohw {
            let d = divisor(g, r, includePadding), src = dy.at(r, 0)
            for k in 0..<c { share[k] = src[k] / d }
            window(g, r) { p in
                guard p >= 0 else { return }
                let out = dx.at(p, 0)
                for k in 0..<c { out[k] += share[k] }
            }
        }
    }
}
