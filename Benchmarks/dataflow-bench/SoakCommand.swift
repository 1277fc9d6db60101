import Dataflow
import Foundation

/// `dataflow-bench soak`: many training steps of a small network; resident memory
/// must stay flat (issue 7). Exits non-zero if it grows by more than `--max-growth-mb`.
enum SoakCommand: BenchCommand {
    static let summary = "Run many training steps of a small network and check that resident memory stays flat."
    static let spec = OptionSpec([
        .option("steps", "steps after warm-up", default: "1000"),
        .option("warmup", "steps before the first measurement", default: "100"),
        .option("max-growth-mb", "fail above this growth of resident memory", default: "2"),
        .option("threads", "worker threads", default: "2"),
        .flag("json", "one JSON object on standard output"),
    ])

    static func run(_ options: Options) throws {
        let steps = try options.int("steps")!, warmup = try options.int("warmup", range: 0...Int.max)!
        let threads = try options.int("threads", range: 1...1024)!
        guard let maxGrowth = Double(options.string("max-growth-mb")!) else { throw CLIError("option '--max-growth-mb' expects a number") }
        let g = Graph()
        let net = try SeedNetwork(in: g, sizes: [64, 128, 64, 10], dtype: .float32, seed: 3)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let lr = g.scalar(0.01, .float32)
        let updates = try zip(net.parameters, grads).map { ParameterUpdate($0, try $0 - lr * $1) }
        let step = try compile(inputs: [net.x, net.y], outputs: [net.loss], updates: updates, options: CompileOptions(workers: threads))
        let feeds: [String: TensorValue] = ["x": try .uniform([64, 64], .float32, in: 0...1, seed: 5), "y": try .labels(count: 64,
                classes: 10, seed: 6)]
        for _ in 0..<warmup { _ = try step(feeds) }
        let before = residentBytes()
        let t0 = now()
        for s in 0..<steps {
            _ = try step(feeds)
            if (s + 1) % max(1, steps / 4) == 0 { progress("soak: \(s + 1)/\(steps) steps, resident \(residentBytes() >> 10) KiB") }
        }
        let elapsed = now() - t0
        let after = residentBytes()
        let growth = Double(after - before) / 1048576
        if options.flag("json") {
            print(jsonLine(["bench": "soak", "steps": steps, "rss_before_bytes": before, "rss_after_bytes": after, "growth_mb": growth,
                            "seconds_per_step": elapsed / Double(steps)]))
        } else {
            print("soak: \(steps) steps (\(fmt(elapsed / Double(steps) * 1e6, 1)) µs/step): resident \(before >> 10) KiB → "
                + "\(after >> 10) KiB (\(fmt(growth, 2)) MiB)")
        }
        if growth > maxGrowth {
            throw CLIError("resident memory grew by \(fmt(growth, 2)) MiB over \(steps) steps (limit \(maxGrowth) MiB)")
        }
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
