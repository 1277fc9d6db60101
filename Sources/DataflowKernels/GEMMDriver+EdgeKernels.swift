// The kernels besides the generated micro-kernel: partial micro-tiles at the bottom
// and right edges of C, whole micro-tiles whose A panel is read in place
// (`wideKernel`), and the epilogue on a tile.
//
// Goals, in priority order:
//   1. Correct edge tiles: any rowCount ≤ MR and colCount ≤ NR; only the valid
//      elements of C are read, written and given the epilogue.
//   2. A fixed summation order: every kernel here does, per element, exactly the
//      operations of `Kernel.microKernel` (one mulAdd per p in ascending order from
//      zero, then alpha·acc + beta·C), so an element rounds the same whether its
//      tile is interior or at an edge, packed or read in place.
//   3. Speed: the general edge stays out of line (`@inline(never)` on `edgeTile` and
//      `narrowEdge`); the common edges (whole groups of four rows, one vector of
//      columns) avoid the zero-padded NR-wide detour.
//
// As in BLIS (Van Zee and van de Geijn, ACM TOMS 41(3), 2015), `edgeTile` runs the
// full micro-kernel into a temporary MR×NR tile and copies the valid part to C. The
// four-row and one-vector kernels depart from that: measured on the seed shapes,
// where M = 256 leaves 4 rows and N = 40 leaves 8 columns (see each kernel).

extension _GEMMDriver {
    /// A partial micro-tile: the same micro-kernel and epilogue run on a zero-padded
    /// copy of the tile in scratch memory, then the valid part is copied back, so
    /// each element sees exactly the arithmetic of an interior tile.
    @inline(never)
    static func edgeTile(_ p: _GEMMProblem<T>, _ aPanel: UnsafePointer<T>, _ bPanel: UnsafePointer<T>, kCount: Int,
                         row: Int, col: Int, rowCount: Int, colCount: Int, beta: T, readC: Bool, last: Bool,
                         scratch: UnsafeMutablePointer<T>, aInPlace: _InPlaceA?) {
        let mr = Kernel.mr, nr = Kernel.nr
        let (rs, step) = aInPlace.map { ($0.rs, $0.step) } ?? (1, mr)
        if (rowCount == mr || (aInPlace != nil && rowCount % 4 == 0)) && colCount <= V.lanes {
            narrowEdge(p, aPanel, rs: rs, step: step, bPanel, kCount: kCount, row: row, rowCount: rowCount, col: col,
                       colCount: colCount, beta: beta, readC: readC, last: last, scratch: scratch)
            return
        }
        precondition(aInPlace == nil || rowCount == mr, "GEMM: an in-place A panel must have MR rows here")
        let tile = scratch, yTile = scratch + mr * nr, biasTile = scratch + 2 * mr * nr
        tile.update(repeating: 0, count: mr * nr)
        if readC {
            for r in 0..<rowCount {
                (tile + r * nr).update(from: p.c.at(row + r, col), count: colCount)
            }
        }
        if colCount <= V.lanes {
            // A narrow right edge (N = 40 leaves 8 columns): one vector of columns, not NR.
            narrowKernel(k: kCount, a: aPanel, rs: rs, step: step, b: bPanel, c: tile, ldc: nr, alpha: p.alpha, beta: beta,
                         readC: readC)
        } else if aInPlace != nil {
            var none = _PrefetchStream()
            wideKernel(k: kCount, a: aPanel, rs: rs, step: step, b: bPanel, c: tile, ldc: nr, alpha: p.alpha, beta: beta,
                       readC: readC, prefetch: &none)
        } else {
            var none = _PrefetchStream()
            Kernel.microKernel(k: kCount, a: aPanel, b: bPanel, c: tile, ldc: nr, alpha: p.alpha, beta: beta, readC: readC,
                               prefetch: &none)
        }
        if last && p.epilogue != .none {
            biasTile.update(repeating: 0, count: nr)
            yTile.update(repeating: 0, count: mr * nr)
            if p.epilogue == .bias { biasTile.update(from: p.bias + col, count: colCount) }
            if p.epilogue == .activationGradient {
                for r in 0..<rowCount {
                    (yTile + r * nr).update(from: p.output.at(row + r, col), count: colCount)
                }
            }
            applyEpilogue(p.epilogue, p.activation, tile, ldc: nr, bias: biasTile, output: yTile, ldy: nr)
        }
        for r in 0..<rowCount {
            p.c.at(row + r, col).update(from: tile + r * nr, count: colCount)
        }
    }

