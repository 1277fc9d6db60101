import Dataflow
import Foundation

/// `dataflow-bench train`: trains a small sigmoid MLP on synthetic data (Gaussian
/// blobs) with in-place SGD updates compiled into the step, printing the loss
/// falling and the accuracy rising. The README's library example, run.
enum TrainCommand: BenchCommand {
    static let summary = "Train a small MLP on synthetic data with compiled in-place SGD updates; print loss and accuracy per epoch."
    static let spec = OptionSpec([
        .option("epochs", "passes over the data", default: "20"),
        .option("samples", "training samples", default: "2048"),
        .option("features", "input features", default: "16"),
        .option("spread", "distance scale of the class centres (smaller is harder)", default: "0.35"),
        .option("hidden", "hidden units", default: "64"),
        .option("classes", "classes", default: "5"),
        .option("batch", "batch size", default: "128"),
        .option("lr", "learning rate", default: "0.1"),
        .option("threads", "worker threads", default: "\(ProcessInfo.processInfo.activeProcessorCount)"),
        .flag("json", "one JSON object per epoch on standard output"),
    ])

    static func run(_ options: Options) throws {
        let epochs = try options.int("epochs")!, samples = try options.int("samples")!
        let features = try options.int("features")!, hidden = try options.int("hidden")!
        let classes = try options.int("classes", range: 2...100_000)!, batch = try options.int("batch")!
        let threads = try options.int("threads", range: 1...1024)!
        guard let lrValue = Double(options.string("lr")!), lrValue > 0 else {
            throw CLIError("option '--lr' expects a positive number, got '\(options.string("lr")!)'")
        }
        guard let spread = Double(options.string("spread")!), spread > 0 else {
            throw CLIError("option '--spread' expects a positive number, got '\(options.string("spread")!)'")
        }
        let json = options.flag("json")

        // Synthetic data: each class is a Gaussian blob around a random centre.
        var rng = SeededGenerator(seed: 42)
        func gaussian() -> Double {
            let u = max(rng.nextUnit(), 1e-12), v = rng.nextUnit()
            return (-2 * Foundation.log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let centres = (0..<classes).map { _ in (0..<features).map { _ in spread * gaussian() } }
        var xs: [Float] = [], ys: [Int32] = []
        for _ in 0..<samples {
            let c = Int(rng.next() % UInt64(classes))
            ys.append(Int32(c))
            xs += centres[c].map { Float($0 + gaussian()) }
        }

        // --- The library example (README) ---
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, features])
        let y = try g.placeholder("y", .int32, [nil])
        let w1 = g.parameter("w1", try .uniform([features, hidden], .float32, in: -0.3...0.3, seed: 1))
        let b1 = g.parameter("b1", try .zeros([hidden], .float32))
        let w2 = g.parameter("w2", try .uniform([hidden, classes], .float32, in: -0.3...0.3, seed: 2))
        let b2 = g.parameter("b2", try .zeros([classes], .float32))
        let h = try sigmoid(x • w1 + b1)
        let logits = try h • w2 + b2
        let loss = try -mean(log(softmax(logits)).gather(y))   // becomes a fused, stable cross-entropy
        let params = [w1, b1, w2, b2]
        let grads = try grad(of: loss, wrt: params)            // one reverse sweep
        let lr = g.scalar(lrValue, .float32)
        let updates = try zip(params, grads).map { ParameterUpdate($0, try $0 - lr * $1) }
        let step = try compile(inputs: [x, y], outputs: [loss], updates: updates, options: CompileOptions(workers: threads))
        let predict = try compile(inputs: [x], outputs: [argmax(logits, axis: 1)], options: CompileOptions(workers: threads))
        // ---

        let allX = try TensorValue(shape: [samples, features], floats: xs)
        if !json { print("epoch   mean loss   accuracy") }
        for epoch in 0...epochs {
            var total = 0.0, batches = 0
            if epoch > 0 {
                for start in stride(from: 0, to: samples, by: batch) {
                    let end = min(start + batch, samples)
                    let bx = try TensorValue(shape: [end - start, features], floats: Array(xs[(start * features)..<(end * features)]))
                    let by = try TensorValue(shape: [end - start], int32s: Array(ys[start..<end]))
                    total += try step(["x": bx, "y": by])[0].scalarValue!
                    batches += 1
                }
            }
            let predicted = try predict(["x": allX])[0].int32s!
            let accuracy = Double(zip(predicted, ys).filter { $0 == $1 }.count) / Double(samples)
            let meanLoss = batches > 0 ? total / Double(batches) : Double.nan
            if json {
                print(jsonLine(["bench": "train", "epoch": epoch, "loss": meanLoss, "accuracy": accuracy]))
            } else {
                print(String(format: "%5d   %9.4f   %7.1f%%", epoch, meanLoss, 100 * accuracy).replacingOccurrences(of: "nan", with: "  —"))
            }
        }
    }
}
