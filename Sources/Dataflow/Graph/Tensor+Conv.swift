import DataflowKernels

// Network layers: 2-D convolution and pooling over NHWC images (docs/ARCHITECTURE.md,
// "Layout": images NHWC, kernels HWIO).
//
// The public functions resolve `Padding2D` to explicit amounts from the static
// spatial sizes, then build one op whose attributes say everything the shape rule,
// the VJP, the interpreter and the lowering need. Spatial sizes and channels must
// be known when the graph is built; only the batch may be unknown.

/// How a 2-D window op pads its input.
///
/// ```swift
/// try conv2d(x, k, padding: .same)                                   // output H×W (stride 1)
/// try conv2d(x, k, padding: .explicit(top: 1, bottom: 0, left: 1, right: 0))
/// ```
public enum Padding2D: Hashable, Sendable {
    /// TensorFlow's "SAME": output size ⌈size / stride⌉, the extra padding element at the end.
    case same
    /// No padding: only windows wholly inside the input.
    case valid
    /// Zeros added on each side (each ≥ 0).
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
}

/// The resolved attributes of a convolution op (`Op.conv2d` and its backward ops).
public struct Conv2DAttributes: Hashable, Sendable, CustomStringConvertible {
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    public let dilationHeight: Int, dilationWidth: Int

    /// Attributes with explicit padding (no checks: shape inference checks them).
    public init(kernel: (height: Int, width: Int), stride: (height: Int, width: Int),
                padding: (top: Int, bottom: Int, left: Int, right: Int), dilation: (height: Int, width: Int)) {
        (kernelHeight, kernelWidth) = kernel
        (strideHeight, strideWidth) = stride
        (padTop, padBottom, padLeft, padRight) = padding
        (dilationHeight, dilationWidth) = dilation
    }

    public var description: String {
        "\(kernelHeight)×\(kernelWidth), stride \(strideHeight)×\(strideWidth), pad (\(padTop), \(padBottom), \(padLeft), "
            + "\(padRight)), dilation \(dilationHeight)×\(dilationWidth)"
    }

    /// The kernels' geometry for concrete input [N, H, W, C] and O output channels.
    func geometry(batch: Int, height: Int, width: Int, channels: Int, outputChannels: Int) throws(KernelError) -> Conv2DGeometry {
        try Conv2DGeometry(batch: batch, height: height, width: width, channels: channels,
                           kernelHeight: kernelHeight, kernelWidth: kernelWidth, outputChannels: outputChannels,
                           stride: (strideHeight, strideWidth), padding: (padTop, padBottom, padLeft, padRight),
                           dilation: (dilationHeight, dilationWidth))
    }
}

/// The resolved attributes of a pooling op (`Op.maxPool2d`, `Op.avgPool2d` and their gradients).
public struct Pool2DAttributes: Hashable, Sendable, CustomStringConvertible {
    public let windowHeight: Int, windowWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    /// Average pooling only: divide by the whole window (PyTorch's `count_include_pad=True`)
    /// rather than by the number of input elements in it.
    public let countIncludesPadding: Bool

    /// Attributes with explicit padding (no checks: shape inference checks them).
    public init(window: (height: Int, width: Int), stride: (height: Int, width: Int),
                padding: (top: Int, bottom: Int, left: Int, right: Int), countIncludesPadding: Bool = true) {
        (windowHeight, windowWidth) = window
        (strideHeight, strideWidth) = stride
        (padTop, padBottom, padLeft, padRight) = padding
        self.countIncludesPadding = countIncludesPadding
    }

    public var description: String {
        "\(windowHeight)×\(windowWidth), stride \(strideHeight)×\(strideWidth), pad (\(padTop), \(padBottom), \(padLeft), \(padRight))"
            + (countIncludesPadding ? "" : ", excluding padding")
    }

    /// The kernels' geometry for concrete input [N, H, W, C].
    func geometry(batch: Int, height: Int, width: Int, channels: Int) throws(KernelError) -> Pool2DGeometry {
        try Pool2DGeometry(batch: batch, height: height, width: width, channels: channels,
                           window: (windowHeight, windowWidth), stride: (strideHeight, strideWidth),
                           padding: (padTop, padBottom, padLeft, padRight))
    }
}

/// The known spatial sizes (H, W) and channels of an NHWC tensor, or a `GraphError`.
private func spatialSizes(_ op: String, _ x: Tensor, role: String) throws -> (h: Int, w: Int, c: Int) {
    guard x.shape.rank == 4 else {
        throw GraphError("\(op): \(role) \(x.label) \(x.shape) has rank \(x.shape.rank); expected rank 4 (NHWC)", kind: .shapeMismatch)
    }
    guard let h = x.shape.dims[1], let w = x.shape.dims[2], let c = x.shape.dims[3] else {
        throw GraphError("\(op): \(role) \(x.label) \(x.shape): height, width and channels must be known (only the batch may be unknown)",
                         kind: .shapeMismatch)
    }
    return (h, w, c)
}

/// Explicit padding (top, bottom, left, right) for `padding`.
private func resolve(_ padding: Padding2D, _ op: String, size: (Int, Int), kernel: (Int, Int), stride: (Int, Int),
                     dilation: (Int, Int) = (1, 1)) throws -> (Int, Int, Int, Int) {
    guard stride.0 >= 1, stride.1 >= 1 else {
        throw GraphError("\(op): stride \(stride) must be ≥ 1", kind: .invalidArgument)
    }
    switch padding {
    case .valid: return (0, 0, 0, 0)
    case .same:
        let (t, b) = Conv2DGeometry.samePadding(size: size.0, kernel: kernel.0, stride: stride.0, dilation: dilation.0)
        let (l, r) = Conv2DGeometry.samePadding(size: size.1, kernel: kernel.1, stride: stride.1, dilation: dilation.1)
        return (t, b, l, r)
    case .explicit(let t, let b, let l, let r): return (t, b, l, r)
    }
}

