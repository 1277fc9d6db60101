// Packing: op(A) into MR-row panels and op(B) into NR-column panels, the layouts the
// micro-kernel reads with unit stride (K. Goto and R. A. van de Geijn, "Anatomy of
// High-Performance Matrix Multiplication", ACM TOMS 34(3), 2008; BLIS, Van Zee and
// van de Geijn, ACM TOMS 41(3), 2015).
//
// Goals, in priority order:
//   1. Correct edge tiles: a partial panel is zero-padded to MR rows or NR columns,
//      so an edge tile runs its kernel on defined values.
//   2. A fixed summation order: packing only moves values (copies and in-register
//      transposes, GEMM+Transpose.swift); it never combines them, so it cannot
//      change the bits of a result.
//   3. Speed: every source is read along its contiguous direction (rows of B dealt
//      out to panels, blocks of Bᵀ and rows of A transposed in registers, rows of Aᵀ
//      prefetched ahead), and any slice of K rows of a B block can be packed alone
//      (`packBRows`), so the macro-kernels interleave packing with computing.

extension _GEMMDriver {
    /// Packs op(A)[i0..<i0+mCount, k0..<k0+kCount] into MR-row panels: panel q holds,
    /// for each p, the MR values of rows i0+q·MR… (zero past the last row).
    @inline(never)
    static func packA(_ p: _GEMMProblem<T>, i0: Int, mCount: Int, k0: Int, kCount: Int, into dst: UnsafeMutablePointer<T>) {
        let mr = Kernel.mr
        var ir = 0
        while ir < mCount {
            let rowsHere = min(mr, mCount - ir)
            let panel = dst + ir * kCount
            if p.transposeA {
                // op(A)[i, p] = A[p, i]: MR contiguous values per p.
                let ahead = 8 * p.a.rowStride
                for q in 0..<kCount {
                    let src = p.a.at(k0 + q, i0 + ir), d = panel + q * mr
                    if q + 8 < kCount {
                        // One row of A per step, 2 KiB and more apart: latency-bound without this.
                        _prefetchRead(src + ahead)
                        _prefetchRead(src + (ahead + mr - 1))
                    }
                    if rowsHere == mr {
                        d.update(from: src, count: mr)
                    } else {
                        d.update(from: src, count: rowsHere)
                        (d + rowsHere).update(repeating: 0, count: mr - rowsHere)
                    }
                }
            } else {
                // op(A)[i, p] = A[i, p]: each row is contiguous in p.
                if rowsHere == mr {
                    packRows(p.a, row: i0 + ir, col: k0, count: kCount, into: panel)
                } else {
                    for r in 0..<mr {
                        if r < rowsHere {
                            let src = p.a.at(i0 + ir + r, k0)
                            for q in 0..<kCount { panel[q * mr + r] = src[q] }
                        } else {
                            for q in 0..<kCount { panel[q * mr + r] = 0 }
                        }
                    }
                }
            }
            ir += mr
        }
    }

    /// Interleaves MR full rows of a row-major matrix (row `row…`, columns col..<col+count).
    @inline(__always)
    static func packRows(_ a: _UnsafeMatrix<T>, row: Int, col: Int, count: Int, into panel: UnsafeMutablePointer<T>) {
        Kernel.packRows(UnsafePointer(a.at(row, col)), ld: a.rowStride, count: count, into: panel)
    }

    /// Packs op(B)[k0..<k0+kCount, j0..<j0+nCount] into NR-column panels: panel q
    /// holds, for each p, the NR values of columns j0+q·NR… (zero past the last column).
    static func packB(_ p: _GEMMProblem<T>, k0: Int, kCount: Int, j0: Int, nCount: Int, into dst: UnsafeMutablePointer<T>) {
        packBRows(p, k0: k0, kCount: kCount, j0: j0, nCount: nCount, q: 0..<kCount, into: dst)
    }

    /// Rows `q` (of 0..<kCount) of every panel of `packB`'s block.
    static func packBRows(_ p: _GEMMProblem<T>, k0: Int, kCount: Int, j0: Int, nCount: Int, q: Range<Int>,
                          into dst: UnsafeMutablePointer<T>) {
        if p.transposeB {
            let nr = Kernel.nr
            var jr = 0
            while jr < nCount {
                packBPanel(p, k0: k0, kCount: kCount, j: j0 + jr, colCount: min(nr, nCount - jr), q: q, into: dst + jr * kCount)
                jr += nr
            }
        } else {
            packRowsOfB(p.b, k0: k0, kCount: kCount, j0: j0, nCount: nCount, q: q, into: dst)
        }
    }

