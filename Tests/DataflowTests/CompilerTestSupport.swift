import Testing
import DataflowKernels
@testable import Dataflow

/// A small seed-like MLP (sigmoid hidden layers, softmax cross-entropy) for the
/// compiler tests: built in its own graph, with a fixed seed.
struct CompilerMLP {
    let graph: Graph
    let x: Tensor
    let y: Tensor
    let weights: [Tensor]
    let biases: [Tensor]
    let logits: Tensor
    let loss: Tensor
    let sizes: [Int]
    let dtype: DType

    init(sizes: [Int], dtype: DType = .float64, seed: UInt64 = 7) throws {
        self.sizes = sizes
        self.dtype = dtype
        graph = Graph()
        x = try graph.placeholder("x", dtype, [nil, sizes[0]])
        y = try graph.placeholder("y", .int32, [nil])
        var ws: [Tensor] = [], bs: [Tensor] = []
        var h = x
        for l in 0..<(sizes.count - 1) {
            let scale = 1 / Double(sizes[l]).squareRoot()
            let w = graph.parameter("w\(l + 1)", try .uniform([sizes[l], sizes[l + 1]], dtype, in: -2 * scale...2 * scale,
                                                              seed: seed &+ UInt64(l)))
            let b = graph.parameter("b\(l + 1)", try .uniform([sizes[l + 1]], dtype, in: -0.5...0.5, seed: seed &+ 100 &+ UInt64(l)))
            ws.append(w); bs.append(b)
            let z = try h • w + b
            h = l == sizes.count - 2 ? z : try sigmoid(z)
        }
        weights = ws
        biases = bs
        logits = h
        loss = try -mean(log(softmax(logits)).gather(y))
    }

    var parameters: [Tensor] { weights + biases }

    func feeds(batch: Int, seed: UInt64 = 3) -> [String: TensorValue] {
        // Valid constant arguments: these factories cannot throw here.
        ["x": try! .uniform([batch, sizes[0]], dtype, in: -1...1, seed: seed),
         "y": try! .labels(count: batch, classes: sizes.last!, seed: seed &+ 1)]
    }
}

/// The largest |a − b| / (atol + rtol·|b|) over elements; ≤ 1 means within tolerance.
func toleranceRatio(_ a: TensorValue, _ b: TensorValue, atol: Double, rtol: Double) -> (ratio: Double, index: Int) {
    let x = a.asDoubles(), y = b.asDoubles()
    precondition(x.count == y.count)
    var worst = 0.0, at = -1
    for i in x.indices {
        let r = abs(x[i] - y[i]) / (atol + rtol * abs(y[i]))
        if !(r <= worst) { worst = r; at = i }
    }
    return (worst, at)
}

/// Bitwise equality of two values (same dtype, shape, bits).
func bitwiseEqual(_ a: TensorValue, _ b: TensorValue) -> Bool {
    guard a.shape == b.shape, a.dtype == b.dtype else { return false }
    switch (a.storage, b.storage) {
    case (.float32(let p), .float32(let q)): return zip(p.toArray(), q.toArray()).allSatisfy { $0.bitPattern == $1.bitPattern }
    case (.float64(let p), .float64(let q)): return zip(p.toArray(), q.toArray()).allSatisfy { $0.bitPattern == $1.bitPattern }
    case (.int32(let p), .int32(let q)): return p.toArray() == q.toArray()
    default: return false
    }
}

/// Compiles `outputs` with 1, 2, 4 and 8 workers (small tasks, so that several run),
/// checks each run against the interpreter (and its bits, if `bitwiseReference`) and the
/// runs against each other bit for bit.
func checkCompiledAcrossWorkers(_ inputs: [Tensor], _ outputs: [Tensor], _ feeds: [String: TensorValue], dtype: DType,
                                _ label: String, bitwiseReference: Bool = false) throws {
    let reference = try evaluate(outputs, feeds: feeds)
    var first: [TensorValue]?
    for workers in [1, 2, 4, 8] {
        var options = CompileOptions(workers: workers)
        options.elementsPerTask = 8
        options.minimumTileFlops = 1_000
        let values = try compile(inputs: inputs, outputs: outputs, options: options)(feeds)
        let (atol, rtol) = dtype == .float64 ? (1e-12, 1e-12) : (1e-4, 1e-4)
        for (k, (value, ref)) in zip(values, reference).enumerated() {
            #expect(value.shape == ref.shape, "\(label) output \(k): shape \(value.shape) vs \(ref.shape)")
            #expect(value.dtype == ref.dtype, "\(label) output \(k): dtype \(value.dtype) vs \(ref.dtype)")
            let (ratio, at) = toleranceRatio(value, ref, atol: atol, rtol: rtol)
            #expect(ratio <= 1, "\(label) output \(k), \(workers) workers: element \(at) off by ratio \(ratio)")
            if bitwiseReference { #expect(bitwiseEqual(value, ref), "\(label) output \(k): not the interpreter's bits") }
        }
        if let first {
            for k in values.indices { #expect(bitwiseEqual(first[k], values[k]), "\(label) output \(k): \(workers) workers") }
        } else {
            first = values
        }
    }
}
