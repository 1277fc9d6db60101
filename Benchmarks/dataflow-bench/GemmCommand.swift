import DataflowKernels
import DataflowScheduler
import Foundation

/// `dataflow-bench gemm`: GFLOP/s of the Swift GEMM on square and seed-network
/// shapes, as a fraction of this machine's measured single-core FMA peak.
enum GemmCommand: BenchCommand {
    static let summary = "matmul GFLOP/s (square and seed-network shapes at batch 256) against the measured FMA peak"
    static let spec = OptionSpec([
        .option("threads", "comma-separated thread counts; N > 1 runs the tiled GEMM over N threads", default: "1"),
        .option("dtype", "float, double or both", default: "float"),
        .option("reps", "timed repetitions per shape (median reported; at most 3 for huge shapes, at least 51 under 0.1 GFLOP)",
                default: "5"),
        .option("warmup", "untimed repetitions per shape", default: "1"),
        .option("sizes", "square, seed or all (all adds 4096²)", default: "all"),
        .option("shapes", "instead of --sizes: comma-separated MxNxK[:OP] shapes, OP one of NN, TN, NT, TT (e.g. 256x5000x3000:NT)"),
        .flag("json", "one JSON object per line instead of a table"),
        .flag("cpu-time", "time with this process's CPU time instead of wall time (one thread only): steadier on a busy machine"),
    ])

    struct Shape {
        var name: String
        var m: Int, n: Int, k: Int
        var transA = false, transB = false
    }

    static func shapes(_ which: String) -> [Shape] {
        var list: [Shape] = []
        if which == "square" || which == "all" {
            for s in [512, 1024, 2048] + (which == "all" ? [4096] : []) {
                list.append(Shape(name: "square", m: s, n: s, k: s))
            }
        }
        if which == "seed" || which == "all" {
            let widths = [16384, 5000, 3000, 512, 40]
            for l in 0..<4 {   // forward X·W
                list.append(Shape(name: "fwd", m: 256, n: widths[l + 1], k: widths[l]))
            }
            for l in 0..<4 {   // weight gradient Xᵀ·dZ
                list.append(Shape(name: "dW Xᵀ·dZ", m: widths[l], n: widths[l + 1], k: 256, transA: true))
            }
            for l in 1..<4 {   // input gradient dZ·Wᵀ
                list.append(Shape(name: "dX dZ·Wᵀ", m: 256, n: widths[l], k: widths[l + 1], transB: true))
            }
        }
        return list
    }

    static func run(_ options: Options) throws {
        let threadCounts = try options.intList("threads", range: 1...256) ?? [1]
        let dtype = try options.choice("dtype", among: ["float", "double", "both"]) ?? "float"
        let reps = try options.int("reps", range: 1...1000) ?? 5
        let warmup = try options.int("warmup", range: 0...1000) ?? 1
        let sizes = try options.choice("sizes", among: ["square", "seed", "all"]) ?? "all"
        let shapeList = try options.string("shapes").map(parseShapes) ?? shapes(sizes)
        let json = options.flag("json")
        cpuTime = options.flag("cpu-time")
        if cpuTime && threadCounts != [1] { throw CLIError("--cpu-time measures one thread only; drop --threads") }

        progress("measuring the single-core FMA peak")
        let peakFloat = peak(Float.self) / 1e9
        let peakDouble = peak(Double.self) / 1e9
        if !json {
            print(String(format: "single-core FMA peak: %.1f GFLOP/s (Float), %.1f GFLOP/s (Double)", peakFloat, peakDouble))
            print("shape            m      n      k  op     dtype  thr     ms   GFLOP/s  of peak")
        }
        for type in dtype == "both" ? ["float", "double"] : [dtype] {
            for shape in shapeList {
                for threads in threadCounts {
                    let (ms, gflops): (Double, Double)
                    if type == "float" {
                        (ms, gflops) = try measure(Float.self, shape, threads: threads, reps: reps, warmup: warmup)
                    } else {
                        (ms, gflops) = try measure(Double.self, shape, threads: threads, reps: reps, warmup: warmup)
                    }
                    let peak = (type == "float" ? peakFloat : peakDouble) * Double(threads)
                    let fraction = gflops / peak
                    if json {
                        print(jsonLine(["m": shape.m, "n": shape.n, "k": shape.k, "transA": shape.transA, "transB": shape.transB,
                                        "dtype": type, "threads": threads, "gflops": round1(gflops), "ms": round1(ms),
                                        "peak_fraction": (fraction * 1000).rounded() / 1000]))
                    } else {
                        let op = (shape.transA ? "T" : "N") + (shape.transB ? "T" : "N")
                        print(String(format: "%@ %6d %6d %6d  %@     %@ %3d %8.1f %8.1f   %5.1f%%",
                                     shape.name.padding(toLength: 12, withPad: " ", startingAt: 0), shape.m, shape.n, shape.k, op,
                                     type.padding(toLength: 6, withPad: " ", startingAt: 0), threads, ms, gflops, fraction * 100))
                    }
                }
            }
        }
    }

