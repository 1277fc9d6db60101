import DataflowScheduler
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `dataflow-bench smallstep` (issue 15): a small training step as a task graph, the
/// scheduler alone, no tensors.
/// Shaped like an MLP step with 4-way tiles: forward tiles, a serial loss chain,
/// backward tiles and per-parameter updates; each task spins a fixed amount of
/// arithmetic (5–50 µs at scale 1).
enum SmallStep {
    /// Floating-point iterations per microsecond on this machine (calibrated once).
    nonisolated(unsafe) static var itersPerMicrosecond: Double = 0

    @inline(never)
    static func spin(_ iterations: Int) -> Double {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<max(0, iterations) {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        }
        // A side effect, so the work is neither dropped nor moved across the clock reads.
        spinSink.store(x, ordering: .relaxed)
        return Double(x >> 11)
    }
    static let spinSink = Atomic<UInt64>(0)

    static func calibrate() {
        var best = Double.infinity
        let n = 2_000_000
        for _ in 0..<7 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = spin(n)
            let t1 = DispatchTime.now().uptimeNanoseconds
            if r == 0 { print("") }
            best = min(best, Double(t1 - t0) / 1000)
        }
        itersPerMicrosecond = Double(n) / best
    }

    /// Counts tasks and the tasks that ran off the calling thread.
    final class Counters: Sendable {
        let tasks = Atomic<Int>(0)
        let offCaller = Atomic<Int>(0)
        let caller = Atomic<UInt>(0)
        let sink = Atomic<Int>(0)
    }

    static func thread() -> UInt {
        #if canImport(Darwin)
        return UInt(bitPattern: pthread_self())
        #else
        return UInt(pthread_self())
        #endif
    }

    /// Builds the step graph; returns it and its serial work in µs.
    static func build(scale: Double, counters: Counters) -> (TaskGraph, Double) {
        var g = TaskGraph()
        var total = 0.0
        func task(_ name: String, _ micros: Double) -> TaskID {
            let iters = Int(micros * scale * itersPerMicrosecond)
            total += micros * scale
            return g.addTask(name) {
                let r = SmallStep.spin(iters)
                counters.tasks.wrappingAdd(1, ordering: .relaxed)
                if SmallStep.thread() != counters.caller.load(ordering: .relaxed) {
                    counters.offCaller.wrappingAdd(1, ordering: .relaxed)
                }
                if r == 0 { counters.sink.store(1, ordering: .relaxed) }
            }
        }
        let tiles = 4
        let load = task("load", 5)
        var fwd1: [TaskID] = []
        var act1: [TaskID] = []
        for _ in 0..<tiles {
            let m = task("fwd1", 40)
            g.addDependency(load, m)
            let a = task("act1", 10)
            g.addDependency(m, a)
            fwd1.append(m)
            act1.append(a)
        }
        let fwd2 = task("fwd2", 20)
        for a in act1 { g.addDependency(a, fwd2) }
        let softmax = task("softmax", 5)
        g.addDependency(fwd2, softmax)
        let loss = task("loss", 5)
        g.addDependency(softmax, loss)
        let dlogits = task("dlogits", 5)
        g.addDependency(loss, dlogits)
        let dW2 = task("dW2", 20)
        g.addDependency(dlogits, dW2)
        let db2 = task("db2", 5)
        g.addDependency(dlogits, db2)
        var back: [TaskID] = []
        for i in 0..<tiles {
            let dh = task("dH", 15)
            g.addDependency(dlogits, dh)
            let r = task("reluBack", 8)
            g.addDependency(dh, r)
            g.addDependency(act1[i], r)
            back.append(r)
        }
        let db1 = task("db1", 5)
        for r in back { g.addDependency(r, db1) }
        for i in 0..<tiles {
            let dW1 = task("dW1", 30)
            for r in back { g.addDependency(r, dW1) }
            let u = task("sgdW1", 10)
            g.addDependency(dW1, u)
            g.addDependency(fwd1[i], u)
        }
        let uW2 = task("sgdW2", 10)
        g.addDependency(dW2, uW2)
        g.addDependency(fwd2, uW2)
        let ub1 = task("sgdb1", 5)
        g.addDependency(db1, ub1)
        let ub2 = task("sgdb2", 5)
        g.addDependency(db2, ub2)
        return (g, total)
    }

    struct Usage {
        var cpu: Double
        var voluntary: Int
        var involuntary: Int
        static func now() -> Usage {
            var u = rusage()
            #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &u)
            #else
            getrusage(RUSAGE_SELF, &u)
            #endif
            let cpu = Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
            return Usage(cpu: cpu, voluntary: Int(u.ru_nvcsw), involuntary: Int(u.ru_nivcsw))
        }
    }

    struct Result {
        var workers: Int
        var tasks: Int
        var serialMicros: Double
        var medianMicros: Double
        var p90Micros: Double
        var cpuMicrosPerStep: Double
        var voluntaryPerStep: Double
        var involuntaryPerStep: Double
        var offCallerShare: Double
    }

    /// Runs `steps` steps back to back on a fresh executor, with `gapMicros` of caller
    /// work between steps (a training loop reading its loss).
    static func measure(workers: Int, steps: Int, scale: Double, gapMicros: Double) throws -> Result {
        if itersPerMicrosecond == 0 { calibrate() }
        let counters = Counters()
        counters.caller.store(thread(), ordering: .relaxed)
        let (graph, serial) = build(scale: scale, counters: counters)
        let executor = Executor(workers: workers)
        let gapIters = Int(gapMicros * itersPerMicrosecond)
        for _ in 0..<50 { try executor.run(graph); _ = spin(gapIters) }
        counters.tasks.store(0, ordering: .relaxed)
        counters.offCaller.store(0, ordering: .relaxed)
        var samples: [Double] = []
        samples.reserveCapacity(steps)
        let u0 = Usage.now()
        for _ in 0..<steps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try executor.run(graph)
            let t1 = DispatchTime.now().uptimeNanoseconds
            samples.append(Double(t1 - t0) / 1000)
            if spin(gapIters) == 0 { counters.sink.store(2, ordering: .relaxed) }
        }
        let u1 = Usage.now()
        samples.sort()
        let n = Double(steps)
        return Result(
            workers: workers, tasks: graph.count, serialMicros: serial,
            medianMicros: samples[samples.count / 2], p90Micros: samples[samples.count * 9 / 10],
            cpuMicrosPerStep: (u1.cpu - u0.cpu) * 1e6 / n,
            voluntaryPerStep: Double(u1.voluntary - u0.voluntary) / n,
            involuntaryPerStep: Double(u1.involuntary - u0.involuntary) / n,
            offCallerShare: Double(counters.offCaller.load(ordering: .relaxed)) / Double(max(1, counters.tasks.load(ordering: .relaxed))))
    }
}

