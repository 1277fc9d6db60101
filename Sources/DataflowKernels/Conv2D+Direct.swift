/// Direct convolution loops for layers with few channels, where im2col + GEMM spends
/// its time copying and packing (a 3×3 kernel over one input channel is a GEMM with
/// K = 9): each output pixel's channels are vectors, eight pixels of a row share each
/// kernel vector, and the padding is handled by loop bounds (no scratch).
///
/// Order of summation, fixed for every split of the work: forward and the input
/// gradient sum over kernel row, kernel column, then input channel; the kernel
/// gradient sums over image, output row, then output column.
extension Conv2D {
    /// Whether the forward pass (and a stride-1 input gradient, as the forward pass of
    /// its transposed geometry) runs the direct loops. Measured on an AMD Zen 4 (batch 16,
    /// 3×3 "same", Float, direct vs im2col + GEMM): 28×28 C1→O8 108 vs 639 µs, 14×14
    /// C8→O16 126 vs 288 µs, 32×32 C3→O32 633 vs 930 µs; but 14×14 C16→O32 550 vs 391 µs
    /// and C28→O32 854 vs 598 µs (each vector of output channels re-reads the input),
    /// and 14×14 C32→O16 415 vs 431 µs (even at a long patch).
    static func _prefersDirectForward(_ g: Conv2DGeometry) -> Bool {
        g.outputChannels <= 16 ? g.patchSize <= 512 : g.outputChannels <= 32 && g.patchSize <= 64
    }

    /// Whether the kernel gradient runs the direct loops. Same measurement: 28×28 C1→O8
    /// 128 vs 584 µs, 14×14 C8→O16 70 vs 290, C16→O32 314 vs 468, C28→O32 562 vs 633,
    /// C32→O16 (patch 288) 393 vs 419, 7×7 C64→O32 (patch 576) 321 vs 318.
    static func _prefersDirectKernelGradient(_ g: Conv2DGeometry) -> Bool {
        g.outputChannels <= 32 && g.patchSize <= 320
    }

    /// The input gradient as a forward convolution of dY with the flipped, transposed
    /// kernel: possible for stride 1 when the padding is at most the dilated kernel's
    /// reach on each side. Returns the geometry of that convolution.
    static func _transposedGeometry(_ g: Conv2DGeometry) -> Conv2DGeometry? {
        guard g.strideHeight == 1, g.strideWidth == 1 else { return nil }
        let reachH = g.dilationHeight * (g.kernelHeight - 1), reachW = g.dilationWidth * (g.kernelWidth - 1)
        let top = reachH - g.padTop, left = reachW - g.padLeft
        let bottom = g.height - g.outputHeight - top + reachH, right = g.width - g.outputWidth - left + reachW
        guard top >= 0, left >= 0, bottom >= 0, right >= 0 else { return nil }
        guard let t = try? Conv2DGeometry(batch: g.batch, height: g.outputHeight, width: g.outputWidth, channels: g.outputChannels,
                                          kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth, outputChannels: g.channels,
                                          stride: (1, 1), padding: (top, bottom, left, right),
                                          dilation: (g.dilationHeight, g.dilationWidth)),
              t.outputHeight == g.height, t.outputWidth == g.width else { return nil }
        return t
    }
}

@inline(__always) func _ceilDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? (a + b - 1) / b : -((-a) / b) }
@inline(__always) func _floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

enum _DirectConv<V: _KernelVector> {
    typealias T = V.Scalar

    @inline(__always)
    static func loadLanes(_ p: UnsafeMutablePointer<T>, _ count: Int) -> V {
        count == V.lanes ? V.load(p) : V.loadPrefix(p, count: count)
    }

    @inline(__always)
    static func storeLanes(_ v: V, _ p: UnsafeMutablePointer<T>, _ count: Int) {
        if count == V.lanes { v.store(p) } else { v.storePrefix(p, count: count) }
    }

