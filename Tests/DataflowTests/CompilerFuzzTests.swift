import DataflowKernels
import Foundation
import Testing
@testable import Dataflow

/// Random programs, fixed seeds: the compiled parallel result is bitwise equal to the
/// compiled single-threaded one and within tolerance of the reference interpreter.
/// `DATAFLOW_FUZZ_ITERATIONS` (default 12) makes the run longer.
@Suite("Compiler fuzzing")
struct CompilerFuzzTests {
    static var iterations: Int {
        ProcessInfo.processInfo.environment["DATAFLOW_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 12
    }

    /// A random graph over shapes [n, m], [m, n], [m], [n], [] with parameters, and
    /// the gradients of a random scalar with respect to them.
    struct RandomProgram {
        let graph = Graph()
        var outputs: [Tensor] = []
        var feeds: [String: TensorValue] = [:]
        var inputs: [Tensor] = []
        var loss: Tensor
        var parameters: [Tensor] = []
        let description: String

        /// - Parameter smooth: leave out relu (its kink breaks finite differences).
        init(seed: UInt64, smooth: Bool = false) throws {
            var rng = SeededGenerator(seed: seed)
            func pick(_ k: Int) -> Int { Int(rng.next() % UInt64(k)) }
            let n = 1 + pick(9), m = 1 + pick(40)
            let x = try graph.placeholder("x", .float64, [n, m])   // static: random ops never meet an unknown dim
            inputs = [x]
            feeds["x"] = try .uniform([n, m], .float64, in: -1...1, seed: seed &+ 1)
            var pool: [Tensor] = [x]
            var params: [Tensor] = []
            for k in 0..<3 {
                let shape = [[m, m], [m], [m, n]][k]
                let p = graph.parameter("p\(k)", try .uniform(shape, .float64, in: -0.8...0.8, seed: seed &+ 10 &+ UInt64(k)))
                params.append(p)
                if k < 2 { pool.append(p) }
            }
            var log: [String] = []
            for _ in 0..<(4 + pick(10)) {
                let a = pool[pick(pool.count)], b = pool[pick(pool.count)]
                var made: Tensor?
                switch pick(14) {
                case 0: made = try? a + b
                case 1: made = try? a - b
                case 2: made = try? a * b
                case 3: made = try? a / (exp(b) + 1.0)
                case 4: made = try? sigmoid(a)
                case 5: made = try? tanh(a)
                case 6: made = try? (smooth ? Dataflow.tanh(a * 2.0) : relu(a))
                case 7: made = try? exp(tanh(a))
                case 8: made = try? Dataflow.log(sigmoid(a) + 0.5)
                case 9: made = try? matmul(a, params[0])
                case 10: made = try? (a.shape.rank == 2 ? softmax(a) : nil)
                case 11: made = try? (a.shape.rank == 2 ? a.sum(axes: [pick(2)]) : a.sum())
                case 12: made = try? (a.shape.rank == 2 ? a.mean(axes: [1]) : -a)
                default: made = try? (a.shape.rank == 2 && a.shape.dims[1] == m ? matmul(a, params[0], transposeB: true) : a * 2.0)
                }
                if let made { pool.append(made); log.append(made.op.name) }
            }
            description = "seed \(seed): n \(n), m \(m), ops \(log)"
            // A scalar loss touching the newest tensors, and its gradients.
            var loss: Tensor = try pool.suffix(3).map { try $0.sum() }.reduce(graph.scalar(0, .float64)) { try $0 + $1 }
            loss = try loss + sum(matmul(x, params[2]))   // keeps every parameter connected
            self.loss = loss
            parameters = params
            let grads = try grad(of: loss, wrt: params, options: GradOptions(disconnected: .zeros))
            outputs = [loss] + Array(pool.suffix(2)) + grads
        }
    }

    @Test("random programs: parallel == single-threaded bitwise, ≈ interpreter", arguments: 0..<1)
    func randomPrograms(_: Int) throws {
        for s in 0..<UInt64(Self.iterations) {
            let program = try RandomProgram(seed: 1000 + s)
            let reference = try evaluate(program.outputs, feeds: program.feeds)
            var single: [TensorValue]?
            for workers in [1, 2, 3, 8] {
                var options = CompileOptions(workers: workers)
                options.minimumTileFlops = 100
                options.elementsPerTask = 16
                let f = try compile(inputs: program.inputs, outputs: program.outputs, options: options)
                let out = try f(program.feeds)
                if let single {
                    for (k, (a, b)) in zip(out, single).enumerated() {
                        #expect(bitwiseEqual(a, b), "\(program.description): output \(k) differs bitwise with \(workers) workers")
                    }
                } else {
                    single = out
                    for (k, (a, b)) in zip(out, reference).enumerated() {
                        let (ratio, at) = toleranceRatio(a, b, atol: 1e-10, rtol: 1e-8)
                        #expect(ratio <= 1, "\(program.description): output \(k) off the interpreter at \(at) (ratio \(ratio))")
                    }
                }
            }
        }
    }

    @Test("random expression graphs: gradients against central finite differences in Double")
    func randomGradients() throws {
        for s in 0..<UInt64(Self.iterations) {
            let program = try RandomProgram(seed: 5000 + s, smooth: true)
            // eps 3e-5 balances truncation (eps²·f‴) against rounding (|loss|·1e-16/eps): these
            // losses sum whole tensors and reach |loss| ~ 1e3. A wrong rule is off by O(1).
            let result = try gradientCheck(of: program.loss, wrt: program.parameters, feeds: program.feeds,
                                           eps: 3e-5, atol: 1e-6, rtol: 1e-4, options: GradOptions(disconnected: .zeros))
            #expect(result.passed, "\(program.description): \(result)")
        }
    }
}
