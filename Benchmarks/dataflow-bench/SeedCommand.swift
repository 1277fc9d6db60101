import Dataflow
import DataflowKernels
import Foundation

/// `dataflow-bench seed`: the seed's question, answered with numbers.
///
/// Does `grad(loss, [w1 … wn])` reuse the backpropagated terms, and what do eight
/// separate `grad` calls cost? Build times of the joint and separate gradients, node
/// counts, and the step time of the joint program, of the separate gradients
/// compiled together (merged: the same program), and of the separate gradients each
/// compiled as its own program (no merging: the cost the seed worried about).
enum SeedCommand: BenchCommand {
    static let summary = "Joint vs separate gradients of the seed network: build time, node counts, compiled task counts and step times."
    static let spec = OptionSpec([
        .option("reps", "repetitions of the gradient build, each on a fresh graph", default: "100"),
        .option("step-reps", "timed steps per program", default: "3"),
        .option("warmup", "untimed steps per program", default: "1"),
        .option("threads", "worker threads for the step times", default: "\(ProcessInfo.processInfo.activeProcessorCount)"),
        .option("batch", "batch size", default: "256"),
        .option("sizes", "layer sizes, input first", default: "16384,5000,3000,512,40"),
        .option("dtype", "float or double", default: "float"),
        .option("chain", "depth of the deep-chain gradient timing (0 to skip)", default: "100000"),
        .flag("json", "one JSON object per measurement on standard output"),
    ])

    static func run(_ options: Options) throws {
        let (sizes, batch, dtype) = try SeedSetup.parse(options)
        let reps = try options.int("reps")!
        let stepReps = try options.int("step-reps")!
        let warmup = try options.int("warmup", range: 0...1000)!
        let threads = try options.int("threads", range: 1...1024)!
        let json = options.flag("json")

        progress("timing the gradient build: \(reps) joint and \(reps) separate, each on a fresh graph")
        let report = try SeedNetwork.buildTimes(repetitions: reps, sizes: sizes, dtype: dtype)
        let chainDepth = try options.int("chain", range: 0...10_000_000)!
        var chain: (buildSeconds: Double, gradSeconds: Double, forwardNodes: Int, totalNodes: Int)?
        if chainDepth > 0 {
            progress("differentiating a \(chainDepth)-deep tanh chain")
            chain = try DeepChain.timing(depth: chainDepth)
        }

        let setup = try SeedSetup(sizes: sizes, batch: batch, dtype: dtype)
        let separate = try setup.net.parameters.map { try grad(of: setup.net.loss, wrt: $0) }
        let inputs = [setup.net.x, setup.net.y]
        let options = CompileOptions(workers: threads)

        func compiled(_ outputs: [Tensor]) throws -> (Function, Program, Double) {
            let t0 = now()
            let f = try compile(inputs: inputs, outputs: outputs, options: options)
            let p = try f.program(for: setup.feeds)
            return (f, p, now() - t0)
        }
        progress("compiling the joint program, the merged separate program and \(separate.count) separate programs")
        let (jointF, jointP, jointCompile) = try compiled(setup.outputs)
        let (mergedF, mergedP, mergedCompile) = try compiled([setup.net.loss] + separate)
        var unmerged: [(Function, Program, Double)] = []
        for g in separate { unmerged.append(try compiled([setup.net.loss, g])) }
        let identical = jointP.listing == mergedP.listing

        let jointT = try SeedSetup.time("joint program", reps: stepReps, warmup: warmup) { _ = try jointF(setup.feeds) }
        let mergedT = try SeedSetup.time("separate grads, merged", reps: stepReps, warmup: warmup) { _ = try mergedF(setup.feeds) }
        let unmergedT = try SeedSetup.time("separate grads, \(separate.count) programs", reps: stepReps, warmup: warmup) {
            for (f, _, _) in unmerged { _ = try f(setup.feeds) }
        }
        let unmergedTasks = unmerged.reduce(0) { $0 + $1.1.taskCount }
        let unmergedCompile = unmerged.reduce(0) { $0 + $1.2 }

        if json {
            print(jsonLine(["bench": "seed-build", "sizes": sizes, "repetitions": reps,
                            "joint_mean_s": report.jointMean, "joint_std_s": report.jointStd,
                            "separate_mean_s": report.separateMean, "separate_std_s": report.separateStd,
                            "nodes_joint": report.stats.joint, "nodes_separate_raw": report.stats.separateRaw,
                            "nodes_separate_merged": report.stats.separateMerged]))
            if let chain {
                print(jsonLine(["bench": "seed-chain", "depth": chainDepth, "build_s": chain.buildSeconds, "grad_s": chain.gradSeconds,
                                "forward_nodes": chain.forwardNodes, "total_nodes": chain.totalNodes]))
            }
            for (name, p, c, t) in [("joint", jointP.taskCount, jointCompile, jointT), ("separate-merged", mergedP.taskCount, mergedCompile,
                                                                                        mergedT),
                                    ("separate-unmerged", unmergedTasks, unmergedCompile, unmergedT)] {
                print(jsonLine(["bench": "seed-step", "program": name, "batch": batch, "threads": threads, "tasks": p,
                                "compile_s": c, "median_s": t.median, "min_s": t.min, "max_s": t.max]))
            }
        } else {
            print("""

            Seed experiment: network \(sizes.map(String.init).joined(separator: "-")), \(dtype)
            Building the gradients (\(reps) repetitions each, fresh graph each time; the seed measured Theano at 61 ms vs 305 ms):
              joint     grad(loss, [w1…b4])       \(fmt(report.jointMean * 1e6, 1)) ± \(fmt(report.jointStd * 1e6, 1)) µs
              separate  8 × grad(loss, p)         \(fmt(report.separateMean * 1e6, 1)) ± \(fmt(report.separateStd * 1e6, 1)) µs  (\(fmt(report.separateMean / report.jointMean, 2))× joint)
            Gradient graph nodes: joint \(report.stats.joint); separate before merging \(report.stats.separateRaw); separate after merging \(report.stats.separateMerged)
            \(chain.map { "Deep chain: \(chainDepth) tanh nodes built in \(fmt($0.buildSeconds, 3)) s, differentiated in \(fmt($0.gradSeconds, 3)) s (\($0.totalNodes) nodes in all), no recursion" } ?? "")

            Compiled programs (batch \(batch), \(threads) thread(s)):          tasks   compile ms   step median s (min–max)
              joint                                          \(pad(jointP.taskCount, 6))   \(pad(fmt(jointCompile * 1e3, 1), 10))   \(fmt(jointT.median, 4)) (\(fmt(jointT.min, 4))–\(fmt(jointT.max, 4)))
              separate grads compiled together (merged)      \(pad(mergedP.taskCount, 6))   \(pad(fmt(mergedCompile * 1e3, 1), 10))   \(fmt(mergedT.median, 4)) (\(fmt(mergedT.min, 4))–\(fmt(mergedT.max, 4)))
              separate grads, \(separate.count) programs, no merging         \(pad(unmergedTasks, 6))   \(pad(fmt(unmergedCompile * 1e3, 1), 10))   \(fmt(unmergedT.median, 4)) (\(fmt(unmergedT.min, 4))–\(fmt(unmergedT.max, 4)))
            The merged program is \(identical ? "identical to" : "DIFFERENT from") the joint one; unmerged costs \(fmt(unmergedT.median / jointT.median, 2))× the joint step.
            """)
        }
    }

    private static func pad(_ x: Any, _ width: Int) -> String {
        let s = "\(x)"
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
