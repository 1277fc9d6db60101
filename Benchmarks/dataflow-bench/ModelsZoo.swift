import Dataflow
import Foundation

/// The classic digit models of `Benchmarks/peers/models` (INIT.md §6), built with the
/// public graph API: a training step (loss, joint gradient, Adam as compiled parameter
/// updates) and an evaluation function on one graph.
struct ModelProgram {
    let model: String
    let graph: Graph
    /// Inputs of one step → `[loss]`; updates the parameters and Adam's state.
    let step: Function
    /// Inputs → `[loss, argmax]` (`[loss]` for the DAE, whose test loss uses clean images).
    let evaluate: Function
    /// Turns a batch (`x` row-major `[n, features]` as stored, labels, DAE mask) into feeds.
    let feeds: (_ x: [Float], _ y: [Int32], _ keep: [Float]?) throws -> [String: TensorValue]
    var hasAccuracy: Bool { model != "dae" }
}

enum ModelsZoo {
    static let models = ["logreg", "mlp", "cnn", "dae", "lstm"]
    static let learningRates: [String: Double] = ["logreg": 1e-2, "mlp": 3e-3, "cnn": 3e-3, "dae": 3e-3, "lstm": 3e-3]
    static let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8

    /// `tiles` overrides the tiles per matmul (the scale model traces a finely tiled
    /// program on one worker).
    static func build(model: String, seed: UInt64, lr: Double, workers: Int, timing: Bool = false,
                      tiles: Int? = nil) throws -> ModelProgram {
        let g = Graph()
        let init0 = ModelsInit.parameters(model: model, seed: seed, timing: timing)
        var byName: [String: InitTensor] = [:]
        for t in init0 { byName[t.name] = t }
        func param(_ name: String) throws -> Tensor {
            let t = byName[name]!
            return g.parameter(name, try TensorValue(shape: t.shape, floats: t.values))
        }
        // All cores is the default (nil), which lets the compiler run a small step on
        // fewer workers (CompileOptions.minimumWorkPerWorker); other counts are explicit.
        var options = CompileOptions(workers: workers == ProcessInfo.processInfo.activeProcessorCount ? nil : workers)
        if let tiles {
            options.tilesPerMatmul = tiles
            options.minimumTileFlops = 1e5
        }
        let y = try g.placeholder("y", .int32, [nil])

        switch model {
        case "logreg", "mlp", "cnn":
            let side = (model == "cnn" && timing) ? 28 : 8
            let x = try g.placeholder("x", .float32, [nil, side * side])
            let params: [Tensor]
            let logits: Tensor
            if model == "logreg" {
                let w = try param("W"), b = try param("b")
                params = [w, b]
                logits = try x • w + b
            } else if model == "mlp" {
                let w1 = try param("W1"), b1 = try param("b1"), w2 = try param("W2"), b2 = try param("b2")
                params = [w1, b1, w2, b2]
                logits = try relu(x • w1 + b1) • w2 + b2
            } else {
                let ps = try ["K1", "c1", "K2", "c2", "W3", "b3"].map(param)
                params = ps
                logits = try ModelsCNN.logits(x: x, side: side, params: ps)
            }
            let loss = try crossEntropy(logits, y)
            let step = try compile(inputs: [x, y], outputs: [loss], updates: adam(params, loss: loss, lr: lr), options: options)
            let evaluate = try compile(inputs: [x, y], outputs: [loss, argmax(logits, axis: 1)], options: options)
            return ModelProgram(model: model, graph: g, step: step, evaluate: evaluate) { xs, ys, _ in
                ["x": try TensorValue(shape: [ys.count, side * side], floats: xs), "y": try TensorValue(shape: [ys.count], int32s: ys)]
            }
        case "dae":
            let x = try g.placeholder("x", .float32, [nil, 64])
            let keep = try g.placeholder("keep", .float32, [nil, 64])
            let w = try param("W"), b = try param("b"), c = try param("c")
            func bce(_ input: Tensor) throws -> Tensor {
                let h = try sigmoid(input • w + b)
                let z = try matmul(h, w, transposeB: true) + c          // tied weights: Wᵀ
                // mean(softplus(z) − x·z), softplus(z) = max(z, 0) + log1p(exp(−|z|))
                return try mean(relu(z) + log1p(exp(-abs(z))) - x * z)
            }
            let loss = try bce(x * keep)
            let step = try compile(inputs: [x, keep], outputs: [loss], updates: adam([w, b, c], loss: loss, lr: lr), options: options)
            let evaluate = try compile(inputs: [x], outputs: [bce(x)], options: options)
            return ModelProgram(model: model, graph: g, step: step, evaluate: evaluate) { xs, ys, mask in
                var f = ["x": try TensorValue(shape: [ys.count, 64], floats: xs)]
                if let mask { f["keep"] = try TensorValue(shape: [ys.count, 64], floats: mask) }
                return f
            }
        case "lstm":
            let s = ModelsInit.lstmSizes(timing: timing)
            let H = s.hidden
            // One weight matrix per gate (i, f, g, o), cut from INIT.md's [in, 4H] layout by
            // columns, so the values equal the peers'; the bias is zero.
            func gateSlices(_ name: String) throws -> [Tensor] {
                let t = byName[name]!
                let rows = t.shape[0], cols = t.shape[1]
                return try ["i", "f", "g", "o"].enumerated().map { k, gate in
                    var v = [Float](); v.reserveCapacity(rows * H)
                    for r in 0..<rows { v += t.values[(r * cols + k * H)..<(r * cols + k * H + H)] }
                    let shape = rows == 1 ? [H] : [rows, H]
                    return g.parameter("\(name)_\(gate)", try TensorValue(shape: shape, floats: v))
                }
            }
            let wx = try gateSlices("Wx"), wh = try gateSlices("Wh")
            let bias = try ["i", "f", "g", "o"].map { g.parameter("b_\($0)", try TensorValue.zeros([H], .float32)) }
            let wo = try param("Wo"), bo = try param("bo")
            let xs = try (0..<s.steps).map { try g.placeholder("x\($0)", .float32, [nil, s.features]) }
            var h: Tensor? = nil, c: Tensor? = nil
            for t in 0..<s.steps {
                func gate(_ k: Int) throws -> Tensor {
                    var pre = try xs[t] • wx[k]
                    if let h { pre = try pre + h • wh[k] }
                    return try pre + bias[k]
                }
                let i = try sigmoid(gate(0)), f = try sigmoid(gate(1)), cand = try tanh(gate(2)), o = try sigmoid(gate(3))
                let cNew = try c.map { try f * $0 + i * cand } ?? (i * cand)
                c = cNew
                h = try o * tanh(cNew)
            }
            let logits = try h! • wo + bo
            let loss = try crossEntropy(logits, y)
            let params = wx + wh + bias + [wo, bo]
            let step = try compile(inputs: xs + [y], outputs: [loss], updates: adam(params, loss: loss, lr: lr), options: options)
            let evaluate = try compile(inputs: xs + [y], outputs: [loss, argmax(logits, axis: 1)], options: options)
            return ModelProgram(model: model, graph: g, step: step, evaluate: evaluate) { data, ys, _ in
                let n = ys.count, T = s.steps, F = s.features
                var feeds = ["y": try TensorValue(shape: [n], int32s: ys)]
                for t in 0..<T {
                    var v = [Float](repeating: 0, count: n * F)
                    for b in 0..<n { for f in 0..<F { v[b * F + f] = data[b * T * F + t * F + f] } }
                    feeds["x\(t)"] = try TensorValue(shape: [n, F], floats: v)
                }
                return feeds
            }
        default:
            throw CLIError("unknown model '\(model)'")
        }
    }

    /// Adam (`Dataflow.Adam`: torch.optim.Adam's formulas, bias-corrected, ε added to
    /// √v̂, β^t kept as state) as simultaneous parameter updates of the compiled step:
    ///     p ← p − (lr/(1−β₁ᵗ))·(m / (√v/√(1−β₂ᵗ) + ε))
    static func adam(_ params: [Tensor], loss: Tensor, lr: Double) throws -> [ParameterUpdate] {
        try Adam(learningRate: lr, beta1: beta1, beta2: beta2, epsilon: epsilon).minimize(loss, parameters: params).updates
    }
}
