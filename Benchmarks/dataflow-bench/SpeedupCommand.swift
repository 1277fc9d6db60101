import Dataflow
import DataflowKernels
import DataflowScheduler
import Foundation

/// `dataflow-bench speedup`: one training step of the seed network (forward and all
/// gradients) for each thread count, with measured and simulated speedup.
enum SpeedupCommand: BenchCommand {
    static let summary = "Step time of the seed network (forward + all gradients) for each thread count, speedup, GFLOP/s, and the speedup the simulator predicts for more cores from the traced task durations."
    static let spec = OptionSpec([
        .option("threads", "comma-separated thread counts", default: "1,2"),
        .option("batch", "batch size", default: "256"),
        .option("sizes", "layer sizes, input first", default: "16384,5000,3000,512,40"),
        .option("dtype", "float or double", default: "float"),
        .option("reps", "timed repetitions per thread count", default: "5"),
        .option("warmup", "untimed runs before timing", default: "2"),
        .option("tiles", "tile tasks per large matmul (default: 1 with one thread, else 2 × threads)"),
        .option("simulate", "core counts to simulate", default: "4,8,16,32,64"),
        .option("sim-tiles", "tile tasks per large matmul in the program traced for simulation", default: "64"),
        .option("bandwidth-total", "GB/s all cores of the simulated machine stream together (default: the largest measured here)"),
        .option("overhead-ns", "scheduler overhead per task for the scale model, ns (dataflow-bench sched re-run figure)", default: "20"),
        .option("trace", "write a Chrome trace (JSON) of one step to this file"),
        .option("svg", "write a timeline + speedup plot (SVG) to this file"),
        .option("dot", "write the forward + gradient graph (Graphviz DOT) to this file"),
        .flag("json", "one JSON object per measurement on standard output"),
    ])

