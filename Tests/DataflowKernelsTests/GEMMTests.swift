import Testing
import DataflowKernels

/// Naive reference twin: c = epilogue(alpha·op(a)·op(b) + beta·c) in Double, plus the
/// bound Σ|alpha·a·b| + |beta·c| used for the tolerance.
func referenceGEMM<T: KernelScalar>(_ a: MatrixView<T>, _ ta: Bool, _ b: MatrixView<T>, _ tb: Bool, _ c: MatrixView<T>,
                                    alpha: Double, beta: Double) -> (value: [Double], scale: [Double]) {
    let m = c.rows, n = c.cols, k = ta ? a.rows : a.cols
    var value = [Double](repeating: 0, count: m * n), scale = value
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0, t = 0.0
            for p in 0..<k {
                let x = Double(ta ? a[p, i] : a[i, p]), y = Double(tb ? b[j, p] : b[p, j])
                s += x * y
                t += abs(x * y)
            }
            let old = beta == 0 ? 0 : beta * Double(c[i, j])
            value[i * n + j] = alpha * s + old
            scale[i * n + j] = abs(alpha) * t + abs(old)
        }
    }
    return (value, scale)
}

func activate(_ act: Activation, _ x: Double) -> Double {
    switch act {
    case .none: return x
    case .sigmoid: return 1 / (1 + _exp(-x))
    case .tanh: return _tanh(x)
    case .relu: return max(x, 0)
    }
}

func derivative(_ act: Activation, _ y: Double) -> Double {
    switch act {
    case .none: return 1
    case .sigmoid: return y * (1 - y)
    case .tanh: return 1 - y * y
    case .relu: return y > 0 ? 1 : 0
    }
}

/// Operands for op(A) m×k, op(B) k×n, C m×n, with leading dimensions `pad` wider than needed.
func operands<T: KernelScalar>(_: T.Type, m: Int, n: Int, k: Int, ta: Bool, tb: Bool, pad: Int = 0, seed: UInt64 = 7)
    -> (MatrixView<T>, MatrixView<T>, MatrixView<T>) {
    let (ar, ac) = ta ? (k, m) : (m, k)
    let (br, bc) = tb ? (n, k) : (k, n)
    let a = randomMatrix(T.self, rows: ar, cols: ac, ld: ac + pad, seed: seed)
    let b = randomMatrix(T.self, rows: br, cols: bc, ld: bc + pad, seed: seed + 1)
    let c = randomMatrix(T.self, rows: m, cols: n, ld: n + pad, seed: seed + 2)
    return (a, b, c)
}

/// Tolerance: |c − ref| ≤ (k + 4)·ε·(Σ|alpha·a·b| + |beta·c|) + the activation's own error.
func expectClose<T: KernelScalar>(_ c: MatrixView<T>, _ ref: [Double], _ scale: [Double], k: Int, extra: Double = 0,
                                  _ comment: String) {
    let eps = Double(T.ulpOfOne)
    var worst = 0.0, at = (0, 0)
    for i in 0..<c.rows {
        for j in 0..<c.cols {
            let e = abs(Double(c[i, j]) - ref[i * c.cols + j]) / (Double(k + 4) * eps * scale[i * c.cols + j] + extra + 1e-300)
            if !(e <= worst) { worst = e; at = (i, j) }
        }
    }
    #expect(worst <= 1, "\(comment): worst error \(worst)× tolerance at \(at)")
}

let gemmShapes: [(Int, Int, Int)] = [
    (1, 1, 1), (2, 3, 1), (3, 2, 5), (11, 31, 7), (12, 32, 12), (13, 33, 3), (1, 65, 64),
    (63, 64, 65), (65, 63, 255), (24, 96, 256), (25, 33, 257), (257, 31, 13), (40, 257, 2), (13, 33, 1030), (500, 45, 530),
    // Skinny M, deep K: several double-buffered B blocks of 64 columns with a ragged last one, K blocks of 528 and 304 (> k).
    (37, 150, 1050), (300, 70, 300), (0, 5, 3), (4, 0, 3), (5, 6, 0),
]

@Suite struct GEMMTests {
    @Test(arguments: gemmShapes, [(false, false), (true, false), (false, true), (true, true)])
    func floatMatchesReference(shape: (Int, Int, Int), trans: (Bool, Bool)) throws {
        try check(Float.self, shape, trans, pad: 0, alpha: 1, beta: 0)
        try check(Float.self, shape, trans, pad: 3, alpha: -0.5, beta: 0.75)
    }