enum SmallStepCommand: BenchCommand {
    static let summary = "issue 15: a 35-task MLP-step-shaped graph (5–50 µs busy tasks) re-run back to back; median step, CPU time and context switches per step for each worker count"
    static let spec = OptionSpec([
        .option("workers", "comma-separated worker counts, alternated over the rounds", default: "1,2"),
        .option("steps", "timed steps per measurement", default: "2000"),
        .option("rounds", "rounds (each runs every worker count once, in a fresh executor)", default: "3"),
        .option("scale", "multiplies every task's work (1: 542 µs per step; 0.12: 65 µs)", default: "1"),
        .option("gap", "µs of caller work between two steps", default: "10"),
    ])

    static func run(_ options: Options) throws {
        let workerList = try options.intList("workers", range: 1...256) ?? [1, 2]
        let steps = try options.int("steps", range: 10...10_000_000) ?? 2000
        let rounds = try options.int("rounds", range: 1...1000) ?? 3
        guard let scale = Double(options.string("scale") ?? "1"), scale > 0, scale < 1000 else {
            throw CLIError("option '--scale' expects a number in (0, 1000)")
        }
        guard let gap = Double(options.string("gap") ?? "10"), gap >= 0, gap < 1_000_000 else {
            throw CLIError("option '--gap' expects µs in [0, 1e6)")
        }
        print("round workers  median µs   p90 µs  cpu µs/step  vol.csw/step  invol.csw/step  off-caller")
        for round in 0..<rounds {
            for workers in workerList {
                let r = try SmallStep.measure(workers: workers, steps: steps, scale: scale, gapMicros: gap)
                print(String(format: "%5d %7d %10.1f %8.1f %12.1f %13.3f %15.3f %11.2f",
                             round, workers, r.medianMicros, r.p90Micros, r.cpuMicrosPerStep,
                             r.voluntaryPerStep, r.involuntaryPerStep, r.offCallerShare))
            }
        }
    }
}
