import DataflowScheduler
import Dispatch
import Foundation
import Synchronization

/// `dataflow-bench sched`: scheduler overhead per task against a one-`async`-per-task
/// `DispatchGroup` baseline measured in the same run. It prints only what it measured;
/// peers (oneTBB's flow graph) are measured by
/// `Benchmarks/peers/sched/compare.py`, which runs them beside this command.
enum SchedCommand: BenchCommand {
    static let summary = "scheduler overhead per task (empty tasks) for four DAG shapes, re-run and build+run, against a DispatchGroup baseline; 10-task latency; 5 µs wavefront scaling"
    static let spec = OptionSpec([
        .option("workers", "comma-separated worker counts", default: "1,2"),
        .option("size", "tasks per shape (wavefront: side = √size, tree: 2^⌊log2(size+1)⌋−1)", default: "1000000"),
        .option("reps", "timed repetitions per measurement (median reported)", default: "5"),
        .option("shapes", "comma-separated subset of chain,independent,wavefront,tree", default: "chain,independent,wavefront,tree"),
        .option("baseline-size", "tasks per shape for the DispatchGroup baseline (it is slow)", default: "200000"),
        .option("modes", "comma-separated subset of rerun,build+run,rebuild+run (rebuild: one TaskGraph emptied with removeAll(keepingCapacity:) and rebuilt, as a per-step dynamic graph would)", default: "rerun,build+run,rebuild+run"),
        .flag("skip-extras", "skip the 10-task latency and the 5 µs wavefront scaling"),
        .flag("skip-scaling", "skip the 5 µs wavefront scaling (keep the 10-task latency)"),
        .flag("breakdown", "also time build+run by phase (build, compile, run, release)"),
        .flag("cpu-time", "time re-run, build+run and rebuild+run with the calling thread's CPU clock instead of the wall clock: leaves out the time other processes take on a loaded machine; meaningful with 1 worker, where the caller runs every task"),
        .flag("json", "one JSON object per measurement on standard output"),
    ])

