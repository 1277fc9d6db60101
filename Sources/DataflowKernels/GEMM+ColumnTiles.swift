// Column tiles: C = op(A)·op(B) with op(A) = Aᵀ and few columns (the weight
// gradient of a narrow layer, Xᵀ·dZ with dZ 40 wide), vectorised along M instead
// of N.
//
// A BLIS micro-tile is MR rows × NR columns, NR a multiple of the vector width: a
// C only 40 wide leaves an 8-column edge that runs half-empty vectors, and packing
// Aᵀ into MR-row panels (12 floats from a new row of A per step) is amortised over
// only two panels. perf on 512×40×256 TN put ~25% of the time in each. Here the
// roles turn: a column tile is 3 vectors of rows (48 for Float) × 8 columns; per
// step it loads three vectors straight from a row of A (Aᵀ's rows i…i+47 at depth
// p are contiguous in A's row p: no packing), broadcasts 8 values of op(B) and
// issues 24 full-width FMAs. The accumulators hold columns of C, so the tile is
// transposed in registers (8×16 blocks, 24 shuffles each) before C is read, scaled
// and stored. Shorter tiles of 1 or 2 vectors are separate specialisations; rows
// past the last whole vector, and a last group of fewer than 8 columns, are read
// from small zero-padded copies (K×16 of A, K×8 of op(B)).
//
// Rounding is that of every other path: each element sums its products in
// ascending p from zero with one fused multiply-add per step (a·b = b·a exactly),
// over the same global partition of K into blocks, then alpha·acc (+ beta·C) and
// the epilogue, so the results are bitwise those of the packed path and of any
// tiling (GEMMTests pins this against materialised transposes).

extension _FloatGEMMKernel {
    /// Whether tile C[rows, cols] with op(A) = Aᵀ runs as column tiles: up to 32
    /// columns always; up to 64 when the packed path would leave a half-empty vector
    /// (a column count not a multiple of 16) or when the part of A the tile reads per
    /// K block is at most 4 MiB (beyond, A streams from memory once per group of 8
    /// columns, its rows a page apart). Measured (1 thread, CPU time, GFLOP/s, packed →
    /// column): 512×40×256 87–98 → 155, 3000×40×256 88–89 → 133, 256×40×3000 73 → 120,
    /// 4096×40×1024 76 → 83, 3000×16×256 60–64 → 88, 3000×8×256 32 → 70 (these six
    /// before the straight-line store, which added 10–15%), 3000×64×256 105–118 →
    /// 129–132, 3000×48×256 104–105 → 130–131, 3000×32×256 95–96 → 111–115,
    /// 512×64×256 105 → 124–125, 1024×64×256 114 → 130–133; left packed: 2048×48×2048
    /// 89–90 → 84–85 (8 MiB of A per K block), 4096×64×1024 105–106 → 85 (16 MiB).
    static func usesColumnTiles(_ p: _GEMMProblem<Float>, rows: Int, cols: Int) -> Bool {
        guard p.transposeA, cols <= 64 else { return false }
        let aBytes = rows * min(p.k, kc) * MemoryLayout<Float>.stride
        return cols < 32 || cols % 16 != 0 || aBytes <= 4 << 20
    }

    /// Columns per column tile.
    static var columnTileWidth: Int { 8 }

