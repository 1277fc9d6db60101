// GEMM: C = epilogue(alpha·op(A)·op(B) + beta·C) for Float and Double.
//
// Goals, in priority order:
//   1. Correct edge tiles: any m, n, k (including 0 and 1), strided views, all four
//      transpose combinations.
//   2. A fixed summation order: every element of C is computed by the same sequence
//      of floating-point operations whatever the tiling, tile order or thread count,
//      so `multiplyTile` over any `GEMMTiling` is bitwise identical to `multiply`.
//   3. Speed: one thread at ≥ 90% of the machine's FMA peak on large squares.
//
// Structure: the five loops of BLIS around one register-blocked micro-kernel per
// type (F. G. Van Zee and R. A. van de Geijn, "BLIS: A Framework for Rapidly
// Instantiating BLAS Functionality", ACM TOMS 41(3), 2015), with block sizes chosen
// as in T. M. Low, F. D. Igual, T. M. Smith and E. S. Quintana-Ortí, "Analytical
// Modeling Is Enough for High-Performance BLIS", ACM TOMS 43(2), 2016:
//   jc (NC columns of C; op(B) KC×NC packed into NR-column panels, L3)
//    pc (KC of K; the partition of K is global, starting at 0, never tile-relative)
//     ic (MC rows; op(A) MC×KC packed into MR-row panels, L2)
//      jr, ir (NR×MR micro-tiles; the KC×NR B micro-panel stays in L1)
// The code, one concern per file: GEMMKernel.swift (the kernel protocol and block
// sizes), GEMMProblem.swift (the checked problem as pointers), GEMMDriver.swift
// (loops jc, pc, ic), GEMMDriver+MacroKernel.swift (loops jr, ir),
// GEMMDriver+EdgeKernels.swift, GEMMDriver+Packing.swift, GEMM+ColumnTiles.swift,
// and the generated GEMM+MicroKernel.swift and GEMM+Transpose.swift
// (scripts/generators/).
// Departures from BLIS (each file lists its own):
//   - Row-major C: the micro-kernel's vectors run along rows of C (NR = 2 vectors),
//     A values are broadcast; BLIS's column-major kernels do the transpose of that.
//   - Edge micro-tiles run kernels with the micro-kernel's per-element arithmetic:
//     the full micro-kernel on zero-padded panels into a scratch tile that is then
//     copied out, or four-row and one-vector kernels straight into C.
//   - Skinny M (a batch of rows): one A block holds every row and B is packed just
//     ahead of its use, overlapped with the micro-kernels; with few columns A is
//     read in place; with op(A) = Aᵀ and few columns, column tiles vectorise along M.
//   - The epilogue (bias, activation, activation gradient) is applied per
//     micro-tile right after the last KC block, while the tile is in L1.
// Software prefetch, as in BLIS's assembly kernels, through LLVM's prefetch
// intrinsic (Prefetch.swift; Swift's standard library has none): the micro-kernel
// prefetches its A and B panels ahead and its C tile, packing prefetches rows of Aᵀ
// ahead, and for skinny M the next B block is fetched into L2 while the current one
// is computed (`_PrefetchStream`).

/// What a GEMM does to each element of C after the product is summed.
public enum GEMMEpilogue<T: KernelScalar>: Sendable {
    /// C = alpha·op(A)·op(B) + beta·C.
    case none
    /// C = act(alpha·op(A)·op(B) + beta·C + bias), `bias` a 1×n row vector (colStride 1).
    case bias(MatrixView<T>, Activation)
    /// C = act(alpha·op(A)·op(B) + beta·C).
    case activation(Activation)
    /// C = (alpha·op(A)·op(B) + beta·C) ⊙ act′(Y), Y = `output` (m×n, colStride 1) the
    /// activation's output: sigmoid y(1−y), tanh 1−y², relu (y > 0 ? 1 : 0).
    case activationGradient(Activation, output: MatrixView<T>)
}

