// The BLIS loops around the micro-kernel (see GEMM.swift for the goals and the
// papers). Everything here is generic over `_GEMMKernel` and instantiated only with
// the two concrete kernels, so it is fully specialised.

/// A register-blocked micro-kernel and its block sizes.
protocol _GEMMKernel {
    associatedtype Scalar: KernelScalar
    associatedtype Vector: _KernelVector where Vector.Scalar == Scalar
    /// Rows of a micro-tile (A values broadcast per step).
    static var mr: Int { get }
    /// Columns of a micro-tile (a multiple of the vector width).
    static var nr: Int { get }
    /// Depth of one K block; the partition of K into KC blocks is global.
    static var kc: Int { get }
    /// Rows of C per packed A block (a multiple of mr).
    static var mc: Int { get }
    /// Columns of C per packed B block (a multiple of nr).
    static var nc: Int { get }
    /// Up to this many rows of C, one A block holds all of them and B is packed
    /// one micro-panel at a time, just ahead of its use (see `streamingMacroKernel`).
    static var mcStreaming: Int { get }
    /// K blocks up to this deep run the macro-kernel in row strips (see `macroKernel`).
    static var shortK: Int { get }
    static func microKernel(k: Int, a: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>, c: UnsafeMutablePointer<Scalar>,
                            ldc: Int, alpha: Scalar, beta: Scalar, readC: Bool, prefetch: inout _PrefetchStream)
    /// dst[i·ldd + j] = src[j·ld + i] for i, j in 0..<Vector.lanes (GEMM+Transpose.swift).
    static func transposeBlock(_ src: UnsafePointer<Scalar>, ld: Int, _ dst: UnsafeMutablePointer<Scalar>, ldd: Int)
    /// panel[q·MR + r] = src[r·ld + q] for r in 0..<MR, q in 0..<count: one A panel
    /// from MR full rows (GEMM+Transpose.swift).
    static func packRows(_ src: UnsafePointer<Scalar>, ld: Int, count: Int, into panel: UnsafeMutablePointer<Scalar>)
    /// Computes C[rows, cols] vectorised along M when op(A) = Aᵀ and there are few
    /// columns and returns true, or returns false at once (the packed path then does
    /// the tile). GEMM+ColumnTiles.swift.
    static func columnTiles(_ p: _GEMMProblem<Scalar>, rows: Range<Int>, cols: Range<Int>) -> Bool
}

/// Float: 12×32 micro-tiles (24 zmm accumulators). Block sizes: Low et al. would put
/// the KC×NR B micro-panel in the 48 KiB L1d (KC ≈ 256), but measured on this
/// machine (Sapphire-Rapids-class, 2 MiB L2) KC = 1024 is 15–20% faster on 2048²
/// and the skinny seed shapes: the C tile is loaded and stored 4× less often, and
/// the B micro-panel (128 KiB) and A micro-panel stream from L2 fast enough.
/// The MC×KC A block (~1 MiB) sits in L2, the KC×NC B block (8 MiB) in L3
/// (NC = 2048 beats 4096 by ~6% on 4096×4096×1024, neutral elsewhere; 1024 loses
/// 3–5%). KC is a cap: see `kcBlock`.
enum _FloatGEMMKernel: _GEMMKernel {
    typealias Scalar = Float
    typealias Vector = SIMD16<Float>
    static var mr: Int { 12 }
    static var nr: Int { 32 }
    static var kc: Int { 1024 }
    static var mc: Int { 240 }
    static var nc: Int { 2048 }
    static var mcStreaming: Int { 480 }
    static var shortK: Int { 256 }
}

/// Double: 12×16 micro-tiles (24 zmm accumulators), same reasoning with 8-byte
/// elements (KC = 512 measured best: 256 loses ~10% on 2048², 1024 on skinny shapes).
enum _DoubleGEMMKernel: _GEMMKernel {
    typealias Scalar = Double
    typealias Vector = SIMD8<Double>
    static var mr: Int { 12 }
    static var nr: Int { 16 }
    static var kc: Int { 512 }
    static var mc: Int { 120 }
    static var nc: Int { 2048 }
    static var mcStreaming: Int { 384 }
    static var shortK: Int { 128 }
}

enum _EpilogueKind {
    case none, bias, activation, activationGradient
}

/// A checked GEMM lowered to pointers.
struct _GEMMProblem<T>: @unchecked Sendable {
    var a: _UnsafeMatrix<T>
    var transposeA: Bool
    var b: _UnsafeMatrix<T>
    var transposeB: Bool
    var c: _UnsafeMatrix<T>
    var alpha: T
    var beta: T
    var epilogue: _EpilogueKind
    var activation: Activation
    /// Start of the bias row (colStride 1); unused unless `epilogue == .bias`.
    var bias: UnsafeMutablePointer<T>
    /// The activation output Y; unused unless `epilogue == .activationGradient`.
    var output: _UnsafeMatrix<T>

    var k: Int { transposeA ? a.rows : a.cols }

    func cast<U>(to _: U.Type) -> _GEMMProblem<U> {
        _GEMMProblem<U>(a: a.cast(to: U.self), transposeA: transposeA, b: b.cast(to: U.self), transposeB: transposeB,
                        c: c.cast(to: U.self), alpha: unsafeBitCast(alpha, to: U.self), beta: unsafeBitCast(beta, to: U.self),
                        epilogue: epilogue, activation: activation,
                        bias: UnsafeMutableRawPointer(bias).assumingMemoryBound(to: U.self), output: output.cast(to: U.self))
    }
}

/// How a micro-kernel reads op(A) in place: value (r, p) of a panel at
/// `start[r·rs + p·step]` (op(A) = A: rs = row stride, step 1; op(A) = Aᵀ: rs 1,
/// step = row stride).
struct _InPlaceA {
    var rs: Int
    var step: Int

    @inline(__always)
    init<T>(_ p: _GEMMProblem<T>) {
        (rs, step) = p.transposeA ? (1, p.a.rowStride) : (p.a.rowStride, 1)
    }

    /// op(A)[row, k0].
    @inline(__always)
    static func start<T>(_ p: _GEMMProblem<T>, row: Int, k0: Int) -> UnsafePointer<T> {
        UnsafePointer(p.transposeA ? p.a.at(k0, row) : p.a.at(row, k0))
    }
}

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
                                  scratch: scratch, next: spare, nextK0: nextK, nextKCount: nextKCount, nextJ0: nextJ, nextNCount: nextNCount)
            guard hasNext else { return }
            swap(&current, &spare)
            pc = nextK; jc = nextJ; kcur = nextKCount; ncur = nextNCount
        }
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

    /// The depth of the K blocks for a sum of length k: k split into the fewest blocks
    /// of at most `cap`, balanced (so no block is a thin remainder) and rounded up to
    /// 16. A function of k alone: every tile of one problem uses the same partition.
    static func kcBlock(_ k: Int, cap: Int) -> Int {
        let blocks = max(1, (k + cap - 1) / cap)
        return min(cap, GEMMTiling.roundUp((k + blocks - 1) / blocks, 16))
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
        store(0, c0_0, c0_1); store(1, c1_0, c1_1); store(2, c2_0, c2_1); store(3, c3_0, c3_1); store(4, c4_0, c4_1); store(5, c5_0, c5_1)
        store(6, c6_0, c6_1); store(7, c7_0, c7_1); store(8, c8_0, c8_1); store(9, c9_0, c9_1); store(10, c10_0, c10_1); store(11, c11_0, c11_1)
    }

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

    // MARK: Packing

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
}