    /// An MR-row tile at most one vector wide, straight into C: `narrowKernel`'s
    /// arithmetic into a 12-vector scratch tile, then the epilogue (when `last`) and
    /// the valid columns copied out, without `edgeTile`'s zero-padded NR-wide detour
    /// (which cost as much as the kernel itself at N = 40, K = 256).
    @inline(never)
    static func narrowEdge(_ p: _GEMMProblem<T>, _ aPanel: UnsafePointer<T>, rs: Int, step: Int, _ bPanel: UnsafePointer<T>,
                           kCount: Int, row: Int, rowCount: Int, col: Int, colCount: Int, beta: T, readC: Bool, last: Bool,
                           scratch: UnsafeMutablePointer<T>) {
        let mr = Kernel.mr, w = V.lanes
        let tile = scratch
        if readC {
            for r in 0..<rowCount { V.load(p.c.at(row + r, col), stride: 1, count: colCount).store(tile + r * w) }
        }
        if rowCount < mr {
            // 4 or 8 rows of A in place (see `directRowCount`).
            var r = 0
            while r < rowCount {
                narrowFourRowKernel(k: kCount, a: aPanel + r * rs, rs: rs, step: step, b: bPanel, c: tile + r * w, ldc: w,
                                    alpha: p.alpha, beta: beta, readC: readC)
                r += 4
            }
        } else if rs == 1 && step == mr {  // packed: constant offsets
            narrowKernel(k: kCount, a: aPanel, rs: 1, step: mr, b: bPanel, c: tile, ldc: w, alpha: p.alpha, beta: beta,
                         readC: readC)
        } else {
            narrowKernel(k: kCount, a: aPanel, rs: rs, step: step, b: bPanel, c: tile, ldc: w, alpha: p.alpha, beta: beta,
                         readC: readC)
        }
        let epilogue = last ? p.epilogue : .none
        let bias = epilogue == .bias ? V.load(p.bias + col, stride: 1, count: colCount) : V(repeating: 0)
        for r in 0..<rowCount {
            var x = V.load(tile + r * w)
            switch epilogue {
            case .none: break
            case .bias: x = V.activate(p.activation, x + bias)
            case .activation: x = V.activate(p.activation, x)
            case .activationGradient:
                x = x * V.activationDerivative(p.activation, output: V.load(p.output.at(row + r, col), stride: 1, count: colCount))
            }
            x.store(p.c.at(row + r, col), stride: 1, count: colCount)
        }
    }

