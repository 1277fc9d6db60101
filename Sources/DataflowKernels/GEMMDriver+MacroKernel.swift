// The BLIS loops around the micro-kernel, inner part: jr and ir over the micro-tiles
// of one packed A block and one packed B block (the macro-kernel of Van Zee and
// van de Geijn, "BLIS: A Framework for Rapidly Instantiating BLAS Functionality",
// ACM TOMS 41(3), 2015), and `computeTile`, which sends each micro-tile to the
// generated micro-kernel or to an edge kernel.
//
// Goals, in priority order:
//   1. Correct edge tiles: a micro-tile with fewer than MR rows or NR columns never
//      reaches `Kernel.microKernel` with C itself; `computeTile` routes it to
//      GEMMDriver+EdgeKernels.swift.
//   2. A fixed summation order: the macro-kernels change the order in which tiles
//      are visited (row strips for short K, panels for long K, packing interleaved),
//      never the operations of an element: the first K block stores
//      alpha·acc + beta·C (C unread when beta == 0), later blocks alpha·acc + 1·C.
//   3. Speed: the next B block or panel is prefetched and packed in slices between
//      the micro-kernels of the current one.
//
// Departures from BLIS: its macro-kernel runs on a block whose packing is finished;
// `overlappedMacroKernel` and `streamingMacroKernel` pack the next B block (or B
// micro-panel) between the micro-kernels of the current one, and short K blocks run
// the micro-tiles in row strips (`macroKernel`).

extension _GEMMDriver {
    /// The two loops around the micro-kernel over one packed A block and B block.
    @inline(__always)
    static func macroKernel(_ p: _GEMMProblem<T>, _ packedA: UnsafeMutablePointer<T>, _ packedB: UnsafeMutablePointer<T>,
                            i0: Int, mCount: Int, j0: Int, nCount: Int, kCount: Int, k0: Int, directRows: Int,
                            first: Bool, last: Bool, scratch: UnsafeMutablePointer<T>) {
        let mr = Kernel.mr, nr = Kernel.nr
        // First K block: C = alpha·AB + beta·C (C unread when beta == 0);
        // later blocks: C = alpha·AB + 1·C.
        let readC = !first || p.beta != 0
        let beta: T = first ? p.beta : 1
        if kCount <= Kernel.shortK {
            // Short K (a weight gradient Xᵀ·dZ over a small batch): each micro-tile
            // does few FMAs per element of C, so storing C dominates. Sweep C a row
            // strip at a time: each of the MR rows is then written sequentially
            // (streamer-friendly) instead of 128 bytes per row per page. The whole
            // packed B block sits in L2 and the A micro-panel in L1. Same arithmetic
            // per element, only the order of the tiles changes.
            var ir = 0
            while ir < mCount {
                let mrCur = min(mr, mCount - ir)
                let direct = ir < directRows
                let aPanel = direct ? _InPlaceA.start(p, row: i0 + ir, k0: k0) : UnsafePointer(packedA + ir * kCount)
                var jr = 0
                var none = _PrefetchStream()
                while jr < nCount {
                    computeTile(p, aPanel, UnsafePointer(packedB + jr * kCount), kCount: kCount, row: i0 + ir, col: j0 + jr,
                                rowCount: mrCur, colCount: min(nr, nCount - jr), beta: beta, readC: readC, last: last,
                                scratch: scratch, prefetch: &none, aInPlace: direct ? _InPlaceA(p) : nil)
                    jr += nr
                }
                ir += mr
            }
            return
        }
        // Panel by panel: the loops of `overlappedMacroKernel`, with nothing to pack.
        overlappedMacroKernel(p, packedA, packedB, i0: i0, mCount: mCount, j0: j0, nCount: nCount, kCount: kCount, k0: k0,
                              directRows: directRows, first: first, last: last, scratch: scratch, next: packedB,
                              nextK0: 0, nextKCount: 0, nextJ0: 0, nextNCount: 0)
    }