    @Test(arguments: gemmShapes, [(false, false), (true, false), (false, true), (true, true)])
    func doubleMatchesReference(shape: (Int, Int, Int), trans: (Bool, Bool)) throws {
        try check(Double.self, shape, trans, pad: 0, alpha: 1, beta: 0)
        try check(Double.self, shape, trans, pad: 5, alpha: 2, beta: -1)
    }

    func check<T: KernelScalar>(_: T.Type, _ shape: (Int, Int, Int), _ trans: (Bool, Bool), pad: Int, alpha: T, beta: T) throws {
        let (m, n, k) = shape
        let (a, b, c) = operands(T.self, m: m, n: n, k: k, ta: trans.0, tb: trans.1, pad: pad)
        let (ref, scale) = referenceGEMM(a, trans.0, b, trans.1, c, alpha: Double(alpha), beta: Double(beta))
        try GEMM.multiply(a, transposeA: trans.0, b, transposeB: trans.1, into: c, alpha: alpha, beta: beta)
        expectClose(c, ref, scale, k: k, "\(T.self) \(m)×\(n)×\(k) \(trans) alpha \(alpha) beta \(beta)")
    }

    @Test func betaZeroIgnoresNaNInC() throws {
        let (a, b, c) = operands(Float.self, m: 13, n: 33, k: 9, ta: false, tb: false)
        for i in 0..<13 { for j in 0..<33 { c[i, j] = .nan } }
        try GEMM.multiply(a, transposeA: false, b, transposeB: false, into: c)
        #expect(c.elements.allSatisfy { $0.isFinite })
    }

    @Test func stridedSubviewLeavesNeighboursAlone() throws {
        // C is the middle of a larger matrix: the padding columns must not change.
        let big = randomMatrix(Float.self, rows: 20, cols: 50, seed: 3)
        let before = big.elements
        let c = big.rows(2..<17).cols(5..<42)
        let a = randomMatrix(Float.self, rows: 15, cols: 9, seed: 4), b = randomMatrix(Float.self, rows: 9, cols: 37, seed: 5)
        try GEMM.multiply(a, transposeA: false, b, transposeB: false, into: c, beta: 1)
        for i in 0..<20 { for j in 0..<50 where !((2..<17).contains(i) && (5..<42).contains(j)) {
            #expect(big[i, j] == before[i * 50 + j])
        }}
    }

    @Test(arguments: [Activation.none, .sigmoid, .tanh, .relu])
    func epilogues(act: Activation) throws {
        try epilogue(Float.self, act)
        try epilogue(Double.self, act)
    }

    func epilogue<T: KernelScalar>(_: T.Type, _ act: Activation) throws {
        let (m, n, k) = (27, 45, 70)
        let (a, b, c0) = operands(T.self, m: m, n: n, k: k, ta: false, tb: true, seed: 11)
        let bias = randomMatrix(T.self, rows: 1, cols: n, seed: 12)
        let y = randomMatrix(T.self, rows: m, cols: n, seed: 13)
        let (ref, scale) = referenceGEMM(a, false, b, true, c0, alpha: 1.5, beta: 0.5)
        let slack = 64 * Double(T.ulpOfOne)
        // bias + activation
        let c1 = c0.copied()
        try GEMM.multiply(a, transposeA: false, b, transposeB: true, into: c1, alpha: 1.5, beta: 0.5, epilogue: .bias(bias, act))
        let r1 = (0..<m * n).map { activate(act, ref[$0] + Double(bias[0, $0 % n])) }
        expectClose(c1, r1, scale.map { $0 + 1 }, k: k, extra: slack, "\(T.self) bias \(act)")
        // activation
        let c2 = c0.copied()
        try GEMM.multiply(a, transposeA: false, b, transposeB: true, into: c2, alpha: 1.5, beta: 0.5, epilogue: .activation(act))
        expectClose(c2, (0..<m * n).map { activate(act, ref[$0]) }, scale, k: k, extra: slack, "\(T.self) activation \(act)")
        // activation gradient
        let c3 = c0.copied()
        try GEMM.multiply(a, transposeA: false, b, transposeB: true, into: c3, alpha: 1.5, beta: 0.5,
                          epilogue: .activationGradient(act, output: y))
        let r3 = (0..<m * n).map { ref[$0] * derivative(act, Double(y[$0 / n, $0 % n])) }
        expectClose(c3, r3, scale.map { $0 * 2 }, k: k, extra: slack, "\(T.self) gradient \(act)")
    }

