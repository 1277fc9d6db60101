import Foundation

/// How `compile` builds and runs a program.
public struct CompileOptions: Sendable {
    /// Worker threads of the executor (the calling thread counts as one).
    /// Default: the active processor count. At least 1 (less throws at `compile`);
    /// more than `maximumWorkers` run as `maximumWorkers` (results are bitwise the
    /// same for any worker count, so this only bounds the threads started).
    public var workers: Int?
    /// Target number of tile tasks per large matmul. Default: 1 with one worker,
    /// otherwise 2 × workers: each tile of a skinny matmul packs all of A, so more
    /// tiles cost work (seed step, batch 256, 2 workers: 0.367–0.378 s with 4 tiles,
    /// 0.376–0.379 s with 8), while 2 per worker still lets stealing even out a slow
    /// core. Tiling never changes results (K is never split).
    public var tilesPerMatmul: Int?
    /// Matmuls below twice this many flops stay one task; tiles are at least this big.
    public var minimumTileFlops: Double = 8e6
    /// With the default worker count (`workers` nil), a program runs on at most one
    /// worker per this many seconds of estimated work per call (its tasks' cost hints
    /// plus a fixed cost per task), so a small step does not pay for waking threads it
    /// cannot use. Default 50 µs; 0 runs every program on all workers. An explicit
    /// `workers` is always honoured. Results are the same bits either way.
    public var minimumWorkPerWorker: Double = 50e-6
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
    /// At most this many shape-specialised programs stay cached per function (least
    /// recently used first out). Default 16; at least 1.
    public var programCacheLimit: Int = 16
    /// Programs are evicted (least recently used first, never the one running) while
    /// the cache holds more than this many bytes: the programs' output, snapshot and
    /// staging buffers plus the arenas they share. Default 256 MiB.
    public var programCacheBytes: Int = 256 << 20

    /// The largest worker count a function starts: 4 × the active processor count,
    /// at least 8 (so tests of 1, 2, 4 and 8 workers run as asked on small machines).
    public static var maximumWorkers: Int { max(8, 4 * ProcessInfo.processInfo.activeProcessorCount) }

    /// The worker count a function runs with, after checking every option.
    /// - Throws: `CompileError` (`.invalidOption`) for fewer than one worker, fewer
    ///   than one tile per matmul or element per task, a tile size that is not a
    ///   positive finite number, or a cache limit below one program.
    func effectiveWorkers() throws -> Int {
        func invalid(_ what: String) -> CompileError { CompileError(message: "compile: \(what)", kind: .invalidOption) }
        if let tiles = tilesPerMatmul, tiles < 1 { throw invalid("tilesPerMatmul must be at least 1, got \(tiles)") }
        guard elementsPerTask >= 1 else { throw invalid("elementsPerTask must be at least 1, got \(elementsPerTask)") }
        guard minimumTileFlops.isFinite && minimumTileFlops > 0 else {
            throw invalid("minimumTileFlops must be a positive finite number, got \(minimumTileFlops)")
        }
        guard programCacheLimit >= 1 else { throw invalid("programCacheLimit must be at least 1, got \(programCacheLimit)") }
        guard minimumWorkPerWorker.isFinite && minimumWorkPerWorker >= 0 else {
            throw invalid("minimumWorkPerWorker must be a finite number of seconds ≥ 0, got \(minimumWorkPerWorker)")
        }
        if checkNumerics { return 1 }
        let requested = workers ?? ProcessInfo.processInfo.activeProcessorCount
        guard requested >= 1 else {
            throw CompileError(message: "compile: workers must be at least 1, got \(requested)", kind: .invalidOption)
        }
        return min(requested, CompileOptions.maximumWorkers)
    }

    public init(workers: Int? = nil, tilesPerMatmul: Int? = nil, checkNumerics: Bool = false) {
        self.workers = workers
        self.tilesPerMatmul = tilesPerMatmul
        self.checkNumerics = checkNumerics
    }
}
