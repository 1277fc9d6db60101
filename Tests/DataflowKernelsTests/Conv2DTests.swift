import Testing
import DataflowKernels

// Naive twins: direct loops over the definition, in T's precision.

/// Element (n, h, w, c) of a dense NHWC tensor stored as [N·H·W, C] rows.
func nhwc(_ h: Int, _ w: Int, _ c: Int, _ n: Int, _ y: Int, _ x: Int, _ k: Int) -> Int { ((n * h + y) * w + x) * c + k }

func naiveConvForward<T: KernelScalar>(_ g: Conv2DGeometry, _ x: [T], _ k: [T]) -> [T] {
    var y = [T](repeating: 0, count: g.outputPixels * g.outputChannels)
    for n in 0..<g.batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth { for o in 0..<g.outputChannels {
        var s: T = 0
        for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth {
            let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight, iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
            for c in 0..<g.channels {
                let kk = k[((i * g.kernelWidth + j) * g.channels + c) * g.outputChannels + o]
                s += x[nhwc(g.height, g.width, g.channels, n, ih, iw, c)] * kk
            }
        }}
        y[nhwc(g.outputHeight, g.outputWidth, g.outputChannels, n, oh, ow, o)] = s
    }}}}
    return y
}

/// dX by scatter-add (the opposite order of the kernel's gather).
func naiveConvBackwardInput<T: KernelScalar>(_ g: Conv2DGeometry, _ dy: [T], _ k: [T]) -> [T] {
    var dx = [T](repeating: 0, count: g.inputPixels * g.channels)
    for n in 0..<g.batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth {
        for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth {
            let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight, iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
            for c in 0..<g.channels { for o in 0..<g.outputChannels {
                let kk = k[((i * g.kernelWidth + j) * g.channels + c) * g.outputChannels + o]
                let d = dy[nhwc(g.outputHeight, g.outputWidth, g.outputChannels, n, oh, ow, o)]
                dx[nhwc(g.height, g.width, g.channels, n, ih, iw, c)] += d * kk
            }}
        }}
    }}}
    return dx
}

func naiveConvBackwardKernel<T: KernelScalar>(_ g: Conv2DGeometry, _ x: [T], _ dy: [T]) -> [T] {
    var dk = [T](repeating: 0, count: g.patchSize * g.outputChannels)
    for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth { for c in 0..<g.channels { for o in 0..<g.outputChannels {
        var s: T = 0
        for n in 0..<g.batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth {
            let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight, iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
            let d = dy[nhwc(g.outputHeight, g.outputWidth, g.outputChannels, n, oh, ow, o)]
            s += x[nhwc(g.height, g.width, g.channels, n, ih, iw, c)] * d
        }}}
        dk[((i * g.kernelWidth + j) * g.channels + c) * g.outputChannels + o] = s
    }}}}
    return dk
}

/// Values in [-1, 1), or small integers (exact sums) when `integers`.
func randomArray<T: KernelScalar>(_: T.Type, _ n: Int, seed: UInt64, integers: Bool = false) -> [T] {
    var rng = SplitMix(seed: seed)
    return (0..<n).map { _ in integers ? T(Int(rng.next() % 7) - 3) : T(Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) }
}

/// |got − want| ≤ tol·(1 + |want|) element by element.
func expectClose<T: KernelScalar>(_ got: [T], _ want: [T], tol: Double, _ what: String) {
    #expect(got.count == want.count, "\(what): \(got.count) vs \(want.count) elements")
    var worst = 0.0, at = -1
    for (i, (a, b)) in zip(got, want).enumerated() {
        let e = abs(Double(a) - Double(b)) / (1 + abs(Double(b)))
        if !(e <= worst) { worst = e; at = i }
    }
    #expect(worst <= tol, "\(what): worst relative error \(worst) at \(at)")
}

struct ConvCase: Sendable, CustomStringConvertible {
    var n, h, w, c, kh, kw, o: Int
    var stride: (Int, Int) = (1, 1)
    var pad: (Int, Int, Int, Int) = (0, 0, 0, 0)
    var dilation: (Int, Int) = (1, 1)
    var description: String { "N\(n) \(h)×\(w)×\(c) k\(kh)×\(kw)→\(o) s\(stride) p\(pad) d\(dilation)" }
    func geometry() throws -> Conv2DGeometry {
        try Conv2DGeometry(batch: n, height: h, width: w, channels: c, kernelHeight: kh, kernelWidth: kw, outputChannels: o,
                           stride: stride, padding: pad, dilation: dilation)
    }
}