    /// Computes C[rows, cols] as column tiles and returns true, or returns false at
    /// once when the shape is not one for them (the packed path then does it all).
    static func columnTiles(_ p: _GEMMProblem<Float>, rows: Range<Int>, cols: Range<Int>) -> Bool {
        let w = 16, width = columnTileWidth
        let kTotal = p.k
        guard !rows.isEmpty, kTotal > 0, usesColumnTiles(p, rows: rows.count, cols: cols.count) else { return false }
        let end = rows.lowerBound + rows.count / w * w, tail = rows.upperBound - end  // rows past the last whole vector
        let kcMax = _GEMMDriver<Self>.kcBlock(kTotal, cap: kc)
        let fullGroups = cols.count / width, ragged = cols.count - fullGroups * width
        // Rows past the last whole vector read A from a zero-padded K×16 copy, a ragged
        // last group of columns op(B) from a zero-padded K×8 copy.
        let copies = _PackingArena.current().buffers(Float.self, aCount: tail > 0 ? kcMax * w : 0,
                                                     bCount: ragged > 0 ? kcMax * width : 0, scratchCount: 0)
        var pc = 0
        repeat {
            let kcur = min(kcMax, kTotal - pc)
            let first = pc == 0, last = pc + kcur >= kTotal
            if ragged > 0 {
                let j0 = cols.lowerBound + fullGroups * width
                for q in 0..<kcur {
                    for jj in 0..<width {
                        copies.b[q * width + jj] = jj < ragged
                            ? (p.transposeB ? p.b.at(j0 + jj, pc + q).pointee : p.b.at(pc + q, j0 + jj).pointee) : 0
                    }
                }
            }
            if tail > 0 {
                for q in 0..<kcur {
                    // Through a vector (`update(from:)` here cost a memmove call per row).
                    SIMD16<Float>.loadPrefix(p.a.at(pc + q, end), count: tail).store(copies.a + q * w)
                }
            }
            // Vectors of rows, the last one (with `tail` rows) read from the copy.
            let units = rows.count / w + (tail > 0 ? 1 : 0)
            var u = 0
            while u < units {
                // Tiles of 3 vectors; a remainder of 4 as 2 + 2 (the 1-vector kernel is load-bound).
                let vectors = units - u == 4 ? 2 : min(3, units - u)
                let row = rows.lowerBound + u * w
                let fromCopy = tail > 0 && u + vectors == units
                var g = 0
                while g * width < cols.count {
                    let col = cols.lowerBound + g * width
                    columnTile(p, row: row, vectors: vectors, rowCount: min(vectors * w, rows.upperBound - row), col: col,
                               colCount: min(width, cols.upperBound - col), k0: pc, kCount: kcur, first: first, last: last,
                               aCopy: fromCopy ? copies.a : nil, bCopy: g < fullGroups ? nil : copies.b)
                    g += 1
                }
                u += vectors
            }
            pc += kcur
        } while pc < kTotal
        return true
    }

    /// One tile: rows row..<row+rowCount in `vectors` vectors (1…3; the last one read
    /// from `aCopy` when given, with rowCount then short of 16·vectors), columns
    /// col..<col+colCount (colCount ≤ 8), K block [k0, k0+kCount).
    @inline(__always)
    static func columnTile(_ p: _GEMMProblem<Float>, row: Int, vectors: Int, rowCount: Int, col: Int, colCount: Int, k0: Int,
                           kCount: Int, first: Bool, last: Bool, aCopy: UnsafeMutablePointer<Float>?,
                           bCopy: UnsafeMutablePointer<Float>?) {
        let a = UnsafePointer(p.a.at(k0, row)), lda = p.a.rowStride
        let (aLast, ldLast) = aCopy.map { (UnsafePointer($0), 16) } ?? (a + 16 * (vectors - 1), lda)
        let (b, bStep, bcs) = bCopy.map { (UnsafePointer($0), columnTileWidth, 1) }
            ?? (p.transposeB ? (UnsafePointer(p.b.at(col, k0)), 1, p.b.rowStride)
                             : (UnsafePointer(p.b.at(k0, col)), p.b.rowStride, 1))
        let o = _ColumnOperands(a: a, lda: lda, aLast: aLast, ldLast: ldLast, b: b, bStep: bStep, bcs: bcs)
        let readC = !first || p.beta != 0
        let beta: Float = first ? p.beta : 1
        // One specialisation per row count and B layout (type parameters: an
        // @inline(__always) function taking them as values was not always inlined, and
        // then tested them at run time inside the loop).
        switch (vectors, bcs == 1) {
        case (3, true): columnKernel(_Three.self, _UnitStride.self, p, o, k: kCount, row: row, rowCount: rowCount, col: col,
                                     colCount: colCount, beta: beta, readC: readC, last: last)
        case (2, true): columnKernel(_Two.self, _UnitStride.self, p, o, k: kCount, row: row, rowCount: rowCount, col: col,
                                     colCount: colCount, beta: beta, readC: readC, last: last)
        case (_, true): columnKernel(_One.self, _UnitStride.self, p, o, k: kCount, row: row, rowCount: rowCount, col: col,
                                     colCount: colCount, beta: beta, readC: readC, last: last)
        case (3, false): columnKernel(_Three.self, _AnyStride.self, p, o, k: kCount, row: row, rowCount: rowCount, col: col,
                                      colCount: colCount, beta: beta, readC: readC, last: last)
        case (2, false): columnKernel(_Two.self, _AnyStride.self, p, o, k: kCount, row: row, rowCount: rowCount, col: col,
                                      colCount: colCount, beta: beta, readC: readC, last: last)
        case (_, false): columnKernel(_One.self, _AnyStride.self, p, o, k: kCount, row: row, rowCount: rowCount, col: col,
                                      colCount: colCount, beta: beta, readC: readC, last: last)
        }
    }