    /// The macro-kernel of `smallM`: the micro-tiles of the current blocks, column
    /// panel by column panel, with slice t of the next B block (rows of K, on
    /// vector-multiple cuts) packed into `next` after tile t, and prefetched by the
    /// micro-kernel of tile t. `nextKCount == 0`: nothing to pack.
    @inline(__always)
    static func overlappedMacroKernel(_ p: _GEMMProblem<T>, _ packedA: UnsafeMutablePointer<T>, _ packedB: UnsafeMutablePointer<T>,
                                      i0: Int, mCount: Int, j0: Int, nCount: Int, kCount: Int, k0: Int, directRows: Int,
                                      first: Bool, last: Bool, scratch: UnsafeMutablePointer<T>, next: UnsafeMutablePointer<T>,
                                      nextK0: Int, nextKCount: Int, nextJ0: Int, nextNCount: Int) {
        let mr = Kernel.mr, nr = Kernel.nr, w = V.lanes
        let readC = !first || p.beta != 0
        let beta: T = first ? p.beta : 1
        let tiles = ((mCount + mr - 1) / mr) * ((nCount + nr - 1) / nr)
        var t = 0, packed = 0
        var jr = 0
        while jr < nCount {
            let nrCur = min(nr, nCount - jr)
            let bPanel = UnsafePointer(packedB + jr * kCount)
            var ir = 0
            while ir < mCount {
                // Rows [packed, cut) of the next block go after this tile.
                let cut = t + 1 == tiles ? nextKCount : (t + 1) * nextKCount / tiles / w * w
                var prefetch = cut > packed
                    ? sourceOfB(p, k0: nextK0 + packed, kCount: cut - packed, j0: nextJ0, nCount: nextNCount)
                    : _PrefetchStream()
                let direct = ir < directRows
                computeTile(p, direct ? _InPlaceA.start(p, row: i0 + ir, k0: k0) : UnsafePointer(packedA + ir * kCount), bPanel,
                            kCount: kCount, row: i0 + ir, col: j0 + jr, rowCount: min(mr, mCount - ir), colCount: nrCur,
                            beta: beta, readC: readC, last: last, scratch: scratch, prefetch: &prefetch,
                            aInPlace: direct ? _InPlaceA(p) : nil)
                if cut > packed {
                    packBRows(p, k0: nextK0, kCount: nextKCount, j0: nextJ0, nCount: nextNCount, q: packed..<cut, into: next)
                    packed = cut
                }
                t += 1
                ir += mr
            }
            jr += nr
        }
    }

    /// The macro-kernel for an A block that holds every row: B micro-panel jr+1 is
    /// packed in slices between the micro-kernels of panel jr, into the other half
    /// of a two-panel buffer that stays in L1. The packing's loads from memory
    /// then overlap the FMAs around them instead of running as a separate pass,
    /// and packed B never round-trips through L2/L3. (BLIS packs all of a KC×NC
    /// block first; for M ≈ 256 each B element feeds only M/MR micro-kernels, so
    /// that pass is a large share of the time.)
    @inline(__always)
    static func streamingMacroKernel(_ p: _GEMMProblem<T>, _ packedA: UnsafeMutablePointer<T>, _ packedB: UnsafeMutablePointer<T>,
                                     i0: Int, mCount: Int, j0: Int, nCount: Int, k0: Int, kCount: Int, first: Bool, last: Bool,
                                     scratch: UnsafeMutablePointer<T>) {
        let mr = Kernel.mr, nr = Kernel.nr, w = V.lanes
        let readC = !first || p.beta != 0
        let beta: T = first ? p.beta : 1
        let tiles = (mCount + mr - 1) / mr
        var current = packedB, next = packedB + kCount * nr
        packBPanel(p, k0: k0, kCount: kCount, j: j0, colCount: min(nr, nCount), q: 0..<kCount, into: current)
        var jr = 0
        while jr < nCount {
            let nrCur = min(nr, nCount - jr)
            let nextCols = min(nr, nCount - jr - nr)
            var previousCut = 0
            // The panel after next is fetched from memory meanwhile, so packing it reads from cache.
            let afterNext = min(nr, nCount - jr - 2 * nr)
            var prefetch = afterNext > 0 ? sourceOfB(p, k0: k0, kCount: kCount, j0: j0 + jr + 2 * nr, nCount: afterNext)
                                         : _PrefetchStream()
            for t in 0..<tiles {
                let ir = t * mr
                computeTile(p, UnsafePointer(packedA + ir * kCount), UnsafePointer(current), kCount: kCount,
                            row: i0 + ir, col: j0 + jr, rowCount: min(mr, mCount - ir), colCount: nrCur,
                            beta: beta, readC: readC, last: last, scratch: scratch, prefetch: &prefetch)
                if nextCols > 0 {
                    // Slice t of the next panel: rows [cut(t), cut(t+1)) of K, cuts on vector multiples.
                    let cut = t + 1 == tiles ? kCount : (t + 1) * kCount / tiles / w * w
                    if cut > previousCut {
                        packBPanel(p, k0: k0, kCount: kCount, j: j0 + jr + nr, colCount: nextCols, q: previousCut..<cut, into: next)
                        previousCut = cut
                    }
                }
            }
            swap(&current, &next)
            jr += nr
        }
    }

