import Dataflow
import DataflowScheduler
import Foundation

/// The scale model for the timing-size models (issue 16): one training step traced on
/// one thread, then simulated on P cores with this machine's measured memory bandwidth
/// and the lowering's bytes per task. Speedups are against the measured one-thread
/// step of the same program (the best one-thread program: the compiler's default
/// tiling for one worker).
enum ModelsScale {
    static let cores = [1, 2, 4, 8, 16, 32, 64]

    /// Prints (or emits as JSON) predicted step times and speedups for `cores`.
    static func report(model: String, seed: UInt64, lr: Double, bestOneThread: Double, json: Bool,
                       overheadNs: Double = 20) throws -> [String] {
        func pad(_ x: Any, _ width: Int) -> String {
            let s = "\(x)"
            return String(repeating: " ", count: max(0, width - s.count)) + s
        }
        progress("\(model) scale model: tracing one step on 1 thread, measuring bandwidth")
        // A finely tiled program (32 tiles per large matmul: what more cores would run), its
        // tasks timed on one worker, median of 5 traced steps.
        let program = try ModelsZoo.build(model: model, seed: seed, lr: lr, workers: 1, timing: true, tiles: 32)
        let shape: [Int]
        if model == "cnn" {
            shape = [128, 28 * 28]
        } else {
            let s = ModelsInit.lstmSizes(timing: true)
            shape = [s.batch, s.steps * s.features]
        }
        let (x, y) = ModelsInit.synthetic(seed: seed, shape: shape)
        let feeds = try program.feeds(x, y, nil)
        let graph = try program.step.program(for: feeds).taskGraph
        for _ in 0..<3 { _ = try program.step(feeds) }
        var runs: [[Double]] = []
        for _ in 0..<5 {
            let recorder = TraceRecorder()
            _ = try program.step.run(feeds, recorder: recorder)
            runs.append(ScheduleSimulator.durations(from: recorder, for: graph))
        }
        let durations = (0..<graph.count).map { t in runs.map { $0[t] }.sorted()[runs.count / 2] }
        let bw1 = try StreamBandwidth.measure(threads: 1)
        let bw2 = try StreamBandwidth.measure(threads: 2)
        let bandwidth = ScheduleSimulator.MemoryBandwidth(perCore: bw1, total: max(bw1, bw2))
        let bytes = ScheduleSimulator.bytes(of: graph)
        let bounds = cores.map { p in
            (p, ScheduleSimulator.bounds(of: graph, durations: durations, bytes: bytes, processors: p, bandwidth: bandwidth,
                                         overheadPerTask: overheadNs * 1e-9))
        }
        let takesOver = bounds.first { $0.1.limit != "work" }
        var lines: [String] = []
        if json {
            for (p, b) in bounds {
                lines.append(jsonLine(["bench": "models-scale", "model": model, "cores": p, "predicted_s": b.makespan,
                                       "speedup_vs_best_1_thread": bestOneThread / b.makespan, "work_s": b.work, "span_s": b.span,
                                       "bandwidth_s": b.bandwidth, "overhead_s": b.overhead, "limit": b.limit,
                                       "tasks": graph.count, "step_bytes": bytes.reduce(0, +), "cpu": cpuModelName()]))
            }
        } else {
            lines.append("\(model) scale model on \(cpuModelName()): \(graph.count) tasks (32 tiles per matmul) traced on 1 thread, "
                         + "work \(fmt(durations.reduce(0, +) * 1e3, 3)) ms; bytes per step \(fmt(bytes.reduce(0, +) / 1e6, 2)) MB; "
                         + "bandwidth 1 thread \(fmt(bw1 / 1e9, 1)) GB/s, 2 threads \(fmt(bw2 / 1e9, 1)) GB/s")
            lines.append("  cores  predicted ms  speedup vs best 1-thread (\(fmt(bestOneThread * 1e3, 3)) ms)  work ms  span ms  "
                         + "bandwidth ms  overhead ms  limit")
            for (p, b) in bounds {
                lines.append("  \(pad(p, 5))  \(pad(fmt(b.makespan * 1e3, 3), 12))  \(pad(fmt(bestOneThread / b.makespan, 2) + "×", 39))  "
                             + "\(pad(fmt(b.work * 1e3, 3), 7))  \(pad(fmt(b.span * 1e3, 3), 7))  \(pad(fmt(b.bandwidth * 1e3, 3), 12))  "
                             + "\(pad(fmt(b.overhead * 1e3, 3), 11))  \(b.limit)")
            }
            lines.append("  " + (takesOver.map { "more cores stop helping at \($0.0) cores: \($0.1.limit) takes over (the largest bound)" }
                                 ?? "work still dominates at \(cores.last!) cores")
                         + "; caveats: list scheduling by priority on identical cores, one-core durations, bandwidth shared "
                         + "max-min fairly, no cache effects between tasks, a bandwidth ceiling not measured beyond 2 threads")
        }
        return lines
    }
}