    /// Σ_p op(A)[row-block, p]·op(B)[p, j] for the 8 columns j: per vector of rows,
    /// one accumulator per column (lane l = row l), then `storeColumns`.
    @inline(never)
    static func columnKernel<R: _RowVectors, S: _ColumnStride>(
        _: R.Type, _: S.Type, _ p: _GEMMProblem<Float>, _ o: _ColumnOperands, k: Int, row: Int, rowCount: Int, col: Int,
        colCount: Int, beta: Float, readC: Bool, last: Bool
    ) {
        typealias V = SIMD16<Float>
        let vectors = R.count
        // Unit stride: constant offsets 0…7.
        let bcs = S.isUnit ? 1 : o.bcs, lda = o.lda, ldLast = o.ldLast, bStep = o.bStep
        var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c04 = V(), c05 = V(), c06 = V(), c07 = V()
        var c10 = V(), c11 = V(), c12 = V(), c13 = V(), c14 = V(), c15 = V(), c16 = V(), c17 = V()
        var c20 = V(), c21 = V(), c22 = V(), c23 = V(), c24 = V(), c25 = V(), c26 = V(), c27 = V()
        // Rows of A are lda apart (2 KiB and more for the seed shapes): fetch 8 ahead.
        let ahead = 8 * lda, aheadLast = 8 * ldLast
        var pa = o.a, pl = o.aLast, pb = o.b
        for q in 0..<k {
            if q + 8 < k {
                if vectors > 1 { _prefetchRead(pa + ahead) }
                if vectors > 2 { _prefetchRead(pa + (ahead + 16)) }
                _prefetchRead(pl + aheadLast)
            }
            // `vectors` is a constant of each specialisation, so its tests fold away.
            // The last vector comes from `pl` (A itself, or the zero-padded copy).
            let aLast = V.load(pl)
            let a0 = vectors > 1 ? V.load(pa) : aLast, a1 = vectors > 2 ? V.load(pa + 16) : aLast, a2 = aLast
            var x = V(repeating: pb[0])
            c00 = _fma(a0, x, c00)
            if vectors > 1 { c10 = _fma(a1, x, c10) }
            if vectors > 2 { c20 = _fma(a2, x, c20) }
            x = V(repeating: pb[bcs])
            c01 = _fma(a0, x, c01)
            if vectors > 1 { c11 = _fma(a1, x, c11) }
            if vectors > 2 { c21 = _fma(a2, x, c21) }
            x = V(repeating: pb[2 * bcs])
            c02 = _fma(a0, x, c02)
            if vectors > 1 { c12 = _fma(a1, x, c12) }
            if vectors > 2 { c22 = _fma(a2, x, c22) }
            x = V(repeating: pb[3 * bcs])
            c03 = _fma(a0, x, c03)
            if vectors > 1 { c13 = _fma(a1, x, c13) }
            if vectors > 2 { c23 = _fma(a2, x, c23) }
            x = V(repeating: pb[4 * bcs])
            c04 = _fma(a0, x, c04)
            if vectors > 1 { c14 = _fma(a1, x, c14) }
            if vectors > 2 { c24 = _fma(a2, x, c24) }
            x = V(repeating: pb[5 * bcs])
            c05 = _fma(a0, x, c05)
            if vectors > 1 { c15 = _fma(a1, x, c15) }
            if vectors > 2 { c25 = _fma(a2, x, c25) }
            x = V(repeating: pb[6 * bcs])
            c06 = _fma(a0, x, c06)
            if vectors > 1 { c16 = _fma(a1, x, c16) }
            if vectors > 2 { c26 = _fma(a2, x, c26) }
            x = V(repeating: pb[7 * bcs])
            c07 = _fma(a0, x, c07)
            if vectors > 1 { c17 = _fma(a1, x, c17) }
            if vectors > 2 { c27 = _fma(a2, x, c27) }
            pa += lda; pl += ldLast; pb += bStep
        }
        storeColumns(p, (c00, c01, c02, c03, c04, c05, c06, c07), row: row, rowCount: min(16, rowCount), col: col,
                     colCount: colCount, beta: beta, readC: readC, last: last)
        if vectors > 1 {
            storeColumns(p, (c10, c11, c12, c13, c14, c15, c16, c17), row: row + 16, rowCount: min(16, rowCount - 16), col: col,
                         colCount: colCount, beta: beta, readC: readC, last: last)
        }
        if vectors > 2 {
            storeColumns(p, (c20, c21, c22, c23, c24, c25, c26, c27), row: row + 32, rowCount: rowCount - 32, col: col,
                         colCount: colCount, beta: beta, readC: readC, last: last)
        }
    }

