import Testing
import DataflowKernels

// Naive twins: direct loops, same scan order (kh, kw) as documented.

func naiveMaxPool<T: KernelScalar>(_ g: Pool2DGeometry, _ x: [T]) -> (y: [T], from: [Int]) {
    var y = [T](repeating: 0, count: g.outputPixels * g.channels), from = [Int](repeating: -1, count: y.count)
    for n in 0..<g.batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth { for c in 0..<g.channels {
        var best: T? = nil, at = -1
        for i in 0..<g.windowHeight { for j in 0..<g.windowWidth {
            let ih = oh * g.strideHeight - g.padTop + i, iw = ow * g.strideWidth - g.padLeft + j
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
            let idx = nhwc(g.height, g.width, g.channels, n, ih, iw, c), v = x[idx]
            if let b = best {
                if v > b || (v.isNaN && !b.isNaN) { best = v; at = idx }
            } else { best = v; at = idx }
        }}
        let o = nhwc(g.outputHeight, g.outputWidth, g.channels, n, oh, ow, c)
        y[o] = best!; from[o] = at
    }}}}
    return (y, from)
}

func naiveMaxPoolBackward<T: KernelScalar>(_ g: Pool2DGeometry, _ x: [T], _ dy: [T]) -> [T] {
    let from = naiveMaxPool(g, x).from
    var dx = [T](repeating: 0, count: g.inputPixels * g.channels)
    for o in 0..<dy.count { dx[from[o]] += dy[o] }
    return dx
}

func naiveAvgPool<T: KernelScalar>(_ g: Pool2DGeometry, _ x: [T], includePadding: Bool) -> [T] {
    var y = [T](repeating: 0, count: g.outputPixels * g.channels)
    for n in 0..<g.batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth { for c in 0..<g.channels {
        var s: T = 0, count = 0
        for i in 0..<g.windowHeight { for j in 0..<g.windowWidth {
            let ih = oh * g.strideHeight - g.padTop + i, iw = ow * g.strideWidth - g.padLeft + j
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
            s += x[nhwc(g.height, g.width, g.channels, n, ih, iw, c)]; count += 1
        }}
        y[nhwc(g.outputHeight, g.outputWidth, g.channels, n, oh, ow, c)] = s / T(includePadding ? g.windowHeight * g.windowWidth : count)
    }}}}
    return y
}

func naiveAvgPoolBackward<T: KernelScalar>(_ g: Pool2DGeometry, _ dy: [T], includePadding: Bool) -> [T] {
    var dx = [T](repeating: 0, count: g.inputPixels * g.channels)
    for n in 0..<g.batch { for oh in 0..<g.outputHeight { for ow in 0..<g.outputWidth { for c in 0..<g.channels {
        var count = 0
        for i in 0..<g.windowHeight { for j in 0..<g.windowWidth {
            let ih = oh * g.strideHeight - g.padTop + i, iw = ow * g.strideWidth - g.padLeft + j
            if ih >= 0, ih < g.height, iw >= 0, iw < g.width { count += 1 }
        }}
        let divisor = T(includePadding ? g.windowHeight * g.windowWidth : count)
        let share = dy[nhwc(g.outputHeight, g.outputWidth, g.channels, n, oh, ow, c)] / divisor
        for i in 0..<g.windowHeight { for j in 0..<g.windowWidth {
            let ih = oh * g.strideHeight - g.padTop + i, iw = ow * g.strideWidth - g.padLeft + j
            guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
            dx[nhwc(g.height, g.width, g.channels, n, ih, iw, c)] += share
        }}
    }}}}
    return dx
}

struct PoolCase: Sendable, CustomStringConvertible {
    var n, h, w, c, kh, kw: Int
    var stride: (Int, Int)? = nil
    var pad: (Int, Int, Int, Int) = (0, 0, 0, 0)
    var description: String { "N\(n) \(h)×\(w)×\(c) win\(kh)×\(kw) s\(String(describing: stride)) p\(pad)" }
    func geometry() throws -> Pool2DGeometry {
        try Pool2DGeometry(batch: n, height: h, width: w, channels: c, window: (kh, kw), stride: stride.map { ($0.0, $0.1) }, padding: pad)
    }
}

func sameArrayBits<T: KernelScalar>(_ a: [T], _ b: [T]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { sameBits($0, $1) }
}

