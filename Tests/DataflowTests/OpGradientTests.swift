import Testing
import Dataflow

/// Every op's gradient (and the gradient ops' own gradients, for second order)
/// against central finite differences in Double, with a random projection to a scalar.
struct OpCase: CustomStringConvertible, Sendable {
    var description: String
    var build: @Sendable (inout Builder) throws -> Tensor

    /// Declares float64 placeholders with random feeds; they are the `wrt` set.
    struct Builder {
        let graph = Graph()
        var feeds: [String: TensorValue] = [:]
        var wrt: [Tensor] = []
        var seed: UInt64 = 1

        mutating func input(_ name: String, _ shape: [Int], in range: ClosedRange<Double> = -1...1, differentiate: Bool = true) -> Tensor {
            let t = try! graph.placeholder(name, .float64, Shape(shape))  // test names are unique
            feeds[name] = randomValue(shape, seed: seed, in: range)
            seed += 1
            if differentiate { wrt.append(t) }
            return t
        }

        mutating func labels(_ name: String, count: Int, classes: Int) -> Tensor {
            feeds[name] = try! .labels(count: count, classes: classes, seed: seed)
            seed += 1
            return try! graph.placeholder(name, .int32, [count])
        }
    }

    init(_ description: String, _ build: @escaping @Sendable (inout Builder) throws -> Tensor) {
        self.description = description
        self.build = build
    }