/// 2-D convolution (cross-correlation, as in every deep-learning library) of NHWC
/// images with an HWIO kernel.
///
/// ```swift
/// let x = try g.placeholder("x", .float32, [nil, 28, 28, 1])
/// let k = g.parameter("k", try .uniform([3, 3, 1, 8], .float32, in: -0.3...0.3, seed: 1))
/// let y = try conv2d(x, k, padding: .same)     // [?, 28, 28, 8]
/// ```
/// - Parameters:
///   - x: [N, H, W, C]; H, W and C known.
///   - kernel: [KH, KW, C, O], fully known.
///   - stride: (sH, sW) ≥ 1.
///   - padding: `.same`, `.valid` or explicit amounts ≥ 0.
///   - dilation: (dH, dW) ≥ 1, the spacing of kernel taps.
/// - Returns: [N, OH, OW, O] with OH = ⌊(H + top + bottom − dH·(KH−1) − 1) / sH⌋ + 1, OW likewise.
/// - Throws: `GraphError` naming the tensors: `.shapeMismatch` for ranks, channels
///   or a dilated kernel larger than the padded input; `.invalidArgument` for a
///   stride, dilation or padding out of range; `.dtypeMismatch` for non-float or mixed dtypes.
/// - Complexity: 2·N·OH·OW·KH·KW·C·O flops at run time.
public func conv2d(_ x: Tensor, _ kernel: Tensor, stride: (height: Int, width: Int) = (1, 1), padding: Padding2D = .valid,
                   dilation: (height: Int, width: Int) = (1, 1)) throws -> Tensor {
    let (h, w, _) = try spatialSizes("conv2d", x, role: "input")
    guard kernel.shape.rank == 4, let kh = kernel.shape.dims[0], let kw = kernel.shape.dims[1] else {
        throw GraphError("conv2d: kernel \(kernel.label) \(kernel.shape): expected a known rank-4 shape [KH, KW, C, O]",
                         kind: .shapeMismatch)
    }
    guard dilation.height >= 1, dilation.width >= 1 else {
        throw GraphError("conv2d: dilation \(dilation) must be ≥ 1", kind: .invalidArgument)
    }
    let pad = try resolve(padding, "conv2d", size: (h, w), kernel: (kh, kw), stride: stride, dilation: dilation)
    let attributes = Conv2DAttributes(kernel: (kh, kw), stride: stride, padding: pad, dilation: dilation)
    return try x.applying(.conv2d(attributes), [kernel])
}

/// 2-D max pooling of NHWC images: the maximum of each window, per channel.
///
/// ```swift
/// let p = try maxPool2d(y, window: (2, 2))     // [?, 14, 14, 8] from [?, 28, 28, 8]
/// ```
/// - Parameters:
///   - x: [N, H, W, C]; H, W and C known.
///   - window: (KH, KW) ≥ 1.
///   - stride: (sH, sW) ≥ 1; the window when `nil`.
///   - padding: `.same`, `.valid` or explicit amounts, each smaller than the window
///     (padding never wins the maximum).
/// - Returns: [N, OH, OW, C], OH = ⌊(H + top + bottom − KH) / sH⌋ + 1, OW likewise.
///   The gradient goes to the first maximal element of each window (scan order).
/// - Throws: `GraphError` (`.shapeMismatch`, `.invalidArgument`, `.dtypeMismatch`) naming `x`.
public func maxPool2d(_ x: Tensor, window: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil,
                      padding: Padding2D = .valid) throws -> Tensor {
    try x.applying(.maxPool2d(poolAttributes("maxPool2d", x, window, stride, padding, countIncludesPadding: true)))
}

/// 2-D average pooling of NHWC images: the mean of each window, per channel.
///
/// ```swift
/// let p = try avgPool2d(y, window: (2, 2), padding: .same)
/// ```
/// - Parameters:
///   - x: the input [N, H, W, C], H, W and C known.
///   - window: the window's (height, width).
///   - stride: the step between windows (default: the window).
///   - padding: `.valid`, `.same` or explicit amounts.
///   - countIncludesPadding: divide by KH·KW, padding counting as zeros (PyTorch's
///     default), rather than by the number of input elements in the window.
/// - Returns: [N, OH, OW, C] as `maxPool2d`.
/// - Throws: `GraphError` as `maxPool2d`.
public func avgPool2d(_ x: Tensor, window: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil,
                      padding: Padding2D = .valid, countIncludesPadding: Bool = true) throws -> Tensor {
    try x.applying(.avgPool2d(poolAttributes("avgPool2d", x, window, stride, padding, countIncludesPadding: countIncludesPadding)))
}

private func poolAttributes(_ op: String, _ x: Tensor, _ window: (height: Int, width: Int), _ stride: (height: Int, width: Int)?,
                            _ padding: Padding2D, countIncludesPadding: Bool) throws -> Pool2DAttributes {
    let (h, w, _) = try spatialSizes(op, x, role: "input")
    guard window.height >= 1, window.width >= 1 else {
        throw GraphError("\(op): window \(window) must be ≥ 1", kind: .invalidArgument)
    }
    let stride = stride ?? window
    let pad = try resolve(padding, op, size: (h, w), kernel: (window.height, window.width), stride: (stride.height, stride.width))
    return Pool2DAttributes(window: window, stride: stride, padding: pad, countIncludesPadding: countIncludesPadding)
}