    static func run(_ options: Options) throws {
        let (sizes, batch, dtype) = try SeedSetup.parse(options)
        var threads = try options.intList("threads", range: 1...1024)!
        if !threads.contains(1) {
            progress("speedup is relative to one thread: measuring 1 thread too")
            threads.insert(1, at: 0)
        }
        let reps = try options.int("reps")!
        let warmup = try options.int("warmup", range: 0...1000)!
        let simulate = try options.intList("simulate", range: 1...4096)!
        let simTiles = try options.int("sim-tiles")!
        let json = options.flag("json")
        let setup = try SeedSetup(sizes: sizes, batch: batch, dtype: dtype)
        if let path = options.string("dot") {
            try dot(setup.outputs).write(toFile: path, atomically: true, encoding: .utf8)
            progress("wrote \(path)")
        }
        progress("measuring this core's FMA peak")
        let peak = dtype == .float32 ? PeakFLOPS.measure(Float.self) : PeakFLOPS.measure(Double.self)

        struct Row { var threads: Int; var median: Double; var min: Double; var max: Double; var tasks: Int; var flops: Double }
        var rows: [Row] = []
        var memory: (peak: Int, outputs: Int) = (0, 0)
        for t in threads {
            let t0 = now()
            let f = try compile(inputs: [setup.net.x, setup.net.y], outputs: setup.outputs,
                                options: CompileOptions(workers: t, tilesPerMatmul: try options.int("tiles")))
            let program = try f.program(for: setup.feeds)
            let compileTime = now() - t0
            progress("\(t) thread(s): compiled in \(fmt(compileTime * 1e3, 1)) ms, \(program.taskCount) tasks")
            let timing = try SeedSetup.time("\(t) thread(s)", reps: reps, warmup: warmup) { _ = try f(setup.feeds) }
            memory = (program.peakIntermediateBytes, program.outputBytes)
            rows.append(Row(threads: t, median: timing.median, min: timing.min, max: timing.max, tasks: program.taskCount, flops: program.flops))
        }
        let base = rows.first(where: { $0.threads == 1 })!.median

        // The scale model. A finely tiled program is traced on one thread (one-core task
        // durations), timed on 1 and on the largest thread count, and simulated with
        // this machine's measured memory bandwidth.
        let traceThreads = threads.max()!
        progress("measuring memory bandwidth (STREAM triad) for 1 and \(min(2, traceThreads)) thread(s)")
        let bw1 = try StreamBandwidth.measure(threads: 1)
        let bw2 = traceThreads >= 2 ? try StreamBandwidth.measure(threads: 2) : bw1
        let totalBW = try options.string("bandwidth-total").map { text -> Double in
            guard let v = Double(text), v > 0 else { throw CLIError("option '--bandwidth-total' expects GB/s > 0, got '\(text)'") }
            return v * 1e9
        } ?? max(bw1, bw2)
        let bandwidth = ScheduleSimulator.MemoryBandwidth(perCore: bw1, total: max(totalBW, bw1))
        guard let overheadNs = Double(options.string("overhead-ns")!), overheadNs >= 0 else { throw CLIError("option '--overhead-ns' expects ns ≥ 0") }
        func simFunction(_ workers: Int) throws -> Function {
            var o = CompileOptions(workers: workers, tilesPerMatmul: simTiles)
            o.minimumTileFlops = 1e6
            return try compile(inputs: [setup.net.x, setup.net.y], outputs: setup.outputs, options: o)
        }
        let sim1Function = try simFunction(1)
        let simFunctionP = try simFunction(traceThreads)
        let simProgram = try sim1Function.program(for: setup.feeds)
        let graph = simProgram.taskGraph
        progress("tracing one step of a \(simProgram.taskCount)-task program (\(simTiles) tiles per matmul) on 1 thread")
        _ = try sim1Function(setup.feeds)
        let recorder = TraceRecorder()
        _ = try sim1Function.run(setup.feeds, recorder: recorder)
        let summary = recorder.summary(for: graph)
        let durations = ScheduleSimulator.durations(from: recorder, for: graph)
        let simMeasured1 = try SeedSetup.time("traced program, 1 thread", reps: reps, warmup: 1) { _ = try sim1Function(setup.feeds) }.median
        // Cores this process got while the P-thread program ran: CPU time over wall time. On
        // a shared machine other processes may hold a core, and the measured P-thread time
        // then says nothing about the model (the CLI says so).
        let usage0 = SmallStep.Usage.now(), wall0 = now()
        let simMeasuredP = try SeedSetup.time("traced program, \(traceThreads) threads", reps: reps, warmup: 1) { _ = try simFunctionP(setup.feeds) }.median
        let coresGot = (SmallStep.Usage.now().cpu - usage0.cpu) / max(now() - wall0, 1e-9)
        let recorderP = TraceRecorder()
        _ = try simFunctionP.run(setup.feeds, recorder: recorderP)
        // The program compiled for P workers may differ from the traced one (join tasks,
        // tiles): its own graph names and colours its trace.
        let graphP = try simFunctionP.program(for: setup.feeds).taskGraph
        // Bytes per task: the lowering's estimates, or (while it records none) a floor for
        // the whole step spread over the tasks by duration: parameters read twice
        // (forward, input gradients) and gradients written once, activations written once
        // and read three times, the input read once.
        var bytes = ScheduleSimulator.bytes(of: graph)
        let element = dtype == .float32 ? 4.0 : 8.0
        let parameters = zip(sizes, sizes.dropFirst()).map { Double($0 * $1 + $1) }.reduce(0, +)
        let activations = Double(batch * sizes.dropFirst().reduce(0, +))
        let stepBytesFloor = element * (3 * parameters + 4 * activations + Double(batch * sizes[0]))
        let bytesEstimated = bytes.allSatisfy { $0 == 0 }
        if bytesEstimated {
            let work = durations.reduce(0, +)
            bytes = durations.map { stepBytesFloor * $0 / work }
        }
        let best1 = rows.first(where: { $0.threads == 1 })!.median
        let overhead = overheadNs * 1e-9
        let modelCores = Array(Set([1, traceThreads] + simulate)).sorted()
        let bounds = modelCores.map { p in (p, ScheduleSimulator.bounds(of: graph, durations: durations, bytes: bytes, processors: p, bandwidth: bandwidth, overheadPerTask: overhead)) }
        let predicted = bounds.filter { simulate.contains($0.0) }.map { ($0.0, best1 / $0.1.makespan) }
        let takesOver = bounds.first { $0.1.limit != "work" }

        let cores = ProcessInfo.processInfo.activeProcessorCount
        if json {
            for r in rows {
                print(jsonLine(["bench": "speedup", "sizes": sizes, "batch": batch, "dtype": "\(dtype)", "threads": r.threads,
                                "median_s": r.median, "min_s": r.min, "max_s": r.max, "speedup": base / r.median,
                                "efficiency": base / r.median / Double(r.threads), "gflops": r.flops / r.median / 1e9,
                                "peak_fraction": r.flops / r.median / (peak * Double(min(r.threads, cores))), "tasks": r.tasks]))
            }
            print(jsonLine(["bench": "speedup-memory", "peak_intermediate_bytes": memory.peak, "output_bytes": memory.outputs]))
            print(jsonLine(["bench": "speedup-trace", "threads": 1, "tasks": simProgram.taskCount, "work_s": summary.work,
                            "span_s": summary.span, "parallelism": summary.parallelism, "makespan_s": summary.makespan]))
            print(jsonLine(["bench": "speedup-bandwidth", "cpu": cpuModel(), "threads_1_bytes_per_s": bw1, "threads_2_bytes_per_s": bw2,
                            "model_total_bytes_per_s": bandwidth.total, "step_bytes": bytes.reduce(0, +), "bytes_estimated": bytesEstimated]))
            for (p, b) in bounds {
                let measured: Double? = p == 1 ? simMeasured1 : p == traceThreads ? simMeasuredP : nil
                print(jsonLine(["bench": "speedup-simulated", "cores": p, "predicted_s": b.makespan, "measured_s": measured as Any,
                                "predicted_speedup": best1 / b.makespan, "work_s": b.work, "span_s": b.span, "bandwidth_s": b.bandwidth,
                                "overhead_s": b.overhead, "limit": b.limit, "cores_got": (p == traceThreads ? Optional(coresGot) : nil) as Any]))
            }
        } else {
            print("\nSeed network \(sizes.map(String.init).joined(separator: "-")), batch \(batch), \(dtype): one step = forward + \(setup.grads.count) gradients, \(fmt(rows[0].flops / 1e9, 1)) GFLOP")
            print("single-core FMA peak measured: \(fmt(peak / 1e9, 1)) GFLOP/s; \(cores) cores here")
            print("threads  median s   min–max s          speedup  efficiency  GFLOP/s  of peak  tasks")
            for r in rows {
                let s: Double = base / r.median
                let efficiency: Double = 100 * s / Double(r.threads)
                let gflops: Double = r.flops / r.median / 1e9
                let ofPeak: Double = 100 * gflops * 1e9 / (peak * Double(min(r.threads, cores)))
                let cells: [CVarArg] = [r.threads, r.median, r.min, r.max, s, efficiency, gflops, ofPeak, r.tasks]
                print(String(format: "%7d  %8.4f   %7.4f–%-7.4f    %6.2f×  %9.0f%%  %7.1f  %6.0f%%  %5d", arguments: cells))
            }
            let activations = batch * sizes.dropFirst().reduce(0, +) * (dtype == .float32 ? 4 : 8)
            print("\nmemory: intermediate buffers \(fmt(Double(memory.peak) / 1048576, 2)) MiB at peak (the activations kept for the backward pass alone are \(fmt(Double(activations) / 1048576, 2)) MiB); outputs (loss and gradients) \(fmt(Double(memory.outputs) / 1048576, 1)) MiB")
            print("\nscale model on \(cpuModel()): traced step (\(simProgram.taskCount) tasks, \(simTiles) tiles per matmul, 1 thread): work \(fmt(summary.work)) s, span \(fmt(summary.span)) s, parallelism \(fmt(summary.parallelism, 1))")
            print("  memory bandwidth (STREAM triad, measured now): 1 thread \(fmt(bw1 / 1e9, 1)) GB/s, \(traceThreads >= 2 ? 2 : 1) threads \(fmt(bw2 / 1e9, 1)) GB/s; model: k running streams share min(k × \(fmt(bw1 / 1e9, 1)), \(fmt(bandwidth.total / 1e9, 1))) GB/s" + (options.string("bandwidth-total") == nil ? " (ceiling = the largest measured here: a machine with more cores has more; pass --bandwidth-total)" : ""))
            print("  bytes per step: \(fmt(bytes.reduce(0, +) / 1e6, 1)) MB" + (bytesEstimated ? " (estimated floor: the lowering records no per-task bytes yet; 3 × parameters + 4 × activations + input, spread by duration)" : " (the tasks' bytes estimates)") + "; per-task scheduler overhead \(fmt(overheadNs, 0)) ns")
            print("  cores  predicted s  measured s   speedup vs best 1-thread  work s    span s    bandwidth s  limit")
            for (p, b) in bounds {
                let measured: Double? = p == 1 ? simMeasured1 : p == traceThreads ? simMeasuredP : nil
                let m = measured.map { String(format: "%10.4f", $0) } ?? "         –"
                print(String(format: "  %5d  %11.4f  ", p, b.makespan) + m + String(format: "   %22.2f×  %8.4f  %8.4f  %11.4f  ", best1 / b.makespan, b.work, b.span, b.bandwidth) + b.limit)
            }
            if traceThreads > 1 {
                let note = coresGot < 0.9 * Double(traceThreads) ? ": fewer than \(traceThreads) (other processes held a core), so the measured \(traceThreads)-thread time does not test the model" : ""
                print("  while the \(traceThreads)-thread program was timed this process got \(fmt(coresGot, 2)) cores (CPU time / wall time)" + note)
            }
            if let (p, b) = takesOver {
                print("  more cores stop helping at \(p) cores: \(b.limit) takes over (the largest bound); speedups are against the best one-thread program (\(fmt(best1)) s), whose work the tiled program exceeds by \(fmt(summary.work / best1, 2))×")
            } else {
                print("  up to \(modelCores.max()!) cores the work bound stays the largest: no span, bandwidth or overhead limit within the simulated range")
            }
            print("  caveats: list scheduling by priority on identical cores; one-core durations (the 1-thread trace); bandwidth shared max-min fairly by the tasks running at each moment (at most \(fmt(bw1 / 1e9, 1)) GB/s each); no cache effects between tasks; a ceiling not measured beyond \(traceThreads) threads")
        }
        if let path = options.string("trace") {
            try recorderP.chromeTrace(for: graphP, kindNames: TaskKind.names).write(toFile: path, atomically: true, encoding: .utf8)
            progress("wrote \(path)")
        }
        if let path = options.string("svg") {
            let t0 = recorderP.events.map(\.start).min() ?? 0
            let join = TaskKind.join.rawValue
            let bars = recorderP.events.filter { graphP.kind(of: $0.task) != join }.map { e in
                SVGReport.Bar(worker: e.worker, start: Double(e.start - t0) / 1e9, end: Double(e.end - t0) / 1e9,
                              kind: graphP.kind(of: e.task), name: graphP.name(of: e.task))
            }
            // The simulated 16-core schedule, cores assigned as list scheduling frees them.
            let simCores = 16
            let sim16 = ScheduleSimulator.schedule(of: graph, durations: durations, bytes: bytes, processors: simCores, bandwidth: bandwidth)
            let starts = sim16.starts
            var freeAt = [Double](repeating: 0, count: simCores)
            var simBars: [SVGReport.Bar] = []
            for i in graph.tasks.map(\.index).sorted(by: { starts[$0] != starts[$1] ? starts[$0] < starts[$1] : $0 < $1 }) {
                let core = freeAt.indices.first { freeAt[$0] <= starts[i] + 1e-12 } ?? freeAt.indices.min { freeAt[$0] < freeAt[$1] }!
                freeAt[core] = sim16.ends[i]
                let t = TaskID(index: i)
                if graph.kind(of: t) != join {
                    simBars.append(SVGReport.Bar(worker: core, start: starts[i], end: sim16.ends[i], kind: graph.kind(of: t), name: graph.name(of: t)))
                }
            }
            let measured = rows.map { (threads: $0.threads, speedup: best1 / $0.median) }
            let simulated = [(cores: 1, speedup: best1 / bounds[0].1.makespan)] + predicted.map { (cores: $0.0, speedup: $0.1) }
            let svg = SVGReport.render(title: "Seed network step, batch \(batch): measured on \(traceThreads) worker(s), \(graphP.count) tasks (\(cpuModel()))", bars: bars,
                                       kindNames: TaskKind.names.filter { $0.key != join }, workers: traceThreads,
                                       measured: measured, simulated: simulated,
                                       simulatedSchedule: ("Simulated on \(simCores) cores (same time scale; bandwidth model, one-core durations)", simBars, simCores))
            try svg.write(toFile: path, atomically: true, encoding: .utf8)
            progress("wrote \(path)")
        }
    }
}