    static func run(_ options: Options) throws {
        let workerList = try options.intList("workers", range: 1...256) ?? [1, 2]
        let size = try options.int("size", range: 4...100_000_000) ?? 1_000_000
        let reps = try options.int("reps", range: 1...1000) ?? 5
        let baselineSize = try options.int("baseline-size", range: 4...100_000_000) ?? 200_000
        let json = options.flag("json")
        let shapes = (options.string("shapes") ?? "").split(separator: ",").map(String.init)
        let modes = Set((options.string("modes") ?? "").split(separator: ",").map(String.init))
        let cpuTime = options.flag("cpu-time")
        let clock: () -> Double = cpuTime ? { threadCPUSeconds() } : { now() }
        for s in shapes where BenchmarkShape(rawValue: s) == nil {
            throw CLIError("option '--shapes' expects names among chain, independent, wavefront, tree; got '\(s)'")
        }

        if !json {
            print("sched on \(cpuModel()): ns per task (median of \(reps)\(cpuTime ? ", calling thread's CPU time" : ", wall time")), size \(size); build+run includes releasing the graph; baseline = DispatchGroup one async per task (\(min(size, baselineSize)) tasks, wall time)")
            print("shape        mode         workers    tasks   ns/task  baseline  ×faster")
        }
        for shapeName in shapes {
            let shape = BenchmarkShape(rawValue: shapeName)!
            for workers in workerList {
                let executor = Executor(workers: workers)
                progress("sched \(shape.rawValue), \(workers) worker(s)")
                let baseline = baselineNanosPerTask(shape, size: min(size, baselineSize), workers: workers, reps: max(1, min(reps, 3)))
                // Re-run a prebuilt graph.
                let graph = shape.build(size: size) {}
                try executor.run(graph)  // warm-up: compiles the cached structure
                var samples: [Double] = []
                for _ in 0..<(modes.contains("rerun") ? reps : 0) {
                    let t0 = clock()
                    try executor.run(graph)
                    samples.append(clock() - t0)
                }
                if !samples.isEmpty {
                    report(shape, "rerun", workers, graph.count, median(samples) / Double(graph.count) * 1e9, baseline, json)
                }
                // Build and run.
                samples = []
                for _ in 0..<(modes.contains("build+run") ? reps : 0) {
                    let t0 = clock()
                    do {
                        let g = shape.build(size: size) {}
                        try executor.run(g)
                    }  // the graph is released here, inside the timed region
                    samples.append(clock() - t0)
                }
                if !samples.isEmpty {
                    report(shape, "build+run", workers, graph.count, median(samples) / Double(graph.count) * 1e9, baseline, json)
                }
                // Rebuild and run: the same TaskGraph emptied (keeping its capacity) and refilled.
                samples = []
                if modes.contains("rebuild+run") {
                    var g = TaskGraph()
                    shape.build(into: &g, size: size) {}
                    try executor.run(g)  // warm-up: the storage exists
                    for _ in 0..<reps {
                        let t0 = clock()
                        shape.build(into: &g, size: size) {}
                        try executor.run(g)
                        samples.append(clock() - t0)
                    }
                }
                if !samples.isEmpty {
                    report(shape, "rebuild+run", workers, graph.count, median(samples) / Double(graph.count) * 1e9, baseline, json)
                }
            }
        }
        if options.flag("breakdown") {
            try SchedBreakdown.run(shapes: shapes.compactMap(BenchmarkShape.init(rawValue:)), size: size, workers: workerList, reps: reps, json: json)
        }
        if !options.flag("skip-extras") {
            try latency(workerList, json: json)
            if !options.flag("skip-scaling") { try scaling(workerList, reps: reps, json: json) }
        }
    }

    static func report(_ shape: BenchmarkShape, _ mode: String, _ workers: Int, _ tasks: Int, _ ns: Double, _ baseline: Double, _ json: Bool) {
        if json {
            print(jsonLine(["bench": "sched", "shape": shape.rawValue, "mode": mode, "workers": workers, "tasks": tasks,
                            "ns_per_task": round1(ns), "baseline_ns_per_task": round1(baseline), "ratio": round1(baseline / ns)]))
        } else {
            print(pad(shape.rawValue, 12) + " " + pad(mode, 12) + lpad(String(workers), 8) + lpad(String(tasks), 9)
                  + lpad(String(round1(ns)), 10) + lpad(String(round1(baseline)), 10) + lpad(String(round1(baseline / ns)), 9))
        }
    }

    /// One whole run of a 10-task graph (source → 8 in parallel → sink), µs.
    static func latency(_ workerList: [Int], json: Bool) throws {
        let graph = BenchmarkShape.fanOutFanIn(width: 8) {}
        for workers in workerList {
            let executor = Executor(workers: workers)
            for _ in 0..<1000 { try executor.run(graph) }
            var samples: [Double] = []
            for _ in 0..<15 {
                let runs = 2000
                let t0 = now()
                for _ in 0..<runs { try executor.run(graph) }
                samples.append((now() - t0) / Double(runs))
            }
            let us = median(samples) * 1e6
            if json {
                print(jsonLine(["bench": "sched", "shape": "ten-task", "mode": "latency", "workers": workers, "tasks": 10, "us_per_run": round3(us)]))
            } else {
                print("10-task graph (1 → 8 → 1), one whole run, \(workers) worker(s): \(round3(us)) µs")
            }
        }
    }

    /// A wavefront of 5 µs tasks: speedup of each worker count over one worker. The runs
    /// alternate (one worker, then each other count) and the median of the per-round
    /// ratios is reported, so a burst of load from other processes hits both sides.
    static func scaling(_ workerList: [Int], reps: Int, json: Bool) throws {
        let side = 60
        let graph = BenchmarkShape.wavefront.build(size: side * side) { spinFor(nanoseconds: 5_000) }
        let others = workerList.filter { $0 != 1 }
        let one = Executor(workers: 1)
        let executors = others.map { Executor(workers: $0) }
        try one.run(graph)
        for e in executors { try e.run(graph) }
        var baseTimes: [Double] = []
        var times = [[Double]](repeating: [], count: others.count)
        var ratios = [[Double]](repeating: [], count: others.count)
        for _ in 0..<max(5, reps) {
            var t0 = now()
            try one.run(graph)
            let base = now() - t0
            baseTimes.append(base)
            for (k, e) in executors.enumerated() {
                t0 = now()
                try e.run(graph)
                let t = now() - t0
                times[k].append(t)
                ratios[k].append(base / t)
            }
        }
        func line(_ workers: Int, _ t: Double, _ speedup: Double) {
            if json {
                print(jsonLine(["bench": "sched", "shape": "wavefront-5us", "mode": "scaling", "workers": workers, "tasks": graph.count,
                                "ms_per_run": round3(t * 1e3), "speedup": round3(speedup)]))
            } else {
                print("wavefront \(side)×\(side) of 5 µs tasks, \(workers) worker(s): \(round3(t * 1e3)) ms, speedup \(round3(speedup))×   (target ≥ 1.9× with 2)")
            }
        }
        if workerList.contains(1) { line(1, median(baseTimes), 1) }
        // What the DAG allows, from one traced single-worker run and the simulator.
        let oneTrace = TraceRecorder()
        try one.run(graph, observer: oneTrace)
        let durations = ScheduleSimulator.durations(from: oneTrace, for: graph)
        let simulated1 = ScheduleSimulator.makespan(of: graph, durations: durations, processors: 1)
        let predicted = others.map { "P=\($0): \(round3(simulated1 / ScheduleSimulator.makespan(of: graph, durations: durations, processors: $0)))×" }
        progress("simulated speedup from the 1-worker trace: " + predicted.joined(separator: ", "))
        for (k, workers) in others.enumerated() {
            let trace = TraceRecorder()
            try executors[k].run(graph, observer: trace)
            var perWorker = [Int](repeating: 0, count: workers)
            for e in trace.events { perWorker[e.worker] += 1 }
            progress("\(workers) workers: tasks per worker \(perWorker); \(trace.summary(for: graph))")
            line(workers, median(times[k]), median(ratios[k]))
        }
    }

    /// `DispatchGroupBaseline` on the same shape: median seconds per task.
    static func baselineNanosPerTask(_ shape: BenchmarkShape, size: Int, workers: Int, reps: Int) -> Double {
        let graph = shape.build(size: size) {}
        var samples: [Double] = []
        for _ in 0..<reps {
            let baseline = DispatchGroupBaseline(graph)
            samples.append(baseline.run(workers: workers))
        }
        return median(samples) / Double(graph.count) * 1e9
    }
}

/// The CPU's model name from /proc/cpuinfo, shown beside every figure.
func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
        if let colon = line.firstIndex(of: ":") {
            return "\(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)) ×\(ProcessInfo.processInfo.activeProcessorCount)"
        }
    }
    return "unknown CPU ×\(ProcessInfo.processInfo.activeProcessorCount)"
}

/// The calling thread's CPU time, seconds.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func spinFor(nanoseconds: UInt64) {
    let end = DispatchTime.now().uptimeNanoseconds + nanoseconds
    while DispatchTime.now().uptimeNanoseconds < end {}
}

private func round1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
private func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
private func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
private func lpad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
