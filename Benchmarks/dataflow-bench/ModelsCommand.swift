import Dataflow
import DataflowScheduler
import Foundation

/// `dataflow-bench models`: the classic models of `Benchmarks/peers/models` (logreg,
/// MLP, CNN, tied-weight denoising autoencoder, LSTM) trained on the 8×8 digits with
/// the same data, split, initialisation, batch order, noise and Adam hyper-parameters
/// as the PyTorch and JAX peers; per epoch the training loss and test accuracy, then
/// the median step time, at each thread count. `--json` prints the peers' JSON schema
/// (`framework` "dataflow").
enum ModelsCommand: BenchCommand {
    static let summary = "Train logreg, MLP, CNN, DAE and LSTM on the 8×8 digits (same setup as Benchmarks/peers/models); accuracy, "
        + "loss curves and step times."
    static let spec = OptionSpec([
        .option("model", "comma-separated models among logreg, mlp, cnn, dae, lstm, or 'all'", default: "all"),
        .option("epochs", "epochs (default: 30, as the peers)"),
        .option("threads", "comma-separated worker counts, one full run each; the machine's core count runs with the default options (the compiler may use fewer workers for a small step)", default: "1,2"),
        .option("lr", "Adam learning rate (default: per model, as the peers)"),
        .option("seed", "SplitMix64 seed (INIT.md)", default: "42"),
        .option("data", "path of digits.bin", default: DigitsData.defaultPath()),
        .flag("timing-size", "cnn: 28×28×1 batch 128; lstm: hidden 256, 32 steps × 32 features, batch 64; synthetic data"),
        .option("steps", "timed steps for --timing-size", default: "20"),
        .flag("simulate", "with --timing-size: the scale model, predicted step time and speedup on 1–64 cores (bandwidth-aware)"),
        .option("warmup", "untimed steps for --timing-size", default: "3"),
        .flag("profile", "trace one training step per model on 1 worker and print the time per task name (with --timing-size: the timing sizes)"),
        .flag("json", "JSON lines on standard output, the schema of models.py --json"),
        .option("svg", "directory for models-curves.svg (with the peers' curves) and models-lstm-timeline.svg"),
        .option("peers", "JSONL files of models.py, comma-separated, for the SVG curves",
                default: "Benchmarks/peers/models/results-2026-12-01.jsonl"),
        .flag("check-init", "print the INIT.md check values computed here and compare them with INIT.md's"),
    ])

    static let warmupSteps = 5   // steps at the start of epoch 1 left out of the step statistics (as models.py)

    static func run(_ options: Options) throws {
        let seed = UInt64(try options.int("seed", range: 0...Int.max)!)
        if options.flag("check-init") {
            try checkInit(seed: seed, dataPath: options.string("data")!)
            return
        }
        let models = options.string("model")! == "all"
            ? ModelsZoo.models
            : options.string("model")!.split(separator: ",").map(String.init)
        for m in models where !ModelsZoo.models.contains(m) {
            throw CLIError("option '--model': unknown model '\(m)' (logreg, mlp, cnn, dae, lstm)")
        }
        let threads = try options.intList("threads", range: 1...CompileOptions.maximumWorkers)!
        let epochsOverride = try options.int("epochs")
        var lrOverride: Double?
        if let text = options.string("lr") {
            guard let v = Double(text), v > 0 else { throw CLIError("option '--lr' expects a positive number, got '\(text)'") }
            lrOverride = v
        }
        let json = options.flag("json")
        func emit(_ line: String) { print(line) }
        progress("machine: \(cpuModelName()), \(ProcessInfo.processInfo.activeProcessorCount) CPUs")

        if options.flag("profile") {
            for model in models {
                if options.flag("timing-size") && model != "cnn" && model != "lstm" { continue }
                for line in try ModelsProfile.report(model: model, seed: seed, lr: lrOverride ?? ModelsZoo.learningRates[model]!,
                                                     timing: options.flag("timing-size")) { emit(line) }
            }
            return
        }
        if options.flag("timing-size") {
            let steps = try options.int("steps")!, warmup = try options.int("warmup")!
            for model in models {
                guard model == "lstm" || model == "cnn" else {
                    throw CLIError("--timing-size is defined for cnn and lstm only")
                }
                var oneThread: Double?
                for t in threads {
                    let r = try timingSize(model: model, seed: seed, lr: lrOverride ?? ModelsZoo.learningRates[model]!,
                                           threads: t, steps: steps, warmup: warmup)
                    emit(json ? r.json : r.text)
                    if t == 1 { oneThread = r.stepMedian }
                }
                if options.flag("simulate") {
                    guard let best = oneThread else { throw CLIError("--simulate needs 1 among --threads (the one-thread baseline)") }
                    for line in try ModelsScale.report(model: model, seed: seed, lr: lrOverride ?? ModelsZoo.learningRates[model]!,
                                                       bestOneThread: best, json: json) { emit(line) }
                }
            }
            return
        }

        let data = try DigitsData(path: options.string("data")!)
        var histories: [String: [EpochRecord]] = [:]
        var stepMedians: [String: [Int: Double]] = [:]
        for model in models {
            for t in threads {
                let (history, summary) = try train(model: model, data: data, seed: seed,
                                                   lr: lrOverride ?? ModelsZoo.learningRates[model]!,
                                                   epochs: epochsOverride ?? 30, threads: t) { rec in
                    if json { emit(rec.json) } else { emit(rec.text) }
                }
                emit(json ? summary.json : summary.text)
                if histories[model] == nil { histories[model] = history }
                stepMedians[model, default: [:]][t] = summary.stepMedian
            }
        }
        if let dir = options.string("svg") {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let peers = PeerCurves.load(options.string("peers")!.split(separator: ",").map(String.init))
            let curves = ModelsSVG.curves(models: models, dataflow: histories, peers: peers,
                                          title: "Digits models: Dataflow vs PyTorch / JAX (seed 42, batch 32, Adam; \(cpuModelName()))")
            let path = (dir as NSString).appendingPathComponent("models-curves.svg")
            try curves.write(toFile: path, atomically: true, encoding: .utf8)
            progress("wrote \(path)")
            if models.contains("lstm") {
                let svg = try ModelsSVG.lstmTimeline(data: data, seed: seed, workers: threads.max()!,
                                                     measured: stepMedians["lstm"] ?? [:])
                let path = (dir as NSString).appendingPathComponent("models-lstm-timeline.svg")
                try svg.write(toFile: path, atomically: true, encoding: .utf8)
                progress("wrote \(path)")
            }
        }
    }