@Suite struct Conv2DTests {
    static let cases: [ConvCase] = [
        ConvCase(n: 1, h: 1, w: 1, c: 1, kh: 1, kw: 1, o: 1),
        ConvCase(n: 2, h: 5, w: 7, c: 3, kh: 3, kw: 3, o: 17),                                            // valid
        ConvCase(n: 2, h: 5, w: 7, c: 3, kh: 3, kw: 3, o: 3, pad: (1, 1, 1, 1)),                          // same
        ConvCase(n: 1, h: 8, w: 9, c: 17, kh: 3, kw: 2, o: 1, stride: (2, 2), pad: (0, 1, 1, 0)),         // asymmetric
        ConvCase(n: 3, h: 9, w: 6, c: 1, kh: 2, kw: 3, o: 3, stride: (2, 1), dilation: (2, 2)),
        ConvCase(n: 1, h: 7, w: 7, c: 3, kh: 3, kw: 3, o: 17, stride: (2, 2), pad: (2, 2, 2, 2), dilation: (2, 2)),
        ConvCase(n: 2, h: 6, w: 5, c: 17, kh: 1, kw: 1, o: 17, stride: (2, 2)),
        ConvCase(n: 1, h: 4, w: 4, c: 3, kh: 4, kw: 4, o: 3, pad: (1, 2, 2, 1)),
        ConvCase(n: 2, h: 11, w: 3, c: 3, kh: 5, kw: 1, o: 1, stride: (1, 2), pad: (3, 0, 0, 1), dilation: (1, 2)),
        // Rows wide enough for the direct loops' eight-pixel blocks; output channels over
        // one vector (20 = 16 + 4), input channels over one block of eight (11).
        ConvCase(n: 2, h: 6, w: 19, c: 11, kh: 3, kw: 3, o: 20, pad: (1, 1, 1, 1)),
        ConvCase(n: 1, h: 7, w: 30, c: 3, kh: 3, kw: 2, o: 5, stride: (1, 2), pad: (1, 0, 2, 1), dilation: (2, 3)),
        ConvCase(n: 3, h: 8, w: 8, c: 1, kh: 3, kw: 3, o: 8, pad: (1, 1, 1, 1)),                          // digits CNN
        ConvCase(n: 2, h: 12, w: 13, c: 2, kh: 3, kw: 3, o: 7, pad: (2, 0, 0, 2), dilation: (2, 1)),
        // im2col + GEMM: many output channels (forward, kernel gradient), a long patch (kernel gradient).
        ConvCase(n: 2, h: 5, w: 9, c: 3, kh: 3, kw: 3, o: 40, pad: (1, 1, 1, 1)),
        ConvCase(n: 1, h: 6, w: 5, c: 40, kh: 3, kw: 3, o: 5, pad: (0, 1, 1, 0)),
    ]

    @Test(arguments: cases)
    func passesMatchNaiveTwin(_ cc: ConvCase) throws {
        try passes(Float.self, cc, tol: 2e-5)
        try passes(Double.self, cc, tol: 1e-13)
    }