    /// Rows row..<row+rowCount (≤ 16), columns col..<col+colCount of C from the 8 column
    /// accumulators `r` (r.j lane l = C[row + l, col + j] before scaling): transposed
    /// in registers to pairs of 8-wide rows, then alpha·x (+ beta·C) and, after the
    /// last K block, the epilogue, exactly as the micro-kernel and `applyEpilogue`.
    @inline(never)
    static func storeColumns(_ p: _GEMMProblem<Float>, _ r: _Columns8, row: Int, rowCount: Int, col: Int, colCount: Int,
                             beta: Float, readC: Bool, last: Bool) {
        typealias V = SIMD16<Float>
        // Per 128-bit lane L: t0 = C[4L, 0], C[4L, 1], C[4L+1, 0], C[4L+1, 1]; …
        let t0 = _unpackLo32(r.0, r.1), t1 = _unpackHi32(r.0, r.1)
        let t2 = _unpackLo32(r.2, r.3), t3 = _unpackHi32(r.2, r.3)
        let t4 = _unpackLo32(r.4, r.5), t5 = _unpackHi32(r.4, r.5)
        let t6 = _unpackLo32(r.6, r.7), t7 = _unpackHi32(r.6, r.7)
        // Per 128-bit lane L: u_c = C[4L + c, 0..<4], u_{4+c} = C[4L + c, 4..<8].
        let u0 = _unpackLo64(t0, t2), u1 = _unpackHi64(t0, t2), u2 = _unpackLo64(t1, t3), u3 = _unpackHi64(t1, t3)
        let u4 = _unpackLo64(t4, t6), u5 = _unpackHi64(t4, t6), u6 = _unpackLo64(t5, t7), u7 = _unpackHi64(t5, t7)
        let alphaV = V(repeating: p.alpha), betaV = V(repeating: beta)
        let epilogue = last ? p.epilogue : .none
        let x0 = _laneHalvesLo(u0, u4), x1 = _laneHalvesHi(u0, u4), x2 = _laneHalvesLo(u1, u5), x3 = _laneHalvesHi(u1, u5)
        let x4 = _laneHalvesLo(u2, u6), x5 = _laneHalvesHi(u2, u6), x6 = _laneHalvesLo(u3, u7), x7 = _laneHalvesHi(u3, u7)
        if epilogue == .none && rowCount == 16 && colCount == 8 {
            // The common case, straight-line (`finish` below, with its epilogue switch,
            // is not inlined: it took 12% of 256×40×256 TN).
            let c = p.c.base + (row * p.c.rowStride + col), ldc = p.c.rowStride
            storePair(x0, c, ldc, 0, 4, alphaV, betaV, readC); storePair(x1, c, ldc, 8, 12, alphaV, betaV, readC)
            storePair(x2, c, ldc, 1, 5, alphaV, betaV, readC); storePair(x3, c, ldc, 9, 13, alphaV, betaV, readC)
            storePair(x4, c, ldc, 2, 6, alphaV, betaV, readC); storePair(x5, c, ldc, 10, 14, alphaV, betaV, readC)
            storePair(x6, c, ldc, 3, 7, alphaV, betaV, readC); storePair(x7, c, ldc, 11, 15, alphaV, betaV, readC)
            return
        }
        var bias = V()
        if epilogue == .bias {
            let b8 = V.loadPrefix(p.bias + col, count: colCount).lowHalf
            bias = V(lowHalf: b8, highHalf: b8)
        }
        let ldc = p.c.rowStride
        // x holds row ra in lanes 0..<8 and row rb in lanes 8..<16 (offsets from `row`).
        @inline(__always) func finish(_ x: V, _ ra: Int, _ rb: Int) {
            // Rows past rowCount are neither read nor written.
            let na = ra < rowCount ? colCount : 0, nb = rb < rowCount ? colCount : 0
            let pa = p.c.base + ((row + ra) * ldc + col), pb = p.c.base + ((row + rb) * ldc + col)
            var x = readC
                ? alphaV * x + betaV * rowPair(pa, na, pb, nb)
                : alphaV * x
            switch epilogue {
            case .none: break
            case .bias: x = V.activate(p.activation, x + bias)
            case .activation: x = V.activate(p.activation, x)
            case .activationGradient:
                let ldy = p.output.rowStride
                let ya = p.output.base + ((row + ra) * ldy + col), yb = p.output.base + ((row + rb) * ldy + col)
                x = x * V.activationDerivative(p.activation, output: rowPair(ya, na, yb, nb))
            }
            x.storePrefix(pa, count: na)
            V(lowHalf: x.highHalf, highHalf: SIMD8()).storePrefix(pb, count: nb)
        }
        finish(x0, 0, 4); finish(x1, 8, 12); finish(x2, 1, 5); finish(x3, 9, 13)
        finish(x4, 2, 6); finish(x5, 10, 14); finish(x6, 3, 7); finish(x7, 11, 15)
    }