    /// Rows 0..<4 of a micro-tile (A panel rows 0..<4 of MR, a full NR = 2-vector B
    /// panel): per element exactly the operations of `Kernel.microKernel` (one
    /// `mulAdd` per p in ascending order from zero, then alpha·acc + beta·C), so
    /// an edge tile rounds like an interior one.
    @inline(__always)
    static func fourRowKernel(k: Int, a: UnsafePointer<T>, rs: Int, step: Int, b: UnsafePointer<T>, c: UnsafeMutablePointer<T>,
                              ldc: Int, alpha: T, beta: T, readC: Bool) {
        let w = V.lanes, nr = Kernel.nr
        var c00 = V(repeating: 0), c01 = V(repeating: 0), c10 = V(repeating: 0), c11 = V(repeating: 0)
        var c20 = V(repeating: 0), c21 = V(repeating: 0), c30 = V(repeating: 0), c31 = V(repeating: 0)
        var pa = a, pb = b
        for _ in 0..<k {
            let b0 = V.load(pb), b1 = V.load(pb + w)
            let a0 = V(repeating: pa[0]), a1 = V(repeating: pa[rs]), a2 = V(repeating: pa[2 * rs]), a3 = V(repeating: pa[3 * rs])
            c00 = V.mulAdd(a0, b0, c00); c01 = V.mulAdd(a0, b1, c01)
            c10 = V.mulAdd(a1, b0, c10); c11 = V.mulAdd(a1, b1, c11)
            c20 = V.mulAdd(a2, b0, c20); c21 = V.mulAdd(a2, b1, c21)
            c30 = V.mulAdd(a3, b0, c30); c31 = V.mulAdd(a3, b1, c31)
            pa += step; pb += nr
        }
        let alphaV = V(repeating: alpha), betaV = V(repeating: beta)
        @inline(__always) func store(_ row: UnsafeMutablePointer<T>, _ x0: V, _ x1: V) {
            if readC {
                (alphaV * x0 + betaV * V.load(row)).store(row)
                (alphaV * x1 + betaV * V.load(row + w)).store(row + w)
            } else {
                (alphaV * x0).store(row)
                (alphaV * x1).store(row + w)
            }
        }
        store(c, c00, c01)
        store(c + ldc, c10, c11)
        store(c + 2 * ldc, c20, c21)
        store(c + 3 * ldc, c30, c31)
    }

    /// Columns 0..<lanes of an MR×NR micro-tile (A panel of MR rows, B panel NR wide):
    /// per element exactly the operations of `Kernel.microKernel`, like `fourRowKernel`.
    @inline(__always)
    static func narrowKernel(k: Int, a: UnsafePointer<T>, rs: Int, step: Int, b: UnsafePointer<T>, c: UnsafeMutablePointer<T>,
                             ldc: Int, alpha: T, beta: T, readC: Bool) {
        let nr = Kernel.nr
        precondition(Kernel.mr == 12, "narrowKernel is written for MR = 12")
        var c0 = V(repeating: 0), c1 = V(repeating: 0), c2 = V(repeating: 0), c3 = V(repeating: 0)
        var c4 = V(repeating: 0), c5 = V(repeating: 0), c6 = V(repeating: 0), c7 = V(repeating: 0)
        var c8 = V(repeating: 0), c9 = V(repeating: 0), c10 = V(repeating: 0), c11 = V(repeating: 0)
        // Four row pointers three rows apart, each row addressed as base + rs·{0,1,2}:
        // no serial chain of address additions through the 12 rows.
        var p0 = a, p3 = a + 3 * rs, p6 = a + 6 * rs, p9 = a + 9 * rs, pb = b
        let rs2 = 2 * rs
        for _ in 0..<k {
            let b0 = V.load(pb)
            c0 = V.mulAdd(V(repeating: p0[0]), b0, c0); c1 = V.mulAdd(V(repeating: p0[rs]), b0, c1)
            c2 = V.mulAdd(V(repeating: p0[rs2]), b0, c2); c3 = V.mulAdd(V(repeating: p3[0]), b0, c3)
            c4 = V.mulAdd(V(repeating: p3[rs]), b0, c4); c5 = V.mulAdd(V(repeating: p3[rs2]), b0, c5)
            c6 = V.mulAdd(V(repeating: p6[0]), b0, c6); c7 = V.mulAdd(V(repeating: p6[rs]), b0, c7)
            c8 = V.mulAdd(V(repeating: p6[rs2]), b0, c8); c9 = V.mulAdd(V(repeating: p9[0]), b0, c9)
            c10 = V.mulAdd(V(repeating: p9[rs]), b0, c10); c11 = V.mulAdd(V(repeating: p9[rs2]), b0, c11)
            p0 += step; p3 += step; p6 += step; p9 += step; pb += nr
        }
        let alphaV = V(repeating: alpha), betaV = V(repeating: beta)
        @inline(__always) func store(_ r: Int, _ x: V) {
            let row = c + r * ldc
            (readC ? alphaV * x + betaV * V.load(row) : alphaV * x).store(row)
        }
        store(0, c0); store(1, c1); store(2, c2); store(3, c3); store(4, c4); store(5, c5)
        store(6, c6); store(7, c7); store(8, c8); store(9, c9); store(10, c10); store(11, c11)
    }