    /// `packB` for op(B) = B: row q of the block is one contiguous run of `nCount`
    /// values, read in order (the hardware prefetcher streams it from memory) and
    /// dealt out NR values at a time to the panels. Reading panel by panel instead
    /// touches kCount rows (pages) for every 128 bytes and is latency-bound.
    @inline(never)
    static func packRowsOfB(_ b: _UnsafeMatrix<T>, k0: Int, kCount: Int, j0: Int, nCount: Int, q rows: Range<Int>,
                            into dst: UnsafeMutablePointer<T>) {
        let nr = Kernel.nr, w = V.lanes
        let fullPanels = nCount / nr, tail = nCount - fullPanels * nr
        let panelStride = nr * kCount
        for q in rows {
            let src = b.at(k0 + q, j0)
            var d = dst + q * nr, s = src
            for _ in 0..<fullPanels {
                var j = 0
                while j < nr { V.load(s + j).store(d + j); j += w }
                s += nr; d += panelStride
            }
            if tail > 0 {
                d.update(from: s, count: tail)
                (d + tail).update(repeating: 0, count: nr - tail)
            }
        }
    }

    /// Rows `q` (of 0..<kCount) of one NR-column panel of op(B)[k0..<k0+kCount, j..<j+colCount],
    /// zero past column `colCount`. `panel` is the panel's start (row q at panel + q·NR).
    /// For op(B) = Bᵀ, op(B)[p, j] = B[j, p]: each column of op(B) is a contiguous row
    /// of B, so full panels go through lanes×lanes blocks transposed in registers
    /// (vector loads along rows of B, vector stores into the panel); ragged parts are
    /// copied element by element.
    static func packBPanel(_ p: _GEMMProblem<T>, k0: Int, kCount: Int, j: Int, colCount: Int, q: Range<Int>,
                           into panel: UnsafeMutablePointer<T>) {
        let nr = Kernel.nr, w = V.lanes, b = p.b
        if !p.transposeB {
            for q in q {
                let src = b.at(k0 + q, j), d = panel + q * nr
                if colCount == nr {
                    var jj = 0
                    while jj < nr { V.load(src + jj).store(d + jj); jj += w }
                } else {
                    d.update(from: src, count: colCount)
                    (d + colCount).update(repeating: 0, count: nr - colCount)
                }
            }
            return
        }
        let ld = b.rowStride
        var jj = 0
        if colCount == nr {
            let src = UnsafePointer(b.at(j, k0))
            var qq = q.lowerBound
            while qq + w <= q.upperBound {
                var jb = 0
                while jb < nr {
                    Kernel.transposeBlock(src + (jb * ld + qq), ld: ld, panel + (qq * nr + jb), ldd: nr)
                    jb += w
                }
                qq += w
            }
            if qq < q.upperBound {
                for jj in 0..<nr {
                    let row = src + jj * ld
                    for q in qq..<q.upperBound { panel[q * nr + jj] = row[q] }
                }
            }
            jj = nr
        }
        while jj < nr {
            if jj < colCount {
                let row = b.at(j + jj, k0)
                for q in q { panel[q * nr + jj] = row[q] }
            } else {
                for q in q { panel[q * nr + jj] = 0 }
            }
            jj += 1
        }
    }

    /// The memory `packB` reads for op(B)[k0..<k0+kCount, j0..<j0+nCount], as a prefetch stream.
    @inline(__always)
    static func sourceOfB(_ p: _GEMMProblem<T>, k0: Int, kCount: Int, j0: Int, nCount: Int) -> _PrefetchStream {
        let size = MemoryLayout<T>.stride
        if p.transposeB {
            return _PrefetchStream(base: UnsafeRawPointer(p.b.at(j0, k0)), rows: nCount, rowBytes: kCount * size,
                                   rowStride: p.b.rowStride * size)
        }
        return _PrefetchStream(base: UnsafeRawPointer(p.b.at(k0, j0)), rows: kCount, rowBytes: nCount * size,
                               rowStride: p.b.rowStride * size)
    }
}
