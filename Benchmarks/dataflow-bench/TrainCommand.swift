import Dataflow
import Foundation

/// `dataflow-bench train`: trains a small MLP on synthetic data (Gaussian blobs) with
/// Adam compiled into the step, printing the loss falling and the held-out accuracy
/// rising, then saves the parameters and Adam's state as safetensors, loads them into a
/// fresh graph and checks the reloaded model predicts the same. The README's library
/// example, run.
enum TrainCommand: BenchCommand {
    static let summary = "Train a small MLP on synthetic data with Adam inside the compiled step; save, reload, evaluate."
    static let spec = OptionSpec([
        .option("epochs", "passes over the data", default: "20"),
        .option("samples", "training samples", default: "2048"),
        .option("features", "input features", default: "16"),
        .option("spread", "distance scale of the class centres (smaller is harder)", default: "0.35"),
        .option("hidden", "hidden units", default: "64"),
        .option("classes", "classes", default: "5"),
        .option("batch", "batch size", default: "128"),
        .option("lr", "Adam's learning rate", default: "0.01"),
        .option("checkpoint", "where to save the checkpoint (safetensors)", default: NSTemporaryDirectory() + "dataflow-train.safetensors"),
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

        let trainCount = samples * 4 / 5
        func batchValues(_ range: Range<Int>) throws -> (TensorValue, TensorValue) {
            (try TensorValue(shape: [range.count, features],
                             floats: Array(xs[(range.lowerBound * features)..<(range.upperBound * features)])),
             try TensorValue(shape: [range.count], int32s: Array(ys[range])))
        }
        let (testX, testY) = try batchValues(trainCount..<samples)
        let checkpoint = URL(fileURLWithPath: options.string("checkpoint")!)

        // --- The library example (README) ---
        func model(_ g: Graph) throws -> (x: Tensor, y: Tensor, logits: Tensor, loss: Tensor, params: [Tensor]) {
            let x = try g.placeholder("x", .float32, [nil, features])      // nil: the batch, known at run time
            let y = try g.placeholder("y", .int32, [nil])
            let w1 = g.parameter("w1", try .uniform([features, hidden], .float32, in: -0.3...0.3, seed: 1))
            let b1 = g.parameter("b1", try .zeros([hidden], .float32))
            let w2 = g.parameter("w2", try .uniform([hidden, classes], .float32, in: -0.3...0.3, seed: 2))
            let b2 = g.parameter("b2", try .zeros([classes], .float32))
            let logits = try relu(x • w1 + b1) • w2 + b2
            return (x, y, logits, try crossEntropy(logits, y), [w1, b1, w2, b2])
        }
        let g = Graph()
        let m = try model(g)
        let adam = try Adam(learningRate: lrValue).minimize(m.loss, parameters: m.params)   // grads + Adam's updates
        let compileOptions = CompileOptions(workers: threads)
        let step = try compile(inputs: [m.x, m.y], outputs: [m.loss], updates: adam.updates, options: compileOptions)
        let predict = try compile(inputs: [m.x], outputs: [argmax(m.logits, axis: 1)], options: compileOptions)
        func accuracy(_ predict: Function) throws -> Double {
            let predicted = try predict(["x": testX])[0].int32s!
            return Double(zip(predicted, testY.int32s!).filter { $0 == $1 }.count) / Double(testY.count)
        }
        // ---

        if !json { print("epoch   mean loss   test accuracy") }
        for epoch in 0...epochs {
            var total = 0.0, batches = 0
            if epoch > 0 {
                for start in stride(from: 0, to: trainCount, by: batch) {
                    let (bx, by) = try batchValues(start..<min(start + batch, trainCount))
                    total += try step(["x": bx, "y": by])[0].scalarValue!
                    batches += 1
                }
            }
            let meanLoss = batches > 0 ? total / Double(batches) : Double.nan
            let acc = try accuracy(predict)
            if json {
                print(jsonLine(["bench": "train", "epoch": epoch, "loss": meanLoss, "accuracy": acc]))
            } else {
                print(String(format: "%5d   %9.4f   %9.1f%%", epoch, meanLoss, 100 * acc).replacingOccurrences(of: "nan", with: "  —"))
            }
        }

        // Save parameters and Adam's state; load them into a fresh graph of the same model.
        try g.saveParameters(to: checkpoint, metadata: ["epochs": "\(epochs)"])
        let reloaded = Graph()
        let r = try model(reloaded)
        _ = try Adam(learningRate: lrValue).minimize(r.loss, parameters: r.params)   // the same state parameters, by name
        try reloaded.loadParameters(from: checkpoint)
        let reloadedAccuracy = try accuracy(try compile(inputs: [r.x], outputs: [argmax(r.logits, axis: 1)], options: compileOptions))
        let original = try accuracy(predict)
        if json {
            print(jsonLine(["bench": "train", "checkpoint": checkpoint.path, "accuracy": original, "reloaded_accuracy": reloadedAccuracy]))
        } else {
            print("saved \(checkpoint.path); reloaded model's test accuracy \(String(format: "%.1f%%", 100 * reloadedAccuracy))"
                  + " (trained model: \(String(format: "%.1f%%", 100 * original)))")
        }
        guard reloadedAccuracy == original else {
            throw CLIError("the reloaded model predicts differently (\(reloadedAccuracy) vs \(original))")
        }
    }
}