    // MARK: - Training

    struct EpochRecord {
        var model: String, threads: Int, epoch: Int
        var trainLoss: Double, testAcc: Double?, testLoss: Double, epochSeconds: Double, stepMedian: Double
        var json: String {
            jsonLine(["bench": "peer-model-epoch", "framework": "dataflow", "model": model, "threads": threads,
                      "epoch": epoch, "train_loss": trainLoss, "test_acc": testAcc as Any, "test_loss": testLoss,
                      "epoch_s": epochSeconds, "step_median_s": stepMedian])
        }
        var text: String {
            let acc = testAcc.map { String(format: "%6.2f", 100 * $0) } ?? "   -  "
            return String(format: "%@ T%d epoch %3d  train loss %.5f  test acc %@%%  test loss %.5f  epoch %8.2f ms  step median %7.3f ms",
                          model, threads, epoch, trainLoss, acc, testLoss, epochSeconds * 1e3, stepMedian * 1e3)
        }
    }

    struct Summary {
        var model: String, threads: Int, seed: UInt64, epochs: Int, lr: Double
        var finalTrainLoss: Double, finalTestAcc: Double?, finalTestLoss: Double, bestTestAcc: Double?
        var stepMedian: Double, stepMin: Double, cpuStepMedian: Double, stepsTimed: Int, epochMedian: Double
        var firstStep: Double, firstLoss: Double
        var json: String {
            jsonLine(["bench": "peer-model", "framework": "dataflow", "version": "Swift Dataflow", "model": model,
                      "threads": threads, "pinned_cpus": Optional<Any>.none as Any, "seed": Int(seed), "epochs": epochs, "lr": lr,
                      "batch": ModelsInit.batch, "steps_per_epoch": ModelsInit.stepsPerEpoch,
                      "final_train_loss": finalTrainLoss, "final_test_acc": finalTestAcc as Any,
                      "final_test_loss": finalTestLoss, "best_test_acc": bestTestAcc as Any,
                      "step_median_s": stepMedian, "step_min_s": stepMin, "cpu_step_median_s": cpuStepMedian,
                      "steps_timed": stepsTimed, "epoch_median_s": epochMedian, "first_step_s": firstStep,
                      "first_loss": firstLoss])
        }
        var text: String {
            let acc = finalTestAcc.map { String(format: "%.2f%%", 100 * $0) } ?? "- (BCE \(String(format: "%.4f", finalTestLoss)))"
            return String(format: "%@ threads %d: final test acc %@, final test loss %.4f; step median %.3f ms (cpu %.3f ms), epoch "
                + "median %.2f ms, first step %.2f ms, first-step loss %.7f",
                          model, threads, acc, finalTestLoss, stepMedian * 1e3, cpuStepMedian * 1e3, epochMedian * 1e3, firstStep * 1e3, firstLoss)
        }
    }