    func passes<T: KernelScalar>(_: T.Type, _ cc: ConvCase, tol: Double) throws {
        let g = try cc.geometry()
        let x = randomArray(T.self, g.inputPixels * g.channels, seed: 1)
        let k = randomArray(T.self, g.patchSize * g.outputChannels, seed: 2)
        let dy = randomArray(T.self, g.outputPixels * g.outputChannels, seed: 3)
        let xv = MatrixView(TensorBuffer(x), rows: g.inputPixels, cols: g.channels)
        let kv = MatrixView(TensorBuffer(k), rows: g.patchSize, cols: g.outputChannels)
        let dyv = MatrixView(TensorBuffer(dy), rows: g.outputPixels, cols: g.outputChannels)
        // One arena for scratch and outputs, so the overlap checks see them share a buffer.
        let scratchCount = Conv2D.scratchCount(g, images: g.batch)
        let arena = TensorBuffer<T>(count: scratchCount + g.outputPixels * g.outputChannels + g.inputPixels * g.channels
                                                        + g.patchSize * g.outputChannels)
        var at = scratchCount
        let y = MatrixView(arena, offset: at, rows: g.outputPixels, cols: g.outputChannels); at += g.outputPixels * g.outputChannels
        let dx = MatrixView(arena, offset: at, rows: g.inputPixels, cols: g.channels); at += g.inputPixels * g.channels
        let dk = MatrixView(arena, offset: at, rows: g.patchSize, cols: g.outputChannels)
        try Conv2D.forward(g, input: xv, kernel: kv, into: y, scratch: arena)
        try Conv2D.backwardInput(g, outputGradient: dyv, kernel: kv, into: dx, scratch: arena)
        try Conv2D.backwardKernel(g, input: xv, outputGradient: dyv, into: dk, scratch: arena)
        expectClose(y.elements, naiveConvForward(g, x, k), tol: tol, "\(T.self) \(cc) forward")
        expectClose(dx.elements, naiveConvBackwardInput(g, dy, k), tol: tol, "\(T.self) \(cc) backwardInput")
        expectClose(dk.elements, naiveConvBackwardKernel(g, x, dy), tol: tol, "\(T.self) \(cc) backwardKernel")

        // Image by image (a task each, one image of scratch): the same bits for the
        // forward and input gradient; the kernel gradient summed in image order is close.
        let small = TensorBuffer<T>(count: Conv2D.scratchCount(g, images: 1) + 1)
        let y1 = MatrixView(TensorBuffer<T>(count: y.rows * y.cols), rows: y.rows, cols: y.cols)
        let dx1 = MatrixView(TensorBuffer<T>(count: dx.rows * dx.cols), rows: dx.rows, cols: dx.cols)
        let dk1 = MatrixView(TensorBuffer<T>(count: dk.rows * dk.cols), rows: dk.rows, cols: dk.cols)
        for n in (0..<g.batch).reversed() {
            try Conv2D.forward(g, input: xv, kernel: kv, into: y1, scratch: small, scratchOffset: 1, images: n..<n + 1)
            try Conv2D.backwardInput(g, outputGradient: dyv, kernel: kv, into: dx1, scratch: small, scratchOffset: 1, images: n..<n + 1)
            try Conv2D.backwardKernel(g, input: xv, outputGradient: dyv, into: dk1, scratch: small, scratchOffset: 1,
                                      images: n..<n + 1, accumulate: n != g.batch - 1)
        }
        #expect(y1.elements.map(Double.init) == y.elements.map(Double.init), "\(T.self) \(cc) forward per image")
        #expect(dx1.elements.map(Double.init) == dx.elements.map(Double.init), "\(T.self) \(cc) backwardInput per image")
        expectClose(dk1.elements, dk.elements, tol: tol, "\(T.self) \(cc) backwardKernel per image")
    }

