// The BLIS loops around the micro-kernel, outer part: jc (NC columns), pc (KC of K)
// and ic (MC rows), as in F. G. Van Zee and R. A. van de Geijn, "BLIS: A Framework
// for Rapidly Instantiating BLAS Functionality", ACM TOMS 41(3), 2015. GEMM.swift
// lists the papers and the departures for the whole GEMM.
//
// Goals, in priority order:
//   1. Correct edge tiles: every row and column of the requested range of C is
//      covered exactly once, whatever its size; partial micro-tiles are left to
//      GEMMDriver+EdgeKernels.swift.
//   2. A fixed summation order: the partition of K into blocks is a function of k
//      alone (`kcBlock`) and starts at 0 for every tile, and every path sums an
//      element's K blocks in ascending order, so any tiling gives the same bits.
//   3. Speed: blocks sized for the caches (GEMMKernel.swift), and for skinny M the
//      packing of B overlapped with the micro-kernels (`smallM`).
//
// Departures from BLIS in these loops: up to `Kernel.mcStreaming` rows (a batch),
// one A block holds every row and B is packed just ahead of its use
// (`streamingMacroKernel`, `smallM`) instead of a KC×NC block at a time before the
// ic loop; with few columns, panels of A are read in place instead of packed
// (`readsAInPlace`).
//
// The driver, one concern per file (all generic over `_GEMMKernel`, instantiated
// only with the two concrete kernels, so fully specialised):
//   GEMMDriver.swift               the loops jc, pc, ic and the block-size policy
//   GEMMDriver+MacroKernel.swift   the loops jr, ir over one A block and B block
//   GEMMDriver+EdgeKernels.swift   partial micro-tiles, tiles read from A in place
//   GEMMDriver+Packing.swift       op(A) and op(B) into MR-row and NR-column panels

enum _GEMMDriver<Kernel: _GEMMKernel> {
    typealias T = Kernel.Scalar
    typealias V = Kernel.Vector

    /// Computes C[rows, cols] of the problem: the five loops.
    static func run(_ p: _GEMMProblem<T>, rows: Range<Int>, cols: Range<Int>) {
        let mr = Kernel.mr, nr = Kernel.nr
        if rows.isEmpty || Kernel.columnTiles(p, rows: rows, cols: cols) { return }
        let kTotal = p.k
        let kcMax = kcBlock(kTotal, cap: Kernel.kc)
        let ncMax = min(Kernel.nc, GEMMTiling.roundUp(cols.count, nr))
        // Skinny M (a batch of rows): one A block covers every row; B skips the
        // KC×NC buffer when K is short (streamingMacroKernel), else it is packed in
        // L2-sized blocks with the K blocks outermost (smallM).
        let streaming = rows.count <= Kernel.mcStreaming
        let mcMax = streaming ? GEMMTiling.roundUp(rows.count, mr) : min(Kernel.mc, GEMMTiling.roundUp(rows.count, mr))
        let kcAlloc = max(1, min(kcMax, kTotal))
        let buffers = _PackingArena.current().buffers(
            T.self, aCount: mcMax * kcAlloc, bCount: kcAlloc * (streaming ? 2 * max(nr, ncSmallM) : ncMax), scratchCount: 2 * mr * nr + nr)
        let packedA = buffers.a, packedB = buffers.b, scratch = buffers.scratch
        if streaming && kTotal > Kernel.shortK {
            smallM(p, rows: rows, cols: cols, kcMax: kcMax, packedA: packedA, packedB: packedB, scratch: scratch)
            return
        }

        var jc = cols.lowerBound
        while jc < cols.upperBound {
            let ncur = min(ncMax, cols.upperBound - jc)
            var pc = 0
            repeat {
                // The K partition starts at 0 for every tile: blocks [0, KC), [KC, 2KC), …
                let kcur = min(kcMax, kTotal - pc)
                let first = pc == 0, last = pc + kcur >= kTotal
                if streaming {
                    packA(p, i0: rows.lowerBound, mCount: rows.count, k0: pc, kCount: kcur, into: packedA)
                    streamingMacroKernel(p, packedA, packedB, i0: rows.lowerBound, mCount: rows.count, j0: jc, nCount: ncur,
                                         k0: pc, kCount: kcur, first: first, last: last, scratch: scratch)
                } else {
                    packB(p, k0: pc, kCount: kcur, j0: jc, nCount: ncur, into: packedB)
                    var ic = rows.lowerBound
                    while ic < rows.upperBound {
                        let mcur = min(mcMax, rows.upperBound - ic)
                        // Few columns: A read in place, as in `smallM` (only a ragged last panel packed).
                        let wholeRows = readsAInPlace(p, columns: cols.count) ? directRowCount(mcur, columns: cols.count) : 0
                        if wholeRows < mcur {
                            packA(p, i0: ic + wholeRows, mCount: mcur - wholeRows, k0: pc, kCount: kcur,
                                  into: packedA + wholeRows * kcur)
                        }
                        macroKernel(p, packedA, packedB, i0: ic, mCount: mcur, j0: jc, nCount: ncur, kCount: kcur, k0: pc,
                                    directRows: wholeRows, first: first, last: last, scratch: scratch)
                        ic += mcur
                    }
                }
                pc += kcur
            } while pc < kTotal
            jc += ncur
        }
    }