    static func train(model: String, data: DigitsData, seed: UInt64, lr: Double, epochs: Int, threads: Int,
                      onEpoch: (EpochRecord) -> Void) throws -> ([EpochRecord], Summary) {
        progress("\(model): building and compiling (threads \(threads))")
        let program = try ModelsZoo.build(model: model, seed: seed, lr: lr, workers: threads)
        let test = data.gather(data.testIndex)
        let testFeeds = try program.feeds(test.x, test.y, nil)
        let trainIndex = Array(data.trainIndex)
        var stepTimes: [Double] = [], cpuTimes: [Double] = [], epochTimes: [Double] = []
        var history: [EpochRecord] = []
        var firstLoss = Double.nan
        for epoch in 1...epochs {
            // Data loading, not timed: the epoch's batches (and the DAE's masks) as feeds.
            var (order, rng) = ModelsInit.epochOrder(seed: seed, epoch: epoch)
            let masks = model == "dae" ? ModelsInit.keepMasks(&rng) : nil
            let batches = try (0..<ModelsInit.stepsPerEpoch).map { b in
                let positions = order[(b * ModelsInit.batch)..<((b + 1) * ModelsInit.batch)]
                let batch = data.gather(positions.map { trainIndex[$0] })
                return try program.feeds(batch.x, batch.y, masks?[b])
            }
            var losses: [Double] = [], times: [Double] = []
            let e0 = now()
            for feeds in batches {
                let t0 = now(), c0 = processCPUTime()
                let loss = try program.step(feeds)[0].scalarValue!
                times.append(now() - t0)
                cpuTimes.append(processCPUTime() - c0)
                losses.append(loss)
            }
            let epochSeconds = now() - e0
            if epoch == 1 {
                firstLoss = losses[0]
                if let feeds = batches.first {
                    progress("\(model) threads \(threads): the step runs on \(try program.step.program(for: feeds).workers) worker(s)")
                }
            }
            stepTimes += times
            epochTimes.append(epochSeconds)
            let out = try program.evaluate(testFeeds)
            var acc: Double?
            if program.hasAccuracy {
                let predicted = out[1].int32s!
                acc = Double(zip(predicted, test.y).filter { $0 == $1 }.count) / Double(test.y.count)
            }
            let rec = EpochRecord(model: model, threads: threads, epoch: epoch,
                                  trainLoss: losses.reduce(0, +) / Double(losses.count), testAcc: acc,
                                  testLoss: out[0].scalarValue!, epochSeconds: epochSeconds, stepMedian: median(times))
            history.append(rec)
            onEpoch(rec)
            if epoch == 1 || epoch % 10 == 0 || epoch == epochs {
                progress(rec.text)
            }
        }
        let timed = Array(stepTimes.dropFirst(warmupSteps)), cpuTimed = Array(cpuTimes.dropFirst(warmupSteps))
        let later = epochTimes.count > 1 ? Array(epochTimes.dropFirst()) : epochTimes
        let last = history.last!
        let summary = Summary(model: model, threads: threads, seed: seed, epochs: epochs, lr: lr,
                              finalTrainLoss: last.trainLoss, finalTestAcc: last.testAcc, finalTestLoss: last.testLoss,
                              bestTestAcc: program.hasAccuracy ? history.compactMap(\.testAcc).max() : nil,
                              stepMedian: median(timed), stepMin: timed.min()!, cpuStepMedian: median(cpuTimed),
                              stepsTimed: timed.count, epochMedian: median(later), firstStep: stepTimes[0], firstLoss: firstLoss)
        progress(summary.text)
        return (history, summary)
    }

    // MARK: - Timing sizes

    struct TimingRecord {
        var model: String, size: String, threads: Int, steps: Int, warmup: Int
        var stepMedian: Double, stepMin: Double, stepMax: Double, cpuStepMedian: Double, firstStep: Double
        var firstLoss: Double, lastLoss: Double
        var json: String {
            jsonLine(["bench": "peer-model-timing", "framework": "dataflow", "version": "Swift Dataflow", "model": model,
                      "size": size, "threads": threads, "pinned_cpus": Optional<Any>.none as Any, "steps": steps, "warmup": warmup,
                      "step_median_s": stepMedian, "step_min_s": stepMin, "step_max_s": stepMax,
                      "cpu_step_median_s": cpuStepMedian, "first_step_s": firstStep, "first_loss": firstLoss, "last_loss": lastLoss])
        }
        var text: String {
            String(format: "%@ timing size (%@) threads %d: step median %.2f ms (min %.2f, max %.2f, cpu %.2f), first step %.1f ms, "
                + "loss %.5f → %.5f",
                   model, size, threads, stepMedian * 1e3, stepMin * 1e3, stepMax * 1e3, cpuStepMedian * 1e3, firstStep * 1e3, firstLoss, lastLoss)
        }
    }

