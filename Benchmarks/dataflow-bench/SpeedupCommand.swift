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

        // One traced step of a finely tiled program on the largest thread count, for
        // work, span, parallelism and the simulated speedups.
        let traceThreads = threads.max()!
        var simOptions = CompileOptions(workers: traceThreads, tilesPerMatmul: simTiles)
        simOptions.minimumTileFlops = 1e6
        let simFunction = try compile(inputs: [setup.net.x, setup.net.y], outputs: setup.outputs, options: simOptions)
        let simProgram = try simFunction.program(for: setup.feeds)
        progress("tracing one step of a \(simProgram.taskCount)-task program (\(simTiles) tiles per matmul) on \(traceThreads) thread(s)")
        _ = try simFunction(setup.feeds)
        let recorder = TraceRecorder()
        _ = try simFunction.run(setup.feeds, recorder: recorder)
        let summary = recorder.summary(for: simProgram.taskGraph)
        let durations = ScheduleSimulator.durations(from: recorder, for: simProgram.taskGraph)
        let sim1 = ScheduleSimulator.makespan(of: simProgram.taskGraph, durations: durations, processors: 1)
        let predicted = simulate.map { p in (p, sim1 / ScheduleSimulator.makespan(of: simProgram.taskGraph, durations: durations, processors: p)) }

        let cores = ProcessInfo.processInfo.activeProcessorCount
        if json {
            for r in rows {
                print(jsonLine(["bench": "speedup", "sizes": sizes, "batch": batch, "dtype": "\(dtype)", "threads": r.threads,
                                "median_s": r.median, "min_s": r.min, "max_s": r.max, "speedup": base / r.median,
                                "efficiency": base / r.median / Double(r.threads), "gflops": r.flops / r.median / 1e9,
                                "peak_fraction": r.flops / r.median / (peak * Double(min(r.threads, cores))), "tasks": r.tasks]))
            }
            print(jsonLine(["bench": "speedup-memory", "peak_intermediate_bytes": memory.peak, "output_bytes": memory.outputs]))
            print(jsonLine(["bench": "speedup-trace", "threads": traceThreads, "tasks": simProgram.taskCount, "work_s": summary.work,
                            "span_s": summary.span, "parallelism": summary.parallelism, "makespan_s": summary.makespan]))
            for (p, s) in predicted {
                print(jsonLine(["bench": "speedup-simulated", "cores": p, "predicted_speedup": s]))
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
            print("traced step (\(simProgram.taskCount) tasks, \(traceThreads) thread(s)): work \(fmt(summary.work)) s, span \(fmt(summary.span)) s, parallelism \(fmt(summary.parallelism, 1)), makespan \(fmt(summary.makespan)) s")
            print("  (its work is \(fmt(summary.work / base, 2))× the one-thread step: \(simTiles) tiles per matmul repack their operands and run smaller blocks; the simulation below uses these durations as measured)")
            print("simulated speedup (list scheduling by priority, traced durations): " + predicted.map { "\($0.0) cores \(fmt($0.1, 2))×" }.joined(separator: ", "))
        }
        if let path = options.string("trace") {
            try recorder.chromeTrace(for: simProgram.taskGraph, kindNames: TaskKind.names).write(toFile: path, atomically: true, encoding: .utf8)
            progress("wrote \(path)")
        }
        if let path = options.string("svg") {
            let t0 = recorder.events.map(\.start).min() ?? 0
            let bars = recorder.events.filter { simProgram.taskGraph.kind(of: $0.task) != TaskKind.join.rawValue }.map { e in
                SVGReport.Bar(worker: e.worker, start: Double(e.start - t0) / 1e9, end: Double(e.end - t0) / 1e9,
                              kind: simProgram.taskGraph.kind(of: e.task), name: simProgram.taskGraph.name(of: e.task))
            }
            let measured = rows.map { (threads: $0.threads, speedup: base / $0.median) }
            let simulated = [(cores: 1, speedup: 1.0)] + predicted.map { (cores: $0.0, speedup: $0.1) }
            let svg = SVGReport.render(title: "Seed network step, batch \(batch): \(traceThreads) worker(s), \(simProgram.taskCount) tasks", bars: bars,
                                       kindNames: TaskKind.names.filter { $0.key != TaskKind.join.rawValue }, workers: traceThreads,
                                       measured: measured, simulated: simulated)
            try svg.write(toFile: path, atomically: true, encoding: .utf8)
            progress("wrote \(path)")
        }
    }
}