    static let all: [OpCase] = [
        OpCase("matmul") { b in try b.input("a", [3, 4]) • b.input("b", [4, 5]) },
        OpCase("matmul Aᵀ") { b in try matmul(b.input("a", [4, 3]), b.input("b", [4, 5]), transposeA: true) },
        OpCase("matmul Bᵀ") { b in try matmul(b.input("a", [3, 4]), b.input("b", [5, 4]), transposeB: true) },
        OpCase("matmul AᵀBᵀ") { b in try matmul(b.input("a", [4, 3]), b.input("b", [5, 4]), transposeA: true, transposeB: true) },
        OpCase("transpose") { b in try transpose(b.input("a", [3, 4])) },
        OpCase("reshape") { b in try reshape(b.input("a", [2, 6]), [nil, 4]) },
        OpCase("add broadcast") { b in try b.input("a", [3, 4]) + b.input("b", [4]) },
        OpCase("add both broadcast") { b in try b.input("a", [3, 1]) + b.input("b", [1, 4]) },
        OpCase("sub broadcast") { b in try b.input("a", [3, 4]) - b.input("b", [3, 1]) },
        OpCase("mul broadcast rank 3") { b in try b.input("a", [2, 3, 4]) * b.input("b", [3, 1]) },
        OpCase("div broadcast") { b in try b.input("a", [3, 4]) / b.input("b", [4], in: 0.5...2) },
        OpCase("scalar operators") { b in try (2.0 - b.input("a", [3])) * 3.0 / 1.5 + 1.0 },
        OpCase("neg") { b in try -b.input("a", [3, 4]) },
        OpCase("exp") { b in try exp(b.input("a", [3, 4])) },
        OpCase("log") { b in try log(b.input("a", [3, 4], in: 0.5...2)) },
        OpCase("sigmoid") { b in try sigmoid(b.input("a", [3, 4], in: -3...3)) },
        OpCase("tanh") { b in try tanh(b.input("a", [3, 4], in: -2...2)) },
        OpCase("relu") { b in try relu(b.input("a", [3, 4])) },
        OpCase("sum axis 1") { b in try sum(b.input("a", [3, 4]), axes: [1]) },
        OpCase("sum axes 0,2") { b in try sum(b.input("a", [2, 3, 4]), axes: [0, 2]) },
        OpCase("sum middle axis") { b in try sum(b.input("a", [2, 3, 4]), axes: [1]) },
        OpCase("sum all") { b in try sum(b.input("a", [2, 3, 4])) },
        OpCase("mean axis 1") { b in try mean(b.input("a", [3, 4]), axes: [1]) },
        OpCase("mean all") { b in try mean(b.input("a", [3, 4])) },
        OpCase("max axis 1") { b in try max(b.input("a", [3, 4]), axes: [1]) },
        OpCase("max all") { b in try max(b.input("a", [3, 4])) },
        OpCase("softmax rank 2") { b in try softmax(b.input("a", [3, 4])) },
        OpCase("softmax rank 1") { b in try softmax(b.input("a", [5])) },
        OpCase("logSoftmax") { b in try logSoftmax(b.input("a", [3, 4])) },
        OpCase("log(softmax)") { b in try log(softmax(b.input("a", [3, 4]))) },
        OpCase("gatherLabels") { b in try b.input("a", [4, 5]).gather(b.labels("y", count: 4, classes: 5)) },
        OpCase("crossEntropy") { b in try crossEntropy(b.input("z", [4, 5]), b.labels("y", count: 4, classes: 5)) },
        OpCase("seed loss pattern") { b in try -mean(log(softmax(b.input("z", [4, 5]))).gather(b.labels("y", count: 4, classes: 5))) },
        OpCase("broadcastLike") { b in try broadcastLike(b.input("a", [4]), b.input("like", [3, 4], differentiate: false)) },
        OpCase("sumToShapeOf") { b in try sumToShapeOf(b.input("a", [3, 4]), b.input("like", [1, 4], differentiate: false)) },
        // The gradient ops, so that gradients of gradients are right.
        OpCase("sigmoidGrad") { b in try b.input("y", [3, 4], in: 0.1...0.9).applying(.sigmoidGrad, [b.input("dy", [3, 4])]) },
        OpCase("tanhGrad") { b in try b.input("y", [3, 4]).applying(.tanhGrad, [b.input("dy", [3, 4])]) },
        OpCase("reluGrad") { b in try b.input("x", [3, 4], differentiate: false).applying(.reluGrad, [b.input("dy", [3, 4])]) },
        OpCase("softmaxGrad") { b in try softmax(b.input("z", [3, 4])).applying(.softmaxGrad, [b.input("dy", [3, 4])]) },
        OpCase("softmaxGrad rank 1") { b in try softmax(b.input("z", [5])).applying(.softmaxGrad, [b.input("dy", [5])]) },
        OpCase("logSoftmaxGrad") { b in try logSoftmax(b.input("z", [3, 4])).applying(.logSoftmaxGrad, [b.input("dy", [3, 4])]) },
        OpCase("maxGrad") { b in
            let x = b.input("x", [3, 4], differentiate: false)
            return try x.applying(.maxGrad(axes: [1]), [max(x, axes: [1]), b.input("dy", [3])])
        },
        OpCase("meanGrad") { b in try b.input("dy", [3]).applying(.meanGrad(axes: [1]), [b.input("like", [3, 4], differentiate: false)]) },
        OpCase("scatterLabels") { b in
            try b.input("dy", [4]).applying(.scatterLabels, [b.labels("y", count: 4, classes: 5), b.input("like", [4, 5], differentiate: false)])
        },
        // Element-wise math (stage two).
        OpCase("sqrt") { b in try sqrt(b.input("a", [3, 4], in: 0.5...2)) },
        OpCase("rsqrt") { b in try rsqrt(b.input("a", [3, 4], in: 0.5...2)) },
        OpCase("square") { b in try square(b.input("a", [3, 4])) },
        OpCase("abs") { b in try abs(b.input("a", [3, 4])) },
        OpCase("log1p") { b in try log1p(b.input("a", [3, 4], in: -0.5...2)) },
        OpCase("expm1") { b in try expm1(b.input("a", [3, 4])) },
        OpCase("pow 3") { b in try pow(b.input("a", [3, 4]), 3) },
        OpCase("pow 2") { b in try pow(b.input("a", [3, 4]), 2) },
        OpCase("pow -1.5") { b in try pow(b.input("a", [3, 4], in: 0.5...2), -1.5) },
        OpCase("maximum broadcast") { b in try maximum(b.input("a", [3, 4]), b.input("b", [4])) },
        OpCase("minimum broadcast") { b in try minimum(b.input("a", [3, 1]), b.input("b", [3, 4])) },
        OpCase("maximum tie splits") { b in
            let a = b.input("a", [3, 4])
            return try maximum(a, a) * b.input("w", [3, 4])
        },
        OpCase("where") { b in
            let mask = try greater(b.input("m", [3, 4], differentiate: false), b.input("t", [4], differentiate: false))
            return try `where`(mask, b.input("a", [3, 4]), b.input("b", [1, 4]))
        },
        OpCase("clamp") { b in try clamp(b.input("a", [3, 4], in: -2...2), -0.7, 0.9) },
        OpCase("comparisons (no gradient) times x") { b in
            let x = b.input("x", [3, 4])
            let y = b.input("y", [3, 4], differentiate: false)
            return try x * (greater(x, y) + lessEqual(x, y) * 2 + equal(x, x) * 3 + notEqual(x, y) - less(y, x) + greaterEqual(y, y))
        },
        OpCase("crossEntropyGrad") { b in
            try b.input("z", [4, 5]).applying(.crossEntropyGrad, [b.labels("y", count: 4, classes: 5), b.input("dl", [], in: 0.5...2)])
        },
    ]
}

@Suite struct OpGradientTests {
    @Test(arguments: OpCase.all)
    func gradientMatchesFiniteDifferences(_ op: OpCase) throws {
        var builder = OpCase.Builder()
        let out = try op.build(&builder)
        let result = try gradientCheck(of: out, wrt: builder.wrt, feeds: builder.feeds)
        #expect(result.passed, "\(op): \(result)")
        #expect(result.checkedElements > 0)
    }

    @Test func parametersAreCheckedThroughSetValue() throws {
        let g = Graph()
        let w = g.parameter("w", randomValue([3, 2], seed: 4))
        let x = try g.placeholder("x", .float64, [nil, 3])
        let loss = try sum(tanh(x • w))
        let result = try gradientCheck(of: loss, wrt: [w], feeds: ["x": randomValue([5, 3], seed: 5)])
        #expect(result.passed, "\(result)")
    }

    @Test func checkReportsTheWorstElementOnFailure() throws {
        // stopGradient makes the analytic gradient differ from the numeric one.
        var b = OpCase.Builder()
        let a = b.input("a", [3])
        let result = try gradientCheck(of: try sum(a * stopGradient(a)), wrt: [a], feeds: b.feeds)
        #expect(!result.passed)
        #expect(result.worst.hasPrefix("a["))
    }
}