    /// Packing only moves values, so a transposed operand gives bitwise the result of
    /// its materialised transpose (this pins the in-register transposes of packing).
    @Test(arguments: [(1, 31, 15), (13, 32, 16), (40, 64, 47), (25, 97, 300), (4, 160, 33), (300, 48, 16)])
    func transposeFlagsMatchMaterialisedTransposes(m: Int, n: Int, k: Int) throws {
        try materialised(Float.self, m, n, k)
        try materialised(Double.self, m, n, k)
    }

    func materialised<T: KernelScalar>(_: T.Type, _ m: Int, _ n: Int, _ k: Int) throws {
        for (ta, tb) in [(true, false), (false, true), (true, true)] {
            let (a, b, c) = operands(T.self, m: m, n: n, k: k, ta: ta, tb: tb, pad: 3, seed: 31)
            let opA = MatrixView(TensorBuffer<T>(count: m * k), rows: m, cols: k)
            let opB = MatrixView(TensorBuffer<T>(count: k * n), rows: k, cols: n)
            for i in 0..<m { for p in 0..<k { opA[i, p] = ta ? a[p, i] : a[i, p] } }
            for p in 0..<k { for j in 0..<n { opB[p, j] = tb ? b[j, p] : b[p, j] } }
            let flagged = c.copied(), plain = c.copied()
            try GEMM.multiply(a, transposeA: ta, b, transposeB: tb, into: flagged, alpha: 0.7, beta: 0.3)
            try GEMM.multiply(opA, transposeA: false, opB, transposeB: false, into: plain, alpha: 0.7, beta: 0.3)
            #expect(flagged.elements.map { Double($0).bitPattern } == plain.elements.map { Double($0).bitPattern },
                    "\(T.self) \(m)×\(n)×\(k) trans \(ta),\(tb)")
        }
    }

    /// Column tiles (op(A) = Aᵀ with few columns, vectorised along M:
    /// GEMM+ColumnTiles.swift) round exactly like the packed and in-place paths on the
    /// materialised transpose: every epilogue, beta ≠ 0, two K blocks (k > KC = 1024),
    /// a ragged last group of columns, op(B) = Bᵀ, rows past a multiple of 16 (read
    /// from a zero-padded copy of A), and tilings that split the rows and columns.
    @Test(arguments: [(50, 13, 1100), (512, 40, 256), (37, 64, 70), (100, 7, 3), (16, 1, 5), (3000, 40, 20), (5, 40, 30)])
    func columnTilesMatchMaterialisedTransposes(m: Int, n: Int, k: Int) throws {
        let bias = randomMatrix(Float.self, rows: 1, cols: n, seed: 52)
        let y = randomMatrix(Float.self, rows: m, cols: n, seed: 53)
        let epilogues: [GEMMEpilogue<Float>] = [.none, .bias(bias, .sigmoid), .activation(.relu), .activationGradient(.tanh, output: y)]
        for tb in [false, true] {
            let (a, b, c) = operands(Float.self, m: m, n: n, k: k, ta: true, tb: tb, pad: 3, seed: 51)
            let opA = MatrixView(TensorBuffer<Float>(count: m * k), rows: m, cols: k)
            for i in 0..<m { for p in 0..<k { opA[i, p] = a[p, i] } }
            for epilogue in epilogues {
                let flagged = c.copied(), plain = c.copied(), tiled = c.copied()
                try GEMM.multiply(a, transposeA: true, b, transposeB: tb, into: flagged, alpha: 0.7, beta: 0.3, epilogue: epilogue)
                try GEMM.multiply(opA, transposeA: false, b, transposeB: tb, into: plain, alpha: 0.7, beta: 0.3, epilogue: epilogue)
                let tiling = GEMMTiling(m: m, n: n, k: k, tileRows: 36, tileCols: 32)
                for t in 0..<tiling.tileCount {
                    try GEMM.multiplyTile(a, transposeA: true, b, transposeB: tb, into: tiled, alpha: 0.7, beta: 0.3,
                                          epilogue: epilogue, tiling: tiling, tile: t)
                }
                // The first differing element, not the whole arrays (3000×40 would flood the log).
                func firstDifference(_ x: MatrixView<Float>) -> Int? {
                    let (u, v) = (flagged.elements, x.elements)
                    return u.indices.first { u[$0].bitPattern != v[$0].bitPattern }
                }
                #expect(firstDifference(plain) == nil, "\(m)×\(n)×\(k) transposeB \(tb) \(epilogue): flag vs materialised")
                #expect(firstDifference(tiled) == nil, "\(m)×\(n)×\(k) transposeB \(tb) \(epilogue): untiled vs tiled")
            }
            // And against the naive twin (the bitwise checks above cannot see an error both paths share).
            let checked = c.copied()
            let (ref, scale) = referenceGEMM(a, true, b, tb, c, alpha: 0.7, beta: 0.3)
            try GEMM.multiply(a, transposeA: true, b, transposeB: tb, into: checked, alpha: 0.7, beta: 0.3)
            expectClose(checked, ref, scale, k: k, "column tiles \(m)×\(n)×\(k) transposeB \(tb)")
        }
    }

    /// Rows in a bottom edge tile (here 4 and 8 rows past a multiple of MR = 12, the
    /// four-row kernels, A read in place) round exactly like the same rows inside a full
    /// tile; n = 72 adds a one-vector right edge (8 columns) to those rows.
    @Test(arguments: [16, 20], [64, 72])
    func edgeRowsMatchInteriorRows(m: Int, n: Int) throws {
        try edgeRows(Float.self, m, n)
        try edgeRows(Double.self, m, n)
    }

    func edgeRows<T: KernelScalar>(_: T.Type, _ m: Int, _ n: Int) throws {
        let k = 1100, edge = m - 12
        let (a, b, c) = operands(T.self, m: m, n: n, k: k, ta: false, tb: false, seed: 41)
        let bias = randomMatrix(T.self, rows: 1, cols: n, seed: 42)
        // The edge rows first, then enough other rows to fill a 12-row tile.
        let order = Array(12..<m) + Array(0..<(12 - edge))
        let a2 = MatrixView(TensorBuffer<T>(count: 12 * k), rows: 12, cols: k)
        let c2 = MatrixView(TensorBuffer<T>(count: 12 * n), rows: 12, cols: n)
        for (i, src) in order.enumerated() {
            for p in 0..<k { a2[i, p] = a[src, p] }
            for j in 0..<n { c2[i, j] = c[src, j] }
        }
        for epilogue in [GEMMEpilogue<T>.none, .bias(bias, .tanh)] {
            let c1 = c.copied(), c2 = c2.copied()
            try GEMM.multiply(a, transposeA: false, b, transposeB: false, into: c1, alpha: 0.7, beta: 0.3, epilogue: epilogue)
            try GEMM.multiply(a2, transposeA: false, b, transposeB: false, into: c2, alpha: 0.7, beta: 0.3, epilogue: epilogue)
            for r in 0..<edge {
                #expect((0..<n).map { Double(c1[12 + r, $0]).bitPattern } == (0..<n).map { Double(c2[r, $0]).bitPattern },
                        "\(T.self) m \(m) n \(n): edge row \(12 + r)")
            }
        }
    }

    @Test(arguments: [(1, 1), (12, 32), (13, 33), (5, 7), (24, 1000), (1000, 32), (36, 64)])
    func tiledIsBitwiseUntiled(tileRows: Int, tileCols: Int) throws {
        try tiled(Float.self, tileRows, tileCols)
        try tiled(Double.self, tileRows, tileCols)
    }

    func tiled<T: KernelScalar>(_: T.Type, _ tileRows: Int, _ tileCols: Int) throws {
        // k > KC (1024 Float, 512 Double) so several K blocks accumulate; m, n not
        // multiples of MR, NR; m = 500 runs the whole C through the MC-blocked path and
        // tiles of ≤ 384 rows through the streaming path (Driver.mcStreaming).
        for m in [53, 500] {
            let (n, k) = (101, 1100)
            for (ta, tb) in [(false, false), (true, true)] {
                let (a, b, c) = operands(T.self, m: m, n: n, k: k, ta: ta, tb: tb, seed: 21)
                let bias = randomMatrix(T.self, rows: 1, cols: n, seed: 22)
                for epilogue in [GEMMEpilogue<T>.none, .bias(bias, .tanh)] {
                    let whole = c.copied(), parts = c.copied()
                    try GEMM.multiply(a, transposeA: ta, b, transposeB: tb, into: whole, alpha: 0.7, beta: 0.3, epilogue: epilogue)
                    let tiling = GEMMTiling(m: m, n: n, k: k, tileRows: tileRows, tileCols: tileCols)
                    for t in (0..<tiling.tileCount).reversed() {
                        try GEMM.multiplyTile(a, transposeA: ta, b, transposeB: tb, into: parts, alpha: 0.7, beta: 0.3,
                                              epilogue: epilogue, tiling: tiling, tile: t)
                    }
                    #expect(whole.elements.map { Double($0).bitPattern } == parts.elements.map { Double($0).bitPattern },
                            "\(T.self) \(m) rows, tiles \(tileRows)×\(tileCols) trans \(ta),\(tb)")
                }
            }
        }
    }

    @Test func automaticTilingCoversCAndPrefersNForSkinnyM() {
        let t = GEMMTiling.automatic(m: 256, n: 5000, k: 3000, targetTiles: 8)
        #expect(t.tileCount <= 8 && t.tileCount >= 4)
        #expect(t.tileRows >= 256)
        var covered = 0
        for i in 0..<t.tileCount { let (r, c) = t.tile(i); covered += r.count * c.count }
        #expect(covered == 256 * 5000)
        let odd = GEMMTiling(m: 10, n: 10, k: 1, tileRows: 1, tileCols: 1)
        #expect(odd.tileRows == GEMMTiling.rowQuantum && odd.tileCols == GEMMTiling.colQuantum)
        #expect(GEMMTiling.automatic(m: 0, n: 5, k: 2, targetTiles: 4).tileCount == 0)
        // Row splits on multiples of MR = 12, or of 16 for column tiles (Aᵀ, ≤ 64 columns).
        #expect(GEMMTiling.automatic(m: 256, n: 40, k: 512, targetTiles: 2).tileRows == 132)
        #expect(GEMMTiling.automatic(m: 512, n: 40, k: 256, targetTiles: 2, transposeA: true).tileRows == 256)
        #expect(GEMMTiling.automatic(m: 512, n: 100, k: 256, targetTiles: 2, transposeA: true).tileRows % 12 == 0)
    }

    @Test func shapeMisuseThrowsNamingTheOperand() {
        let a = randomMatrix(Float.self, rows: 4, cols: 5, seed: 1)
        let b = randomMatrix(Float.self, rows: 6, cols: 7, seed: 2)
        let c = randomMatrix(Float.self, rows: 4, cols: 7, seed: 3)
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch let error as KernelError { return error.message } catch { return "\(error)" }
        }
        #expect(message { try GEMM.multiply(a, transposeA: false, b, transposeB: false, into: c) }.contains("B is 6×7"))
        #expect(message { try GEMM.multiply(a, transposeA: true, b, transposeB: false, into: c) }.contains("A is 4×5"))
        let wideC = randomMatrix(Float.self, rows: 4, cols: 8, seed: 3)
        let b57 = randomMatrix(Float.self, rows: 5, cols: 7, seed: 2)
        #expect(message { try GEMM.multiply(a, transposeA: false, b57, transposeB: false, into: wideC) }
            .contains("B is 5×7"))
        let strided = MatrixView(a.buffer, rows: 2, cols: 2, rowStride: 5, colStride: 2)
        #expect(message { try GEMM.multiply(strided, transposeA: false, strided, transposeB: false, into: strided) }
            .contains("A needs colStride 1"))
        let outside = MatrixView(a.buffer, offset: 10, rows: 4, cols: 5)
        #expect(message { try GEMM.multiply(outside, transposeA: false, b, transposeB: false, into: c) }
            .contains("A addresses elements outside"))
        let badBias = randomMatrix(Float.self, rows: 1, cols: 6, seed: 4)
        #expect(message { try GEMM.multiply(a, transposeA: false, b57, transposeB: false, into: c, epilogue: .bias(badBias, .relu)) }
            .contains("bias"))
        let badY = randomMatrix(Float.self, rows: 3, cols: 7, seed: 4)
        #expect(message {
            try GEMM.multiply(a, transposeA: false, b57, transposeB: false, into: c, epilogue: .activationGradient(.relu, output: badY))
        }.contains("output is 3×7"))
        let tiling = GEMMTiling(m: 5, n: 7, k: 5, tileRows: 12, tileCols: 32)
        #expect(message { try GEMM.multiplyTile(a, transposeA: false, b57, transposeB: false, into: c, tiling: tiling, tile: 0) }
            .contains("tiling"))
    }
}