    /// Rows 0..<4 of a micro-tile at most one vector wide: per element exactly the
    /// operations of `Kernel.microKernel`, like `fourRowKernel`.
    @inline(__always)
    static func narrowFourRowKernel(k: Int, a: UnsafePointer<T>, rs: Int, step: Int, b: UnsafePointer<T>,
                                    c: UnsafeMutablePointer<T>, ldc: Int, alpha: T, beta: T, readC: Bool) {
        let nr = Kernel.nr
        var c0 = V(repeating: 0), c1 = V(repeating: 0), c2 = V(repeating: 0), c3 = V(repeating: 0)
        var pa = a, pb = b
        for _ in 0..<k {
            let b0 = V.load(pb)
            c0 = V.mulAdd(V(repeating: pa[0]), b0, c0); c1 = V.mulAdd(V(repeating: pa[rs]), b0, c1)
            c2 = V.mulAdd(V(repeating: pa[2 * rs]), b0, c2); c3 = V.mulAdd(V(repeating: pa[3 * rs]), b0, c3)
            pa += step; pb += nr
        }
        let alphaV = V(repeating: alpha), betaV = V(repeating: beta)
        @inline(__always) func store(_ r: Int, _ x: V) {
            let row = c + r * ldc
            (readC ? alphaV * x + betaV * V.load(row) : alphaV * x).store(row)
        }
        store(0, c0); store(1, c1); store(2, c2); store(3, c3)
    }

