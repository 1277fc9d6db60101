import Testing
@testable import Dataflow

/// A small CNN (conv → bias → relu → pool → conv → relu → pool → reshape → dense →
/// cross-entropy) compiled, forward and the gradients of all parameters: against
/// the interpreter in Float and Double, and bitwise equal for 1, 2, 4 and 8 workers.
@Suite("Convolutional network, compiled")
struct ConvCompileTests {
    struct Config: CustomStringConvertible, Sendable {
        let description: String
        let batch: Int
        let stride: (height: Int, width: Int)
        let padding: Padding2D
        let dilation: (height: Int, width: Int)
        let averagePool: Bool
    }

    static let configs: [Config] = [
        Config(description: "LeNet-style, same, max pools, batch 10", batch: 10, stride: (1, 1), padding: .same, dilation: (1, 1),
               averagePool: false),
        Config(description: "stride 2, explicit padding, dilation 2, average pool, batch 3", batch: 3, stride: (2, 2),
               padding: .explicit(top: 2, bottom: 1, left: 1, right: 2), dilation: (2, 2), averagePool: true),
    ]

    struct Network {
        let graph: Graph
        let x: Tensor, y: Tensor
        let parameters: [Tensor]
        let loss: Tensor
        let outputs: [Tensor]
        let feeds: [String: TensorValue]
    }

    static func network(_ c: Config, _ dtype: DType) throws -> Network {
        let g = Graph()
        let x = try g.placeholder("x", dtype, [nil, 8, 8, 1])
        let y = try g.placeholder("y", .int32, [nil])
        let k1 = g.parameter("k1", try .uniform([3, 3, 1, 4], dtype, in: -0.5...0.5, seed: 11))
        let b1 = g.parameter("b1", try .uniform([4], dtype, in: -0.1...0.1, seed: 12))
        let k2 = g.parameter("k2", try .uniform([3, 3, 4, 4], dtype, in: -0.3...0.3, seed: 13))
        let b2 = g.parameter("b2", try .uniform([4], dtype, in: -0.1...0.1, seed: 14))
        var h = try relu(conv2d(x, k1, padding: .same) + b1)
        h = try maxPool2d(h, window: (2, 2))                                                // [N, 4, 4, 4]
        h = try relu(conv2d(h, k2, stride: c.stride, padding: c.padding, dilation: c.dilation) + b2)
        h = c.averagePool ? try avgPool2d(h, window: (2, 2), padding: .same) : try maxPool2d(h, window: (2, 2))
        let features = h.shape.dims.dropFirst().reduce(1) { $0 * $1! }
        let flat = try reshape(h, [nil, features])
        let w = g.parameter("w", try .uniform([features, 3], dtype, in: -0.5...0.5, seed: 15))
        let b = g.parameter("b", try .uniform([3], dtype, in: -0.1...0.1, seed: 16))
        let loss = try crossEntropy(flat • w + b, y)
        let parameters = [k1, b1, k2, b2, w, b]
        let grads = try grad(of: loss, wrt: parameters)
        let feeds: [String: TensorValue] = [
            "x": try .uniform([c.batch, 8, 8, 1], dtype, in: -1...1, seed: 3),
            "y": try .labels(count: c.batch, classes: 3, seed: 4),
        ]
        return Network(graph: g, x: x, y: y, parameters: parameters, loss: loss, outputs: [loss, h] + grads, feeds: feeds)
    }

    @Test(arguments: configs, [DType.float64, .float32])
    func matchesInterpreterAndIsBitwiseAcrossWorkers(_ c: Config, dtype: DType) throws {
        let net = try Self.network(c, dtype)
        let reference = try evaluate(net.outputs, feeds: net.feeds)
        var first: [TensorValue]?
        for workers in [1, 2, 4, 8] {
            var options = CompileOptions(workers: workers)
            options.elementsPerTask = 16   // several row tasks even at this size
            let values = try compile(inputs: [net.x, net.y], outputs: net.outputs, options: options)(net.feeds)
            let (atol, rtol) = dtype == .float64 ? (1e-12, 1e-10) : (2e-5, 1e-3)
            for (k, (value, expected)) in zip(values, reference).enumerated() {
                #expect(value.shape == expected.shape)
                let (ratio, at) = toleranceRatio(value, expected, atol: atol, rtol: rtol)
                #expect(ratio <= 1, "\(c) \(dtype) \(workers) workers, output \(k): element \(at) off by ratio \(ratio)")
            }
            if let first {
                for (k, (a, b)) in zip(first, values).enumerated() {
                    #expect(bitwiseEqual(a, b), "\(c) \(dtype): output \(k) with \(workers) workers differs from 1 worker")
                }
            } else {
                first = values
            }
        }
    }

    /// The compiled gradients of the CNN against finite differences of the compiled loss (Double).
    @Test func compiledGradientsMatchFiniteDifferences() throws {
        let net = try Self.network(Self.configs[1], .float64)
        let function = try compile(inputs: [net.x, net.y], outputs: [net.loss], options: CompileOptions(workers: 4))
        _ = function
        let result = try gradientCheck(of: net.loss, wrt: [net.parameters[0], net.parameters[2]], feeds: net.feeds) { outputs, feeds in
            try compile(inputs: [net.x, net.y], outputs: outputs, options: CompileOptions(workers: 4))(feeds)
        }
        #expect(result.passed, "\(result)")
    }

    /// Reductions of a rank-4 value over leading, trailing and all axes, and an
    /// element-wise op that broadcasts along a middle axis (the strided rank-N path).
    @Test func rankFourReductionsAndMiddleBroadcast() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float64, [nil, 4, 4, 2])
        let middle = try g.placeholder("m", .float64, [4, 1, 2])
        let feeds: [String: TensorValue] = ["x": try .uniform([3, 4, 4, 2], .float64, in: -1...1, seed: 9),
                                            "m": try .uniform([4, 1, 2], .float64, seed: 2)]
        let outputs = [try mean(square(x)), try sum(x, axes: [0, 1, 2]), try sum(x, axes: [3]), try grad(of: mean(exp(x)), wrt: x),
                       try x * middle]
        let compiled = try compile(inputs: [x, middle], outputs: outputs)(feeds)
        let reference = try evaluate(outputs, feeds: feeds)
        for (a, b) in zip(compiled, reference) {
            #expect(toleranceRatio(a, b, atol: 1e-13, rtol: 1e-12).ratio <= 1)
        }
    }
}