    /// Rows ra (lanes 0..<8) and rb (lanes 8..<16) of a column tile's C block at `c`:
    /// alpha·x (+ beta·C), whole 8-wide rows, no epilogue.
    @inline(__always)
    static func storePair(_ x: SIMD16<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ ra: Int, _ rb: Int,
                          _ alpha: SIMD16<Float>, _ beta: SIMD16<Float>, _ readC: Bool) {
        let pa = UnsafeMutableRawPointer(c + ra * ldc), pb = UnsafeMutableRawPointer(c + rb * ldc)
        let y = readC
            ? alpha * x + beta * SIMD16<Float>(lowHalf: pa.loadUnaligned(as: SIMD8<Float>.self),
                                               highHalf: pb.loadUnaligned(as: SIMD8<Float>.self))
            : alpha * x
        pa.storeBytes(of: y.lowHalf, as: SIMD8<Float>.self)
        pb.storeBytes(of: y.highHalf, as: SIMD8<Float>.self)
    }

    /// Lanes 0..<8 from the first `na` values at pa, lanes 8..<16 from the first `nb`
    /// at pb (a row pair of a column tile's block; the rest zero).
    @inline(__always)
    static func rowPair(_ pa: UnsafePointer<Float>, _ na: Int, _ pb: UnsafePointer<Float>, _ nb: Int) -> SIMD16<Float> {
        SIMD16(lowHalf: SIMD16.loadPrefix(pa, count: na).lowHalf, highHalf: SIMD16.loadPrefix(pb, count: nb).lowHalf)
    }
}

extension _DoubleGEMMKernel {
    /// Column tiles are written for `Float` only; `Double` keeps the packed path.
    static func columnTiles(_ p: _GEMMProblem<Double>, rows: Range<Int>, cols: Range<Int>) -> Bool { false }
}

/// The accumulators of one vector of rows of a column tile: 8 columns.
typealias _Columns8 = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>,
                       SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

/// 128-bit lanes a0, b0, a1, b1: per lane L of u_c / u_{4+c}, the two halves of a row.
@inline(__always) func _laneHalvesLo(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    SIMD16<Float>(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], a[4], a[5], a[6], a[7], b[4], b[5], b[6], b[7])
}

/// 128-bit lanes a2, b2, a3, b3.
@inline(__always) func _laneHalvesHi(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    SIMD16<Float>(a[8], a[9], a[10], a[11], b[8], b[9], b[10], b[11], a[12], a[13], a[14], a[15], b[12], b[13], b[14], b[15])
}


/// How many vectors of rows a column tile has, as a type (see `columnKernel`).
protocol _RowVectors { static var count: Int { get } }
enum _One: _RowVectors { static var count: Int { 1 } }
enum _Two: _RowVectors { static var count: Int { 2 } }
enum _Three: _RowVectors { static var count: Int { 3 } }

/// Whether op(B)'s columns are adjacent (offsets 0…7 folded into the loads).
protocol _ColumnStride { static var isUnit: Bool { get } }
enum _UnitStride: _ColumnStride { static var isUnit: Bool { true } }
enum _AnyStride: _ColumnStride { static var isUnit: Bool { false } }

/// Where a column tile reads: vectors 0… of op(A) at `a` (rows lda apart), the last
/// vector at `aLast` (ldLast apart), op(B)[p, j] at b[p·bStep + j·bcs].
struct _ColumnOperands {
    var a: UnsafePointer<Float>
    var lda: Int
    var aLast: UnsafePointer<Float>
    var ldLast: Int
    var b: UnsafePointer<Float>
    var bStep: Int
    var bcs: Int
}
