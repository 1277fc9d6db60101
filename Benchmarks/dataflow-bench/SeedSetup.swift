import Dataflow
import DataflowKernels
import Foundation

/// The seed network at a given size, its gradients and a batch of feeds: what the
/// `seed` and `speedup` subcommands measure.
struct SeedSetup {
    let graph: Graph
    let net: SeedNetwork
    let grads: [Tensor]
    let feeds: [String: TensorValue]
    let sizes: [Int]
    let batch: Int
    let dtype: DType

    static let sizeHelp = "layer sizes, input first"

    init(sizes: [Int], batch: Int, dtype: DType) throws {
        self.sizes = sizes
        self.batch = batch
        self.dtype = dtype
        progress("building the seed network \(sizes.map(String.init).joined(separator: "-")) (\(dtype), batch \(batch)) and its gradients")
        graph = Graph()
        net = try SeedNetwork(in: graph, sizes: sizes, dtype: dtype, seed: 1)
        grads = try grad(of: net.loss, wrt: net.parameters)
        feeds = ["x": try .uniform([batch, sizes[0]], dtype, in: 0...1, seed: 11),
                 "y": try .labels(count: batch, classes: sizes.last!, seed: 12)]
    }

    var outputs: [Tensor] { [net.loss] + grads }

    /// Parses `--sizes`, `--batch`, `--dtype`.
    static func parse(_ options: Options) throws -> (sizes: [Int], batch: Int, dtype: DType) {
        let sizes = try options.intList("sizes") ?? SeedNetwork.defaultSizes
        guard sizes.count >= 2 else { throw CLIError("option '--sizes' needs at least an input and an output size") }
        let batch = try options.int("batch") ?? 256
        let dtype: DType = try options.choice("dtype", among: ["float", "double"]) == "double" ? .float64 : .float32
        return (sizes, batch, dtype)
    }

    /// Median, min and max seconds of `reps` timed calls after `warmup` untimed ones.
    static func time(_ label: String, reps: Int, warmup: Int, _ body: () throws -> Void) rethrows -> (median: Double, min: Double,
                                                                                                      max: Double, all: [Double]) {
        for w in 0..<warmup {
            progress("\(label): warm-up \(w + 1)/\(warmup)")
            try body()
        }
        var times: [Double] = []
        for r in 0..<reps {
            let t0 = now()
            try body()
            times.append(now() - t0)
            progress("\(label): repetition \(r + 1)/\(reps): \(String(format: "%.4f", times.last!)) s (\(reps - r - 1) left)")
        }
        return (median(times), times.min()!, times.max()!, times)
    }
}

func fmt(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