    /// A whole MR×NR micro-tile read from A in place (value (r, p) at a[r·rs + p·step]):
    /// per element exactly the operations of `Kernel.microKernel`, which it replaces
    /// where packing A would cost more than it saves (`smallM`, few columns).
    @inline(__always)
    static func wideKernel(k: Int, a: UnsafePointer<T>, rs: Int, step: Int, b: UnsafePointer<T>, c: UnsafeMutablePointer<T>,
                           ldc: Int, alpha: T, beta: T, readC: Bool, prefetch: inout _PrefetchStream) {
        let w = V.lanes, nr = Kernel.nr
        precondition(Kernel.mr == 12 && nr == 2 * w, "wideKernel is written for a 12 × 2-vector tile")
        // 24 named accumulators, so that they stay in registers.
        var c0_0 = V(repeating: 0), c0_1 = V(repeating: 0), c1_0 = V(repeating: 0), c1_1 = V(repeating: 0)
        var c2_0 = V(repeating: 0), c2_1 = V(repeating: 0), c3_0 = V(repeating: 0), c3_1 = V(repeating: 0)
        var c4_0 = V(repeating: 0), c4_1 = V(repeating: 0), c5_0 = V(repeating: 0), c5_1 = V(repeating: 0)
        var c6_0 = V(repeating: 0), c6_1 = V(repeating: 0), c7_0 = V(repeating: 0), c7_1 = V(repeating: 0)
        var c8_0 = V(repeating: 0), c8_1 = V(repeating: 0), c9_0 = V(repeating: 0), c9_1 = V(repeating: 0)
        var c10_0 = V(repeating: 0), c10_1 = V(repeating: 0), c11_0 = V(repeating: 0), c11_1 = V(repeating: 0)
        // Row pointers as in `narrowKernel`.
        var p0 = a, p3 = a + 3 * rs, p6 = a + 6 * rs, p9 = a + 9 * rs, pb = b
        let rs2 = 2 * rs
        for i in 0..<k {
            if i & 3 == 0 { prefetch.advance(lines: 1) }
            let b0 = V.load(pb), b1 = V.load(pb + w)
            let a0 = V(repeating: p0[0]); c0_0 = V.mulAdd(a0, b0, c0_0); c0_1 = V.mulAdd(a0, b1, c0_1)
            let a1 = V(repeating: p0[rs]); c1_0 = V.mulAdd(a1, b0, c1_0); c1_1 = V.mulAdd(a1, b1, c1_1)
            let a2 = V(repeating: p0[rs2]); c2_0 = V.mulAdd(a2, b0, c2_0); c2_1 = V.mulAdd(a2, b1, c2_1)
            let a3 = V(repeating: p3[0]); c3_0 = V.mulAdd(a3, b0, c3_0); c3_1 = V.mulAdd(a3, b1, c3_1)
            let a4 = V(repeating: p3[rs]); c4_0 = V.mulAdd(a4, b0, c4_0); c4_1 = V.mulAdd(a4, b1, c4_1)
            let a5 = V(repeating: p3[rs2]); c5_0 = V.mulAdd(a5, b0, c5_0); c5_1 = V.mulAdd(a5, b1, c5_1)
            let a6 = V(repeating: p6[0]); c6_0 = V.mulAdd(a6, b0, c6_0); c6_1 = V.mulAdd(a6, b1, c6_1)
            let a7 = V(repeating: p6[rs]); c7_0 = V.mulAdd(a7, b0, c7_0); c7_1 = V.mulAdd(a7, b1, c7_1)
            let a8 = V(repeating: p6[rs2]); c8_0 = V.mulAdd(a8, b0, c8_0); c8_1 = V.mulAdd(a8, b1, c8_1)
            let a9 = V(repeating: p9[0]); c9_0 = V.mulAdd(a9, b0, c9_0); c9_1 = V.mulAdd(a9, b1, c9_1)
            let a10 = V(repeating: p9[rs]); c10_0 = V.mulAdd(a10, b0, c10_0); c10_1 = V.mulAdd(a10, b1, c10_1)
            let a11 = V(repeating: p9[rs2]); c11_0 = V.mulAdd(a11, b0, c11_0); c11_1 = V.mulAdd(a11, b1, c11_1)
            p0 += step; p3 += step; p6 += step; p9 += step; pb += nr
        }
        let alphaV = V(repeating: alpha), betaV = V(repeating: beta)
        @inline(__always) func store(_ r: Int, _ x0: V, _ x1: V) {
            let row = c + r * ldc
            if readC {
                (alphaV * x0 + betaV * V.load(row)).store(row)
                (alphaV * x1 + betaV * V.load(row + w)).store(row + w)
            } else {
                (alphaV * x0).store(row)
                (alphaV * x1).store(row + w)
            }
        }
        store(0, c0_0, c0_1); store(1, c1_0, c1_1); store(2, c2_0, c2_1); store(3, c3_0, c3_1)
        store(4, c4_0, c4_1); store(5, c5_0, c5_1); store(6, c6_0, c6_1); store(7, c7_0, c7_1)
        store(8, c8_0, c8_1); store(9, c9_0, c9_1); store(10, c10_0, c10_1); store(11, c11_0, c11_1)
    }

    /// Bias, activation or activation gradient on one MR×NR tile, vector by vector.
    @inline(__always)
    static func applyEpilogue(_ kind: _EpilogueKind, _ act: Activation, _ tile: UnsafeMutablePointer<T>, ldc: Int,
                              bias: UnsafeMutablePointer<T>, output: UnsafeMutablePointer<T>, ldy: Int, rows: Int = Kernel.mr) {
        let w = V.lanes
        for r in 0..<rows {
            var j = 0
            while j < Kernel.nr {
                let ptr = tile + (r * ldc + j)
                var x = V.load(ptr)
                switch kind {
                case .none: break
                case .bias: x = V.activate(act, x + V.load(bias + j))
                case .activation: x = V.activate(act, x)
                case .activationGradient: x = x * V.activationDerivative(act, output: V.load(output + (r * ldy + j)))
                }
                x.store(ptr)
                j += w
            }
        }
    }
}