    /// im2col matches its definition exactly; col2im is exact on integer data, and any
    /// split of its pixels (or of im2col's rows) gives the same bits.
    @Test(arguments: cases)
    func im2colAndCol2imTiles(_ cc: ConvCase) throws {
        let g = try cc.geometry()
        let x = randomArray(Double.self, g.inputPixels * g.channels, seed: 4, integers: true)
        let xv = MatrixView(TensorBuffer(x), rows: g.inputPixels, cols: g.channels)
        let cols = MatrixView(TensorBuffer<Double>(count: g.outputPixels * g.patchSize), rows: g.outputPixels, cols: g.patchSize)
        // im2col in three uneven tiles, written into a wider scratch (rowStride > cols).
        let cuts = [0, g.outputPixels / 3, g.outputPixels * 2 / 3 + 1, g.outputPixels].map { min($0, g.outputPixels) }
        for t in 0..<3 where cuts[t] < cuts[t + 1] {
            let tile = MatrixView(TensorBuffer<Double>(count: (cuts[t + 1] - cuts[t]) * (g.patchSize + 2)), rows: cuts[t + 1] - cuts[t],
                                  cols: g.patchSize, rowStride: g.patchSize + 2)
            try Conv2D.im2col(g, input: xv, rows: cuts[t]..<cuts[t + 1], into: tile)
            for i in 0..<tile.rows { for j in 0..<tile.cols { cols[cuts[t] + i, j] = tile[i, j] } }
        }
        for r in 0..<g.outputPixels {
            let n = r / (g.outputHeight * g.outputWidth), oh = (r / g.outputWidth) % g.outputHeight, ow = r % g.outputWidth
            for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth { for c in 0..<g.channels {
                let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight, iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                let want = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width ? x[nhwc(g.height, g.width, g.channels, n, ih, iw, c)] : 0
                #expect(cols[r, (i * g.kernelWidth + j) * g.channels + c] == want, "\(cc) im2col[\(r), (\(i),\(j),\(c))]")
            }}}
        }
        // col2im of integer data equals the scatter-add twin exactly (the twin with the
        // identity kernel: dX = Σ patches), whole or in tiles.
        let dcols = randomArray(Double.self, g.outputPixels * g.patchSize, seed: 5, integers: true)
        let dcv = MatrixView(TensorBuffer(dcols), rows: g.outputPixels, cols: g.patchSize)
        var want = [Double](repeating: 0, count: g.inputPixels * g.channels)
        for r in 0..<g.outputPixels {
            let n = r / (g.outputHeight * g.outputWidth), oh = (r / g.outputWidth) % g.outputHeight, ow = r % g.outputWidth
            for i in 0..<g.kernelHeight { for j in 0..<g.kernelWidth { for c in 0..<g.channels {
                let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight, iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                if ih >= 0 && ih < g.height && iw >= 0 && iw < g.width {
                    let d = dcols[r * g.patchSize + (i * g.kernelWidth + j) * g.channels + c]
                    want[nhwc(g.height, g.width, g.channels, n, ih, iw, c)] += d
                }
            }}}
        }
        let whole = MatrixView(TensorBuffer<Double>(count: g.inputPixels * g.channels), rows: g.inputPixels, cols: g.channels)
        try Conv2D.col2im(g, columns: dcv, pixels: 0..<g.inputPixels, into: whole)
        #expect(whole.elements == want, "\(cc) col2im")
        // Real-valued data: tiles in reverse order give the bits of the whole call.
        let real = MatrixView(TensorBuffer(randomArray(Float.self, g.outputPixels * g.patchSize, seed: 6)),
                              rows: g.outputPixels, cols: g.patchSize)
        let a = MatrixView(TensorBuffer<Float>(count: g.inputPixels * g.channels), rows: g.inputPixels, cols: g.channels)
        let b = MatrixView(TensorBuffer<Float>(repeating: .nan, count: g.inputPixels * g.channels), rows: g.inputPixels, cols: g.channels)
        try Conv2D.col2im(g, columns: real, pixels: 0..<g.inputPixels, into: a)
        var p = g.inputPixels
        while p > 0 { let lo = max(0, p - 5); try Conv2D.col2im(g, columns: real, pixels: lo..<p, into: b); p = lo }
        #expect(a.elements.map(\.bitPattern) == b.elements.map(\.bitPattern), "\(cc) col2im tiles")
    }

    @Test func geometryAndErrors() throws {
        #expect(Conv2DGeometry.samePadding(size: 5, kernel: 4) == (1, 2))
        #expect(Conv2DGeometry.samePadding(size: 7, kernel: 3, stride: 2) == (1, 1))
        let g = try Conv2DGeometry(batch: 2, height: 5, width: 5, channels: 3, kernelHeight: 3, kernelWidth: 3, outputChannels: 4,
                                   stride: (2, 2), padding: (1, 1, 1, 1))
        #expect(g.outputHeight == 3 && g.outputWidth == 3 && g.patchSize == 27 && g.outputPixels == 18)
        #expect(throws: KernelError.self) {
            try Conv2DGeometry(batch: 1, height: 2, width: 2, channels: 1, kernelHeight: 3, kernelWidth: 1, outputChannels: 1)
        }
        let x = MatrixView(TensorBuffer<Float>(count: 50 * 3), rows: 50, cols: 3)
        let k = MatrixView(TensorBuffer<Float>(count: 27 * 4), rows: 27, cols: 4)
        let y = MatrixView(TensorBuffer<Float>(count: 18 * 4), rows: 18, cols: 4)
        let tooSmall = TensorBuffer<Float>(count: Conv2D.scratchCount(g, images: 2) - 1)
        #expect { try Conv2D.forward(g, input: x, kernel: k, into: y, scratch: tooSmall) } throws: { e in
            (e as? KernelError)?.message.contains("scratch needs") == true
        }
        #expect { try Conv2D.forward(g, input: x, kernel: k.rows(0..<26), into: y, scratch: tooSmall) } throws: { e in
            (e as? KernelError)?.message.contains("kernel is 26×4, expected 27×4") == true
        }
        // Scratch overlapping the output in one arena.
        let arena = TensorBuffer<Float>(count: Conv2D.scratchCount(g, images: 2) + 10)
        let yInArena = MatrixView(arena, offset: 5, rows: 18, cols: 4)
        #expect { try Conv2D.forward(g, input: x, kernel: k, into: yInArena, scratch: arena) } throws: { e in
            (e as? KernelError)?.message.contains("scratch overlaps output") == true
        }
    }
}

extension TensorBuffer where Element: KernelScalar {
    convenience init(repeating value: Element, count: Int) {
        self.init(count: count)
        fill(value)
    }
}
