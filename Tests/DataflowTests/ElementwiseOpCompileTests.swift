import Testing
@testable import Dataflow

/// The stage-two element-wise ops compiled: against the interpreter (Float and
/// Double), fused and alone, and bitwise equal for 1, 2, 4 and 8 workers.
@Suite("Element-wise ops, compiled")
struct ElementwiseOpCompileTests {
    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let build: @Sendable (Tensor, Tensor) throws -> Tensor   // (a [7, 37], b [37]) → output
    }

    static let cases: [Case] = [
        Case(description: "sqrt(|a|) + rsqrt(b²+1)") { a, b in try sqrt(abs(a)) + rsqrt(square(b) + 1.0) },
        Case(description: "log1p(|a|) · expm1(b)") { a, b in try log1p(abs(a)) * expm1(b) },
        Case(description: "pow(a, 3) − pow(|b|+1, −1.5)") { a, b in try pow(a, 3) - pow(abs(b) + 1.0, -1.5) },
        Case(description: "sign(a) alone") { a, _ in try sign(a) },
        Case(description: "maximum/minimum broadcast") { a, b in try maximum(a, b) - minimum(a, b) * 2.0 },
        Case(description: "masks") { a, b in
            try greater(a, b) + greaterEqual(a, b) * 2.0 + less(a, b) * 4.0 + lessEqual(a, b) * 8.0
                + equal(a, a) * 16.0 + notEqual(a, b) * 32.0
        },
        Case(description: "where fused") { a, b in try `where`(greater(a, b), exp(a), b * 3.0) },
        Case(description: "where alone") { a, b in try `where`(a, a, b) },
        Case(description: "clamp") { a, b in try clamp(a * 2.0, -0.5, 0.75) + clamp(b, b * 0.5, b) },
    ]

    @Test(arguments: cases, [DType.float64, .float32])
    func matchesInterpreterAndIsBitwiseAcrossWorkers(_ c: Case, dtype: DType) throws {
        let g = Graph()
        let a = try g.placeholder("a", dtype, [nil, 37])
        let b = try g.placeholder("b", dtype, [37])
        let out = try c.build(a, b)
        let feeds: [String: TensorValue] = [
            "a": try .uniform([7, 37], dtype, in: -2...2, seed: 3),
            "b": try .uniform([37], dtype, in: -2...2, seed: 4),
        ]
        let reference = try evaluate([out], feeds: feeds)[0]
        var first: TensorValue?
        for workers in [1, 2, 4, 8] {
            var options = CompileOptions(workers: workers)
            options.elementsPerTask = 16   // several row tasks even at this size
            let value = try compile(inputs: [a, b], outputs: [out], options: options)(feeds)[0]
            let (atol, rtol) = dtype == .float64 ? (1e-13, 1e-12) : (1e-5, 1e-5)
            let (ratio, at) = toleranceRatio(value, reference, atol: atol, rtol: rtol)
            #expect(ratio <= 1, "\(c) \(dtype) \(workers) workers: element \(at) off by ratio \(ratio)")
            if let first { #expect(bitwiseEqual(first, value), "\(c): \(workers) workers differ from 1") } else { first = value }
        }
    }

    @Test func badArgumentsThrow() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [3])
        let i = try g.placeholder("i", .int32, [3])
        #expect(throws: GraphError.self) { try clamp(a, 1, -1) }
        #expect(throws: GraphError.self) { try sqrt(i) }
        #expect(throws: GraphError.self) { try maximum(a, try g.placeholder("c", .float32, [4])) }
        #expect(throws: GraphError.self) { try `where`(a, a, try g.placeholder("d", .float64, [3])) }
    }
}