    /// Skinny M (every row in one A block) with K deeper than `shortK`: K blocks
    /// outermost, so A is packed once per K block, then B in KC×NC blocks small
    /// enough to stay in L2 (`ncSmallM`). C (M×N, small) is revisited once per K
    /// block; each element still sums its K blocks in ascending order with the same
    /// operations, so the bits are those of the other paths.
    ///
    /// With M ≈ 256 each B element feeds only M/MR micro-kernels, and B comes from
    /// memory: packed as a separate pass, B's reads stall on memory latency for ~15%
    /// of the time. So B is double-buffered and the next block is packed in slices
    /// between the micro-kernels of the current one (`overlappedMacroKernel`), its
    /// source prefetched by the micro-kernel just before.
    static func smallM(_ p: _GEMMProblem<T>, rows: Range<Int>, cols: Range<Int>, kcMax: Int,
                       packedA: UnsafeMutablePointer<T>, packedB: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>) {
        let kTotal = p.k
        let ncMax = min(ncSmallM, GEMMTiling.roundUp(cols.count, Kernel.nr))
        // Two blocks of at most min(kcMax, k) × ncMax, as `run` allocated.
        var current = packedB, spare = packedB + min(kcMax, kTotal) * ncMax
        var pc = 0, jc = cols.lowerBound
        var kcur = min(kcMax, kTotal), ncur = min(ncMax, cols.count)
        packB(p, k0: pc, kCount: kcur, j0: jc, nCount: ncur, into: current)
        // Few columns: each A value feeds few micro-kernels, so packing A costs more
        // than it saves; whole MR-row panels are read from A in place, and only a
        // ragged last panel is packed.
        let directA = readsAInPlace(p, columns: cols.count)
        let wholeRows = directA ? directRowCount(rows.count, columns: cols.count) : 0
        while true {
            if jc == cols.lowerBound && wholeRows < rows.count {
                packA(p, i0: rows.lowerBound + wholeRows, mCount: rows.count - wholeRows, k0: pc, kCount: kcur,
                      into: packedA + wholeRows * kcur)
            }
            // The block after this one: the next columns, or the first columns of the next K block.
            var nextK = pc, nextJ = jc + ncur
            if nextJ >= cols.upperBound {
                nextK = pc + kcur
                nextJ = cols.lowerBound
            }
            let hasNext = nextK < kTotal
            let nextKCount = hasNext ? min(kcMax, kTotal - nextK) : 0
            let nextNCount = hasNext ? min(ncMax, cols.upperBound - nextJ) : 0
            overlappedMacroKernel(p, packedA, current, i0: rows.lowerBound, mCount: rows.count, j0: jc, nCount: ncur,
                                  kCount: kcur, k0: pc, directRows: wholeRows, first: pc == 0, last: pc + kcur >= kTotal,
                                  scratch: scratch, next: spare, nextK0: nextK, nextKCount: nextKCount, nextJ0: nextJ,
                                  nextNCount: nextNCount)
            guard hasNext else { return }
            swap(&current, &spare)
            pc = nextK; jc = nextJ; kcur = nextKCount; ncur = nextNCount
        }
    }

