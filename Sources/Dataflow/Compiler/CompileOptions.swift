/// How `compile` builds and runs a program.
public struct CompileOptions: Sendable {
    /// Worker threads of the executor (the calling thread counts as one).
    /// Default: the active processor count.
    public var workers: Int?
    /// Target number of tile tasks per large matmul. Default: 1 with one worker,
    /// otherwise 2 × workers: each tile of a skinny matmul packs all of A, so more
    /// tiles cost work (seed step, batch 256, 2 workers: 0.367–0.378 s with 4 tiles,
    /// 0.376–0.379 s with 8), while 2 per worker still lets stealing even out a slow
    /// core. Tiling never changes results (K is never split).
    public var tilesPerMatmul: Int?
    /// Matmuls below twice this many flops stay one task; tiles are at least this big.
    public var minimumTileFlops: Double = 8e6
    /// Element-wise ops over more elements than this are split into row ranges.
    public var elementsPerTask: Int = 1 << 16
    /// Opt-in guard mode: after every op, look for NaN or ±Inf and throw a
    /// `RuntimeError` naming the first op that produced one. Runs the program on one
    /// worker so that "first" is the first in topological order. Slow.
    public var checkNumerics: Bool = false
    /// Verify the IR after every pass (always on in debug builds).
    public var verifyPasses: Bool = false
    /// Apply graph rewrites that trade exactness for stability (log-softmax,
    /// fused cross-entropy). On by default.
    public var stabilize: Bool = true

    public init(workers: Int? = nil, tilesPerMatmul: Int? = nil, checkNumerics: Bool = false) {
        self.workers = workers
        self.tilesPerMatmul = tilesPerMatmul
        self.checkNumerics = checkNumerics
    }
}