/// General matrix multiply (BLAS `gemm`) with fused epilogues and a tiled entry point.
public enum GEMM {
    /// C (m×n) = epilogue(alpha·op(A)·op(B) + beta·C).
    ///
    /// ```swift
    /// // Y = relu(X·W + b)
    /// try GEMM.multiply(x, transposeA: false, w, transposeB: false, into: y, epilogue: .bias(b, .relu))
    /// ```
    ///
    /// - Parameters:
    ///   - a: A; op(A) is m×k (A is k×m when `transposeA`).
    ///   - b: B; op(B) is k×n (B is n×k when `transposeB`).
    ///   - c: C, m×n. All three views need `colStride == 1`; `rowStride` is the
    ///     leading dimension. C must not overlap A or B.
    ///   - alpha, beta: scalars; `beta == 0` means C is not read (NaNs in C are ignored).
    ///   - epilogue: applied to each element as it is stored.
    /// - Throws: `KernelError` naming the operand on any shape, stride or bounds mismatch.
    /// - Complexity: 2·m·n·k flops.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func multiply<T: KernelScalar>(
        _ a: MatrixView<T>, transposeA: Bool, _ b: MatrixView<T>, transposeB: Bool, into c: MatrixView<T>,
        alpha: T = 1, beta: T = 0, epilogue: GEMMEpilogue<T> = .none
    ) throws(KernelError) {
        try validate(a, transposeA, b, transposeB, c, epilogue)
        dispatch(a, transposeA, b, transposeB, c, alpha, beta, epilogue, rows: 0..<c.rows, cols: 0..<c.cols)
    }

    /// Computes only tile `tile` of `tiling`: the same result, bitwise, as the
    /// corresponding part of `multiply`, for any tiling, any order of tiles and any
    /// threads. Different tiles of one C may run concurrently.
    ///
    /// ```swift
    /// let t = GEMMTiling.automatic(m: m, n: n, k: k, targetTiles: 2)
    /// DispatchQueue.concurrentPerform(iterations: t.tileCount) { i in
    ///     try! GEMM.multiplyTile(a, transposeA: false, b, transposeB: false, into: c, tiling: t, tile: i)
    /// }
    /// ```
    ///
    /// - Parameters: as `multiply`, plus `tiling` (whose m, n, k must match) and
    ///   `tile` in `0..<tiling.tileCount`.
    /// - Throws: `KernelError` as `multiply`, or naming "tiling" / "tile".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func multiplyTile<T: KernelScalar>(
        _ a: MatrixView<T>, transposeA: Bool, _ b: MatrixView<T>, transposeB: Bool, into c: MatrixView<T>,
        alpha: T = 1, beta: T = 0, epilogue: GEMMEpilogue<T> = .none, tiling: GEMMTiling, tile: Int
    ) throws(KernelError) {
        try validate(a, transposeA, b, transposeB, c, epilogue)
        let k = transposeA ? a.rows : a.cols
        guard tiling.m == c.rows, tiling.n == c.cols, tiling.k == k else {
            throw KernelError("""
                GEMM: tiling is for \(tiling.m)×\(tiling.n)×\(tiling.k) (m×n×k), \
                but the operands give \(c.rows)×\(c.cols)×\(k)
                """)
        }
        guard tile >= 0, tile < tiling.tileCount else {
            throw KernelError("GEMM: tile \(tile) is out of range 0..<\(tiling.tileCount)")
        }
        let (rows, cols) = tiling.tile(tile)
        dispatch(a, transposeA, b, transposeB, c, alpha, beta, epilogue, rows: rows, cols: cols)
    }

    @inline(never)
    static func validate<T>(
        _ a: MatrixView<T>, _ transposeA: Bool, _ b: MatrixView<T>, _ transposeB: Bool, _ c: MatrixView<T>,
        _ epilogue: GEMMEpilogue<T>
    ) throws(KernelError) {
        let op = "GEMM"
        // Three calls, not a loop over [(a, "A"), …]: that array and its generic tuple
        // type cost ~0.4 µs per call (allocation and a metadata lookup).
        func check(_ v: MatrixView<T>, _ name: String) throws(KernelError) {
            try _checkBounds(v, name, op)
            guard v.colStride == 1 || v.cols <= 1 else {
                throw KernelError("GEMM: \(name) needs colStride 1 (row-major; use the transpose flags instead), got \(v.describe(name))")
            }
        }
        try check(a, "A")
        try check(b, "B")
        try check(c, "C")
        guard c.rows <= 1 || c.rowStride >= c.cols else {
            throw KernelError("GEMM: C rows overlap: rowStride \(c.rowStride) < cols \(c.cols)")
        }
        let (am, ak) = transposeA ? (a.cols, a.rows) : (a.rows, a.cols)
        let (bk, bn) = transposeB ? (b.cols, b.rows) : (b.rows, b.cols)
        let ta = transposeA ? "op(A) = Aᵀ" : "op(A) = A", tb = transposeB ? "op(B) = Bᵀ" : "op(B) = B"
        guard am == c.rows else {
            throw KernelError("""
                GEMM: A is \(a.rows)×\(a.cols), \(ta) has \(am) rows, \
                expected \(c.rows) (the rows of C, \(c.rows)×\(c.cols))
                """)
        }
        guard bn == c.cols else {
            throw KernelError("""
                GEMM: B is \(b.rows)×\(b.cols), \(tb) has \(bn) columns, \
                expected \(c.cols) (the columns of C, \(c.rows)×\(c.cols))
                """)
        }
        guard bk == ak else {
            throw KernelError("""
                GEMM: B is \(b.rows)×\(b.cols), \(tb) has \(bk) rows, \
                expected \(ak) (the columns of \(ta), A \(a.rows)×\(a.cols))
                """)
        }
        switch epilogue {
        case .none, .activation:
            break
        case .bias(let bias, _):
            try _checkBounds(bias, "bias", op)
            guard bias.rows == 1, bias.cols == c.cols, bias.colStride == 1 || bias.cols <= 1 else {
                throw KernelError("GEMM: bias must be a 1×\(c.cols) row vector with colStride 1, got \(bias.describe("bias"))")
            }
        case .activationGradient(_, let y):
            try _checkShape(y, "output", rows: c.rows, cols: c.cols, op)
            guard y.colStride == 1 || y.cols <= 1 else {
                throw KernelError("GEMM: output (the activation's output Y) needs colStride 1, got \(y.describe("output"))")
            }
        }
    }

    /// Lowers the checked views to pointers (one step) and enters the concrete driver.
    static func dispatch<T: KernelScalar>(
        _ a: MatrixView<T>, _ transposeA: Bool, _ b: MatrixView<T>, _ transposeB: Bool, _ c: MatrixView<T>,
        _ alpha: T, _ beta: T, _ epilogue: GEMMEpilogue<T>, rows: Range<Int>, cols: Range<Int>
    ) {
        if rows.isEmpty || cols.isEmpty { return }
        var bias: MatrixView<T>? = nil, output: MatrixView<T>? = nil
        var act = Activation.none, kind = _EpilogueKind.none
        switch epilogue {
        case .none: break
        case .bias(let v, let f): bias = v; act = f; kind = .bias
        case .activation(let f): act = f; kind = .activation
        case .activationGradient(let f, let y): output = y; act = f; kind = .activationGradient
        }
        let empty = MatrixView<T>(a.buffer, offset: 0, rows: 0, cols: 0)
        a.withUnsafeMatrix { pa in
        b.withUnsafeMatrix { pb in
        c.withUnsafeMatrix { pc in
        (bias ?? empty).withUnsafeMatrix { pbias in
        (output ?? empty).withUnsafeMatrix { py in
            let problem = _GEMMProblem(a: pa, transposeA: transposeA, b: pb, transposeB: transposeB, c: pc,
                                       alpha: alpha, beta: beta, epilogue: kind, activation: act,
                                       bias: pbias.base, output: py)
            switch _KernelKind(T.self) {
            case .float:
                _GEMMDriver<_FloatGEMMKernel>.run(problem.cast(to: Float.self), rows: rows, cols: cols)
            case .double:
                _GEMMDriver<_DoubleGEMMKernel>.run(problem.cast(to: Double.self), rows: rows, cols: cols)
            }
        }}}}}
    }
}