    /// One MR×NR micro-tile of C (a partial one through `edgeTile`), with the epilogue
    /// after the last K block.
    @inline(__always)
    static func computeTile(_ p: _GEMMProblem<T>, _ aPanel: UnsafePointer<T>, _ bPanel: UnsafePointer<T>, kCount: Int,
                            row: Int, col: Int, rowCount: Int, colCount: Int, beta: T, readC: Bool, last: Bool,
                            scratch: UnsafeMutablePointer<T>, prefetch: inout _PrefetchStream, aInPlace: _InPlaceA? = nil) {
        let mr = Kernel.mr, nr = Kernel.nr
        // aInPlace nil: `aPanel` is a packed panel (value (r, p) at p·MR + r); else it
        // points into A itself (value (r, p) at r·rs + p·step), MR whole rows.
        let (rs, step) = aInPlace.map { ($0.rs, $0.step) } ?? (1, mr)
        if rowCount == mr && colCount == nr {
            let cTile = p.c.at(row, col), ldc = p.c.rowStride
            if aInPlace == nil {
                Kernel.microKernel(k: kCount, a: aPanel, b: bPanel, c: cTile, ldc: ldc, alpha: p.alpha, beta: beta, readC: readC,
                                   prefetch: &prefetch)
            } else {
                wideKernel(k: kCount, a: aPanel, rs: rs, step: step, b: bPanel, c: cTile, ldc: ldc, alpha: p.alpha, beta: beta,
                           readC: readC, prefetch: &prefetch)
            }
            if last && p.epilogue != .none {
                applyEpilogue(p.epilogue, p.activation, cTile, ldc: ldc, bias: p.bias + col,
                              output: p.output.base + (row * p.output.rowStride + col), ldy: p.output.rowStride)
            }
        } else if colCount == nr && rowCount % 4 == 0 {
            // Bottom edge with whole groups of four rows (M = 256 leaves 4, M = 5000
            // leaves 8): straight into C, no zero-padded rows computed and copied.
            let ldc = p.c.rowStride
            var r = 0
            while r < rowCount {
                let cRows = p.c.at(row + r, col)
                fourRowKernel(k: kCount, a: aPanel + r * rs, rs: rs, step: step, b: bPanel, c: cRows, ldc: ldc, alpha: p.alpha,
                              beta: beta, readC: readC)
                if last && p.epilogue != .none {
                    applyEpilogue(p.epilogue, p.activation, cRows, ldc: ldc, bias: p.bias + col,
                                  output: p.output.base + ((row + r) * p.output.rowStride + col), ldy: p.output.rowStride, rows: 4)
                }
                r += 4
            }
        } else {
            edgeTile(p, aPanel, bPanel, kCount: kCount, row: row, col: col, rowCount: rowCount, colCount: colCount,
                     beta: beta, readC: readC, last: last, scratch: scratch, aInPlace: aInPlace)
        }
    }
}