    /// Parses `MxNxK[:OP]` items, e.g. `256x5000x3000:NT`.
    static func parseShapes(_ text: String) throws -> [Shape] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: ":")
            let dims = parts[0].split(separator: "x").compactMap { Int($0) }
            let op = parts.count > 1 ? String(parts[1]).uppercased() : "NN"
            guard dims.count == 3, dims.allSatisfy({ $0 > 0 }), ["NN", "TN", "NT", "TT"].contains(op) else {
                throw CLIError("--shapes: expected MxNxK[:OP] with OP in NN, TN, NT, TT, got '\(item)'")
            }
            return Shape(name: "custom", m: dims[0], n: dims[1], k: dims[2], transA: op.hasPrefix("T"), transB: op.hasSuffix("T"))
        }
    }

    /// Whether `clock()` is process CPU time (`--cpu-time`) rather than wall time.
    nonisolated(unsafe) static var cpuTime = false

    static func clock() -> Double {
        guard cpuTime else { return now() }
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// `PeakFLOPS.measure`, or under `--cpu-time` the best of three runs of the same
    /// loop timed with CPU time.
    static func peak<T: KernelScalar>(_ type: T.Type) -> Double {
        guard cpuTime else { return PeakFLOPS.measure(type) }
        let iterations = 20_000_000, lanes = MemoryLayout<T>.size == 4 ? 16 : 8
        var best = 0.0
        for _ in 0..<3 {
            let t0 = clock()
            _ = PeakFLOPS.measure(type, iterations: iterations, runs: 1)
            best = max(best, Double(iterations) * 12 * Double(lanes) * 2 / (clock() - t0))
        }
        return best
    }

    static func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }

    /// Median milliseconds and GFLOP/s of one shape.
    static func measure<T: KernelScalar>(_: T.Type, _ s: Shape, threads: Int, reps: Int, warmup: Int) throws -> (Double, Double) {
        progress("\(T.self) \(s.m)×\(s.n)×\(s.k) \(s.transA ? "T" : "N")\(s.transB ? "T" : "N") threads \(threads)")
        let (ar, ac) = s.transA ? (s.k, s.m) : (s.m, s.k)
        let (br, bc) = s.transB ? (s.n, s.k) : (s.k, s.n)
        let a = filled(T.self, rows: ar, cols: ac, seed: 1)
        let b = filled(T.self, rows: br, cols: bc, seed: 2)
        let c = MatrixView(TensorBuffer<T>(count: s.m * s.n), rows: s.m, cols: s.n)
        let flops = 2.0 * Double(s.m) * Double(s.n) * Double(s.k)
        // Keep the default run short: about 4 s of timed work per shape at most; shapes
        // under 1e8 flops (~0.1 ms) take at least 51 reps after at least 5 warm-ups
        // (5 reps of 0.1 ms varied by 20% between runs here). gemm.py does the same.
        let repsHere = flops > 1e11 ? min(reps, 3) : flops < 1e8 ? max(reps, 51) : reps
        let warmupHere = flops < 1e8 ? max(warmup, 5) : warmup
        // N > 1 threads: one tile task per thread on the work-stealing executor (its
        // workers stay awake between runs, unlike a Dispatch split, whose wake-ups
        // showed up on millisecond-sized GEMMs).
        let tiling = GEMMTiling.automatic(m: s.m, n: s.n, k: s.k, targetTiles: threads, transposeA: s.transA)
        let executor = Executor(workers: threads)
        var graph = TaskGraph()
        for t in 0..<tiling.tileCount {
            graph.addTask("tile \(t)") {
                try GEMM.multiplyTile(a, transposeA: s.transA, b, transposeB: s.transB, into: c, tiling: tiling, tile: t)
            }
        }
        let once = { () throws -> Void in
            if threads == 1 {
                try GEMM.multiply(a, transposeA: s.transA, b, transposeB: s.transB, into: c)
            } else {
                try executor.run(graph)
            }
        }
        for _ in 0..<warmupHere { try once() }
        var times: [Double] = []
        for _ in 0..<repsHere {
            let t0 = clock()
            try once()
            times.append(clock() - t0)
        }
        let t = median(times)
        return (t * 1000, flops / t / 1e9)
    }

    static func filled<T: KernelScalar>(_: T.Type, rows: Int, cols: Int, seed: UInt64) -> MatrixView<T> {
        let buffer = TensorBuffer<T>(count: rows * cols)
        var x = seed &* 0x9E37_79B9_7F4A_7C15
        var values = [T](repeating: 0, count: rows * cols)
        for i in values.indices {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            values[i] = T(Double(x >> 40) / Double(1 << 24) - 0.5)
        }
        buffer.assign(values)
        return MatrixView(buffer, rows: rows, cols: cols)
    }
}