@Suite struct Pool2DTests {
    static let cases: [PoolCase] = [
        PoolCase(n: 1, h: 1, w: 1, c: 1, kh: 1, kw: 1),
        PoolCase(n: 2, h: 4, w: 6, c: 3, kh: 2, kw: 2),
        PoolCase(n: 2, h: 5, w: 7, c: 17, kh: 3, kw: 3, stride: (2, 2), pad: (1, 1, 1, 1)),
        PoolCase(n: 3, h: 7, w: 5, c: 1, kh: 3, kw: 2, stride: (1, 1), pad: (2, 0, 1, 0)),
        PoolCase(n: 1, h: 9, w: 9, c: 3, kh: 3, kw: 3, stride: (2, 3), pad: (0, 2, 2, 1)),
        PoolCase(n: 2, h: 3, w: 8, c: 17, kh: 3, kw: 4, stride: (1, 2), pad: (1, 2, 3, 0)),
        PoolCase(n: 2, h: 6, w: 6, c: 40, kh: 2, kw: 2),        // channels over two vectors and a partial one
        PoolCase(n: 3, h: 8, w: 8, c: 8, kh: 2, kw: 2),         // the digits CNN
    ]

    @Test(arguments: cases)
    func matchesNaiveTwins(_ pc: PoolCase) throws {
        try check(Float.self, pc)
        try check(Double.self, pc)
    }

    func check<T: KernelScalar>(_: T.Type, _ pc: PoolCase) throws {
        let g = try pc.geometry()
        // Integers with ties (the first maximum must win), plus a NaN and negative values.
        var x = randomArray(T.self, g.inputPixels * g.channels, seed: 21, integers: true).map { $0 - 5 }
        if x.count > 7 { x[7] = .nan }
        let dy = randomArray(T.self, g.outputPixels * g.channels, seed: 22)
        let xv = MatrixView(TensorBuffer(x), rows: g.inputPixels, cols: g.channels)
        let dyv = MatrixView(TensorBuffer(dy), rows: g.outputPixels, cols: g.channels)
        func nans(_ rows: Int) -> MatrixView<T> {
            MatrixView(TensorBuffer<T>(repeating: .nan, count: rows * g.channels), rows: rows, cols: g.channels)
        }
        func out() -> MatrixView<T> { nans(g.outputPixels) }
        func grad() -> MatrixView<T> { nans(g.inputPixels) }

        let y = out()
        try Pool2D.maxForward(g, input: xv, into: y)
        #expect(sameArrayBits(y.elements, naiveMaxPool(g, x).y), "\(T.self) \(pc) max forward")
        let dx = grad()
        try Pool2D.maxBackward(g, input: xv, outputGradient: dyv, into: dx)
        #expect(sameArrayBits(dx.elements, naiveMaxPoolBackward(g, x, dy)), "\(T.self) \(pc) max backward")
        for pad in [true, false] {
            let ya = out()
            try Pool2D.averageForward(g, input: xv, into: ya, includePadding: pad)
            #expect(sameArrayBits(ya.elements, naiveAvgPool(g, x, includePadding: pad)), "\(T.self) \(pc) avg forward pad \(pad)")
            let dxa = grad()
            try Pool2D.averageBackward(g, outputGradient: dyv, into: dxa, includePadding: pad)
            #expect(sameArrayBits(dxa.elements, naiveAvgPoolBackward(g, dy, includePadding: pad)),
                    "\(T.self) \(pc) avg backward pad \(pad)")
        }
        // Split into tasks (rows for forward, images for backward), in reverse order: same bits.
        let ys = out(), dxs = grad()
        var r = g.outputPixels
        while r > 0 { let lo = max(0, r - 3); try Pool2D.maxForward(g, input: xv, into: ys, rows: lo..<r); r = lo }
        for n in (0..<g.batch).reversed() { try Pool2D.maxBackward(g, input: xv, outputGradient: dyv, into: dxs, images: n..<n + 1) }
        #expect(sameArrayBits(ys.elements, y.elements) && sameArrayBits(dxs.elements, dx.elements), "\(T.self) \(pc) split")
    }

    @Test func includePaddingDivisor() throws {
        // 2×2 input of ones, window 2×2, padding 1 all round: corner windows hold one element.
        let g = try Pool2DGeometry(batch: 1, height: 2, width: 2, channels: 1, window: (2, 2), stride: (1, 1), padding: (1, 1, 1, 1))
        let x = MatrixView(TensorBuffer<Double>([1, 1, 1, 1]), rows: 4, cols: 1)
        let y = MatrixView(TensorBuffer<Double>(count: 9), rows: 9, cols: 1)
        try Pool2D.averageForward(g, input: x, into: y)
        #expect(y.elements == [0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
        try Pool2D.averageForward(g, input: x, into: y, includePadding: false)
        #expect(y.elements == [Double](repeating: 1, count: 9))
    }

    @Test func errors() {
        #expect { try Pool2DGeometry(batch: 1, height: 4, width: 4, channels: 1, window: (2, 2), padding: (2, 0, 0, 0)) } throws: { e in
            (e as? KernelError)?.message.contains("padding.top must be in 0..<2") == true
        }
    }
}