    /// The depth of the K blocks for a sum of length k: k split into the fewest blocks
    /// of at most `cap`, balanced (so no block is a thin remainder) and rounded up to
    /// 16. A function of k alone: every tile of one problem uses the same partition.
    static func kcBlock(_ k: Int, cap: Int) -> Int {
        let blocks = max(1, (k + cap - 1) / cap)
        return min(cap, GEMMTiling.roundUp((k + blocks - 1) / blocks, 16))
    }

    /// Columns per packed B block in `smallM`: 64. With KC = 1024 the A block
    /// (~1 MiB at M = 256), the current B block and the one being packed (256 KiB
    /// each) then share the 2 MiB L2 without evicting each other. Measured
    /// (1 thread, CPU time, GFLOP/s) with 256 / 128 / 64 / 32 columns:
    /// 256×5000×16384 NN 142 / 155 / 155 / 153, 256×5000×3000 NT 125 / 140 / 148 / 149,
    /// 64×5000×16384 NN 107 / 117 / 123 / 116.
    static var ncSmallM: Int { 64 }

    /// Up to this many columns, `smallM` reads A in place instead of packing it.
    /// Measured (1 thread, CPU time, GFLOP/s, packed → in place): 256×40×512 84 → 99,
    /// 256×256×3000 146 → 154, 256×512×3000 150 → 154; but 256×5000×16384 155 → 126
    /// (rows 64 KiB apart thrash the cache sets when A is read in place for long).
    static var directAColumns: Int { 512 }

    /// Whether whole panels of op(A) are read in place for a tile this wide: op(A) = A
    /// (Aᵀ in place reads a new row of A per step: measured slower), at most
    /// `directAColumns` columns, and rows of A not a multiple of 4 KiB apart (then
    /// the 12 rows fall in the same cache sets: 256×384×16384 ran at 131 GFLOP/s in
    /// place against 147 packed, 256×384×16000 at 145 either way) unless there are at
    /// most 64 columns: each A panel then feeds only two or three micro-kernels, and
    /// packing it from those same cache sets costs more (packed → in place, 4 KiB
    /// rows, CPU time: Float 256×40×1024 82 → 108, 256×64×1024 115 → 149; Double
    /// 256×40×512 49 → 63, 256×64×512 60 → 72).
    @inline(__always)
    static func readsAInPlace(_ p: _GEMMProblem<T>, columns: Int) -> Bool {
        !p.transposeA && columns <= directAColumns && (columns <= 64 || (p.a.rowStride * MemoryLayout<T>.stride) % 4096 != 0)
    }

    /// How many of `rows` rows are read in place when A is: the whole MR-row panels,
    /// and a last panel of 4 or 8 rows too when every column tile is either NR wide or
    /// at most one vector (the four-row kernels take those in place; 256 rows leave 4,
    /// which packing cost as much as a whole panel of 12: 256×40×512 110 → 116 GFLOP/s).
    @inline(__always)
    static func directRowCount(_ rows: Int, columns: Int) -> Int {
        let whole = rows / Kernel.mr * Kernel.mr, rest = rows - whole
        let edge = columns % Kernel.nr
        return rest % 4 == 0 && (edge == 0 || edge <= V.lanes) ? rows : whole
    }
}