    static func timingSize(model: String, seed: UInt64, lr: Double, threads: Int, steps: Int, warmup: Int) throws -> TimingRecord {
        progress("\(model) timing size: building and compiling (threads \(threads))")
        let program = try ModelsZoo.build(model: model, seed: seed, lr: lr, workers: threads, timing: true)
        let shape: [Int], size: String
        if model == "cnn" {
            shape = [128, 28 * 28]; size = "28x28x1, batch 128"
        } else {
            let s = ModelsInit.lstmSizes(timing: true)
            shape = [s.batch, s.steps * s.features]; size = "hidden 256, 32 steps x 32 features, batch 64"
        }
        let (x, y) = ModelsInit.synthetic(seed: seed, shape: shape)
        let feeds = try program.feeds(x, y, nil)
        var t0 = now()
        let first = try program.step(feeds)[0].scalarValue!
        let firstSeconds = now() - t0
        progress("\(model) timing size threads \(threads): the step runs on \(try program.step.program(for: feeds).workers) worker(s)")
        for _ in 0..<max(0, warmup - 1) { _ = try program.step(feeds) }
        var times: [Double] = [], cpu: [Double] = [], last = first
        for _ in 0..<steps {
            t0 = now()
            let c0 = processCPUTime()
            last = try program.step(feeds)[0].scalarValue!
            times.append(now() - t0)
            cpu.append(processCPUTime() - c0)
        }
        let r = TimingRecord(model: model, size: size, threads: threads, steps: steps, warmup: warmup,
                             stepMedian: median(times), stepMin: times.min()!, stepMax: times.max()!,
                             cpuStepMedian: median(cpu), firstStep: firstSeconds, firstLoss: first, lastLoss: last)
        progress(r.text)
        return r
    }

    // MARK: - Init check

    /// Prints the INIT.md §7 check values computed here and compares them line by line
    /// with the block in INIT.md (when found). Exit status 1 on a mismatch.
    static func checkInit(seed: UInt64, dataPath: String) throws {
        let data = try? DigitsData(path: dataPath)
        let lines = ModelsInit.checkLines(seed: seed, trainingIndex: data.map { Array($0.trainIndex) }, labels: data?.labels)
        for line in lines { print(line) }
        let initPath = URL(fileURLWithPath: dataPath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/models/INIT.md").path
        guard seed == 42, let text = try? String(contentsOfFile: initPath, encoding: .utf8) else {
            progress("INIT.md not found or seed ≠ 42: nothing to compare with")
            return
        }
        let expected = Set(text.split(separator: "\n").map { String($0) })
        let compared = lines.filter { !$0.hasPrefix("epoch 1 batch 0") }
        let missing = compared.filter { !expected.contains($0) }
        if let data {
            // INIT.md: batch 0 images 505, 989, 1766, 317, 899, 1688, 1098, 937; labels 9, 6, 1, 7, 8, 1, 5, 5.
            let order = ModelsInit.epochOrder(seed: 42, epoch: 1).order
            let images = order.prefix(8).map { data.permutation[$0] }
            let labels = images.map { Int(data.labels[$0]) }
            let ok = images == [505, 989, 1766, 317, 899, 1688, 1098, 937] && labels == [9, 6, 1, 7, 8, 1, 5, 5]
                && Array(data.permutation.prefix(8)) == [1412, 989, 1256, 1488, 1762, 1477, 1543, 786]
            print("digits.bin split and epoch-1 batch 0 images/labels: " + (ok ? "equal to INIT.md / data README" : "DIFFERENT"))
            if !ok { throw CLIError("check-init: split or batch-0 check values differ") }
        }
        if missing.isEmpty {
            print("all \(compared.count) check lines equal INIT.md's")
        } else {
            for m in missing { print("NOT IN INIT.md: \(m)") }
            throw CLIError("check-init: \(missing.count) of \(compared.count) lines differ from INIT.md")
        }
    }
}

/// Process CPU time in seconds (all threads).
func processCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// `/proc/cpuinfo`'s model name, or "unknown CPU".
func cpuModelName() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
          let colon = line.firstIndex(of: ":") else { return "unknown CPU" }
    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
}
