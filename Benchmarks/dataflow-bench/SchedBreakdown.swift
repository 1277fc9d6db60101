import DataflowScheduler
import Foundation

/// `dataflow-bench sched --breakdown`: where the time of a build+run goes, per phase
/// (ns per task, medians): appending tasks and dependencies, compiling the structure
/// (`validate()`), the first run, and releasing the graph.
enum SchedBreakdown {
    static func run(shapes: [BenchmarkShape], size: Int, workers: [Int], reps: Int, json: Bool) throws {
        if !json { print("build+run by phase, ns per task (median of \(reps)): build, compile, run, release, total") }
        for shape in shapes {
            for w in workers {
                let executor = Executor(workers: w)
                var phases = [[Double]](repeating: [], count: 4)
                var tasks = 0
                for _ in 0..<reps {
                    let t0 = now()
                    var g: TaskGraph? = shape.build(size: size) {}
                    let t1 = now()
                    try g!.validate()
                    let t2 = now()
                    try executor.run(g!)
                    let t3 = now()
                    tasks = g!.count
                    g = nil
                    let t4 = now()
                    for (k, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3].enumerated() { phases[k].append(d) }
                }
                let ns = phases.map { median($0) / Double(tasks) * 1e9 }
                let total = ns.reduce(0, +)
                if json {
                    print(jsonLine(["bench": "sched-breakdown", "shape": shape.rawValue, "workers": w, "tasks": tasks,
                                    "build_ns": ns[0], "compile_ns": ns[1], "run_ns": ns[2], "release_ns": ns[3], "total_ns": total]))
                } else {
                    print(shape.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0) + " \(w) worker(s): "
                          + ns.map { String(format: "%6.1f", $0) }.joined(separator: " ") + String(format: "  = %6.1f", total))
                }
            }
        }
    }
}