    /// Output pixels ow in `interior` read every kernel column inside the row.
    static func interiorColumns(_ g: Conv2DGeometry) -> Range<Int> {
        let lo = min(g.outputWidth, _ceilDiv(g.padLeft, g.strideWidth))
        let last = _floorDiv(g.width - 1 + g.padLeft - (g.kernelWidth - 1) * g.dilationWidth, g.strideWidth)
        return lo..<max(lo, min(g.outputWidth, last + 1))
    }

    /// y rows of images `images` = conv2d(x, k); x, y, k whole matrices of `g`.
    static func forward(_ g: Conv2DGeometry, _ x: _UnsafeMatrix<T>, _ k: _UnsafeMatrix<T>, _ y: _UnsafeMatrix<T>,
                        images: Range<Int>) {
        let w = V.lanes
        let C = g.channels, O = g.outputChannels, H = g.height, W = g.width
        let OH = g.outputHeight, OW = g.outputWidth, KW = g.kernelWidth
        let sh = g.strideHeight, sw = g.strideWidth, dh = g.dilationHeight, dw = g.dilationWidth
        let interior = interiorColumns(g)
        let pixelStep = sw * x.rowStride
        for n in images {
            for oh in 0..<OH {
                let ihBase = oh * sh - g.padTop
                let iLo = ihBase >= 0 ? 0 : _ceilDiv(-ihBase, dh)
                let iHi = min(g.kernelHeight, max(0, _ceilDiv(H - ihBase, dh)))
                let rowOut = (n * OH + oh) * OW
                var oc = 0
                while oc < O {
                    let lanes = min(w, O - oc)
                    var ow = 0
                    while ow < OW {
                        if ow >= interior.lowerBound && ow + 8 <= interior.upperBound {
                            var a0 = V(repeating: 0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
                            if iLo < iHi {
                                for i in iLo..<iHi {
                                    let rowIn = (n * H + ihBase + i * dh) * W
                                    for j in 0..<KW {
                                        let xp = x.at(rowIn + ow * sw - g.padLeft + j * dw, 0)
                                        let kp = k.at((i * KW + j) * C, oc)
                                        for c in 0..<C {
                                            let kv = loadLanes(kp + c * k.rowStride, lanes)
                                            let xc = xp + c
                                            a0 = V.mulAdd(V(repeating: xc[0]), kv, a0)
                                            a1 = V.mulAdd(V(repeating: xc[pixelStep]), kv, a1)
                                            a2 = V.mulAdd(V(repeating: xc[2 * pixelStep]), kv, a2)
                                            a3 = V.mulAdd(V(repeating: xc[3 * pixelStep]), kv, a3)
                                            a4 = V.mulAdd(V(repeating: xc[4 * pixelStep]), kv, a4)
                                            a5 = V.mulAdd(V(repeating: xc[5 * pixelStep]), kv, a5)
                                            a6 = V.mulAdd(V(repeating: xc[6 * pixelStep]), kv, a6)
                                            a7 = V.mulAdd(V(repeating: xc[7 * pixelStep]), kv, a7)
                                        }
                                    }
                                }
                            }
                            let yp = y.at(rowOut + ow, oc), ys = y.rowStride
                            storeLanes(a0, yp, lanes); storeLanes(a1, yp + ys, lanes)
                            storeLanes(a2, yp + 2 * ys, lanes); storeLanes(a3, yp + 3 * ys, lanes)
                            storeLanes(a4, yp + 4 * ys, lanes); storeLanes(a5, yp + 5 * ys, lanes)
                            storeLanes(a6, yp + 6 * ys, lanes); storeLanes(a7, yp + 7 * ys, lanes)
                            ow += 8
                        } else {
                            var a = V(repeating: 0)
                            if iLo < iHi {
                                for i in iLo..<iHi {
                                    let rowIn = (n * H + ihBase + i * dh) * W
                                    for j in 0..<KW {
                                        let iw = ow * sw - g.padLeft + j * dw
                                        guard iw >= 0 && iw < W else { continue }
                                        let xp = x.at(rowIn + iw, 0)
                                        let kp = k.at((i * KW + j) * C, oc)
                                        for c in 0..<C {
                                            a = V.mulAdd(V(repeating: xp[c]), loadLanes(kp + c * k.rowStride, lanes), a)
                                        }
                                    }
                                }
                            }
                            storeLanes(a, y.at(rowOut + ow, oc), lanes)
                            ow += 1
                        }
                    }
                    oc += w
                }
            }
        }
    }

    /// dk (= or +=) Σ over images `images` of x ⊗ dy; x, dy, dk whole matrices of `g`.
    static func backwardKernel(_ g: Conv2DGeometry, _ x: _UnsafeMatrix<T>, _ dy: _UnsafeMatrix<T>, _ dk: _UnsafeMatrix<T>,
                               images: Range<Int>, accumulate: Bool) {
        let w = V.lanes
        let C = g.channels, O = g.outputChannels, H = g.height, W = g.width
        let OH = g.outputHeight, OW = g.outputWidth, KW = g.kernelWidth
        let sh = g.strideHeight, sw = g.strideWidth, dh = g.dilationHeight, dw = g.dilationWidth
        let xs = x.rowStride
        var oc = 0
        while oc < O {
            let lanes = min(w, O - oc)
            for i in 0..<g.kernelHeight {
                // Output rows whose tap i lands inside the image.
                let ohLo = max(0, _ceilDiv(g.padTop - i * dh, sh))
                let ohHi = min(OH, _floorDiv(H - 1 + g.padTop - i * dh, sh) + 1)
                for j in 0..<KW {
                    let owLo = max(0, _ceilDiv(g.padLeft - j * dw, sw))
                    let owHi = min(OW, _floorDiv(W - 1 + g.padLeft - j * dw, sw) + 1)
                    var c0 = 0
                    while c0 < C {
                        let cb = min(8, C - c0)
                        var a0 = V(repeating: 0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
                        if ohLo < ohHi && owLo < owHi {
                            for n in images {
                                for oh in ohLo..<ohHi {
                                    let ih = oh * sh - g.padTop + i * dh
                                    let dyRow = dy.at((n * OH + oh) * OW + owLo, oc)
                                    let xRow = x.at((n * H + ih) * W + owLo * sw - g.padLeft + j * dw, c0)
                                    let xStep = sw * xs
                                    if cb == 8 {
                                        for t in 0..<(owHi - owLo) {
                                            let d = loadLanes(dyRow + t * dy.rowStride, lanes)
                                            let xp = xRow + t * xStep
                                            a0 = V.mulAdd(V(repeating: xp[0]), d, a0)
                                            a1 = V.mulAdd(V(repeating: xp[1]), d, a1)
                                            a2 = V.mulAdd(V(repeating: xp[2]), d, a2)
                                            a3 = V.mulAdd(V(repeating: xp[3]), d, a3)
                                            a4 = V.mulAdd(V(repeating: xp[4]), d, a4)
                                            a5 = V.mulAdd(V(repeating: xp[5]), d, a5)
                                            a6 = V.mulAdd(V(repeating: xp[6]), d, a6)
                                            a7 = V.mulAdd(V(repeating: xp[7]), d, a7)
                                        }
                                    } else {
                                        for t in 0..<(owHi - owLo) {
                                            let d = loadLanes(dyRow + t * dy.rowStride, lanes)
                                            let xp = xRow + t * xStep
                                            a0 = V.mulAdd(V(repeating: xp[0]), d, a0)
                                            if cb > 1 { a1 = V.mulAdd(V(repeating: xp[1]), d, a1) }
                                            if cb > 2 { a2 = V.mulAdd(V(repeating: xp[2]), d, a2) }
                                            if cb > 3 { a3 = V.mulAdd(V(repeating: xp[3]), d, a3) }
                                            if cb > 4 { a4 = V.mulAdd(V(repeating: xp[4]), d, a4) }
                                            if cb > 5 { a5 = V.mulAdd(V(repeating: xp[5]), d, a5) }
                                            if cb > 6 { a6 = V.mulAdd(V(repeating: xp[6]), d, a6) }
                                        }
                                    }
                                }
                            }
                        }
                        func put(_ t: Int, _ a: V) {
                            guard t < cb else { return }
                            let p = dk.at((i * KW + j) * C + c0 + t, oc)
                            storeLanes(accumulate ? loadLanes(p, lanes) + a : a, p, lanes)
                        }
                        put(0, a0); put(1, a1); put(2, a2); put(3, a3); put(4, a4); put(5, a5); put(6, a6); put(7, a7)
                        c0 += 8
                    }
                }
            }
            oc += w
        }
    }
}

extension Conv2D {
    static func _directForward<T: KernelScalar>(_ g: Conv2DGeometry, _ input: MatrixView<T>, _ kernel: MatrixView<T>,
                                                _ output: MatrixView<T>, images: Range<Int>) {
        input.withUnsafeMatrix { px in
        kernel.withUnsafeMatrix { pk in
        output.withUnsafeMatrix { py in
            _directForward(g, px, pk, py, images: images)
        }}}
    }

    static func _directForward<T: KernelScalar>(_ g: Conv2DGeometry, _ px: _UnsafeMatrix<T>, _ pk: _UnsafeMatrix<T>,
                                                _ py: _UnsafeMatrix<T>, images: Range<Int>) {
        switch _KernelKind(T.self) {
        case .float:
            _DirectConv<SIMD16<Float>>.forward(g, px.cast(to: Float.self), pk.cast(to: Float.self), py.cast(to: Float.self),
                                               images: images)
        case .double:
            _DirectConv<SIMD8<Double>>.forward(g, px.cast(to: Double.self), pk.cast(to: Double.self), py.cast(to: Double.self),
                                               images: images)
        }
    }

    static func _directBackwardKernel<T: KernelScalar>(_ g: Conv2DGeometry, _ input: MatrixView<T>, _ outputGradient: MatrixView<T>,
                                                       _ kernelGradient: MatrixView<T>, images: Range<Int>, accumulate: Bool) {
        input.withUnsafeMatrix { px in
        outputGradient.withUnsafeMatrix { pd in
        kernelGradient.withUnsafeMatrix { pk in
            switch _KernelKind(T.self) {
            case .float:
                _DirectConv<SIMD16<Float>>.backwardKernel(g, px.cast(to: Float.self), pd.cast(to: Float.self), pk.cast(to: Float.self),
                                                          images: images, accumulate: accumulate)
            case .double:
                _DirectConv<SIMD8<Double>>.backwardKernel(g, px.cast(to: Double.self), pd.cast(to: Double.self),
                                                          pk.cast(to: Double.self), images: images, accumulate: accumulate)
            }
        }}}
    }

    /// dX for images `images` as the forward convolution `t` (`_transposedGeometry`) of dY
    /// with the kernel flipped in both axes and its channel axes swapped.
    static func _directBackwardInput<T: KernelScalar>(_ g: Conv2DGeometry, _ t: Conv2DGeometry, _ outputGradient: MatrixView<T>,
                                                      _ kernel: MatrixView<T>, _ inputGradient: MatrixView<T>, images: Range<Int>) {
        let C = g.channels, O = g.outputChannels, KH = g.kernelHeight, KW = g.kernelWidth
        let flipped = UnsafeMutablePointer<T>.allocate(capacity: KH * KW * O * C)
        defer { flipped.deallocate() }
        kernel.withUnsafeMatrix { pk in
            for i in 0..<KH {
                for j in 0..<KW {
                    for c in 0..<C {
                        let src = pk.at(((KH - 1 - i) * KW + (KW - 1 - j)) * C + c, 0)
                        for o in 0..<O { flipped[((i * KW + j) * O + o) * C + c] = src[o] }
                    }
                }
            }
        }
        let pk = _UnsafeMatrix(base: flipped, rows: KH * KW * O, cols: C, rowStride: C, colStride: 1)
        outputGradient.withUnsafeMatrix { pd in
        inputGradient.withUnsafeMatrix { px in
            _directForward(t, pd, pk, px, images: images)
        }}
    }
}
