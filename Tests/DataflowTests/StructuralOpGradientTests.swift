import Testing
import Dataflow

/// The structural and layer ops' gradients (and their gradient ops', for second order)
/// against central finite differences in Double, with `OpGradientTests`' helper.
extension OpCase {
    /// Int32 indices in `0..<bound` with a repeat, for embedding lookups.
    static func indices(_ b: inout Builder, _ name: String, _ shape: [Int], bound: Int) -> Tensor {
        let n = shape.reduce(1, *)
        let values = (0..<n).map { Int32(($0 * 7 + 3) % bound) }   // repeats once n > bound
        b.feeds[name] = try! TensorValue(shape: shape, int32s: values)
        return try! b.graph.placeholder(name, .int32, Shape(shape))
    }

    static let structural: [OpCase] = [
        OpCase("cast through int32 gives no gradient") { b in
            let x = b.input("x", [3, 4], in: -3...3)
            return try x * cast(cast(x, to: .int32), to: .float64)
        },
        OpCase("concat axis 0") { b in try concat([b.input("a", [2, 3]), b.input("b", [4, 3])], axis: 0) },
        OpCase("concat axis -1, three inputs") { b in
            try concat([b.input("a", [2, 3]), b.input("b", [2, 1]), b.input("c", [2, 2])], axis: -1)
        },
        OpCase("concat middle axis rank 3") { b in try concat([b.input("a", [2, 3, 4]), b.input("b", [2, 2, 4])], axis: 1) },
        OpCase("slice axis 1") { b in try slice(b.input("a", [3, 5]), axis: 1, start: 1, count: 3) },
        OpCase("slice ranges rank 3") { b in try slice(b.input("a", [4, 3, 5]), [1..<3, nil, 2..<5]) },
        OpCase("sliceGrad") { b in
            try b.input("dy", [3, 2]).applying(.sliceGrad(axis: 1, start: 2), [b.input("like", [3, 5], differentiate: false)])
        },
        OpCase("stack axis 1") { b in try stack([b.input("a", [2, 3]), b.input("b", [2, 3])], axis: 1) },
        OpCase("transpose permutation rank 3") { b in try transpose(b.input("a", [2, 3, 4]), permutation: [2, 0, 1]) },
        OpCase("transpose permutation rank 4") { b in try transpose(b.input("a", [2, 3, 2, 3]), permutation: [0, 2, 3, 1]) },
        OpCase("reshape inferred -1") { b in try reshape(b.input("a", [2, 3, 4]), [-1, 4]) * 1.5 },
        OpCase("embedding") { b in try embedding(b.input("table", [5, 3]), indices(&b, "i", [2, 4], bound: 5)) },
        OpCase("scatterAddRows") { b in
            let i = indices(&b, "i", [6], bound: 4)
            return try b.input("dy", [6, 3]).applying(.scatterAddRows, [i, b.input("like", [4, 3], differentiate: false)])
        },
        OpCase("logSumExp last axis") { b in try logSumExp(b.input("a", [3, 4], in: -3...3)) },
        OpCase("logSumExp axis 0") { b in try logSumExp(b.input("a", [3, 4], in: -3...3), axis: 0) },
        OpCase("logSumExp middle axis rank 3") { b in try logSumExp(b.input("a", [2, 3, 4], in: -3...3), axis: 1) },
        OpCase("max axes 1,3 rank 4") { b in try max(b.input("a", [2, 3, 2, 3]), axes: [1, 3]) },
        OpCase("mean axis -2 rank 3") { b in try mean(b.input("a", [2, 3, 4]), axes: [-2]) },
        OpCase("softmax axis 0") { b in try softmax(b.input("a", [3, 4]), axis: 0) },
        OpCase("softmax axis 1 rank 3") { b in try softmax(b.input("a", [2, 3, 4]), axis: 1) },
        OpCase("softmax last axis rank 3") { b in try softmax(b.input("a", [2, 3, 4]), axis: -1) },
        OpCase("logSoftmax axis 0 rank 3") { b in try logSoftmax(b.input("a", [3, 2, 4]), axis: 0) },
        OpCase("crossEntropy class axis 1 rank 3") { b in
            try crossEntropy(b.input("z", [2, 4, 3]), indices(&b, "y", [2, 3], bound: 4), axis: 1)
        },
        OpCase("crossEntropy last axis rank 3") { b in
            try crossEntropy(b.input("z", [2, 3, 5]), indices(&b, "y", [2, 3], bound: 5), axis: -1)
        },
        OpCase("layerNorm last axis with gain and bias") { b in
            try layerNorm(b.input("x", [3, 5]), gain: b.input("g", [5]), bias: b.input("b", [5]))
        },
        OpCase("layerNorm two axes") { b in try layerNorm(b.input("x", [2, 3, 4]), gain: b.input("g", [3, 4]), axes: 2) },
        OpCase("dropout (fixed counter)") { b in
            let counter = b.graph.scalar(3, .float64)
            return try dropout(b.input("x", [4, 5]), rate: 0.4, seed: 11, counter: counter)
        },
    ]

    /// batchNorm needs parameters for its running statistics.
    static let batchNorm: [OpCase] = [
        OpCase("batchNorm channels last") { b in
            let mean = b.graph.parameter("rm", try .zeros([3], .float64))
            let variance = b.graph.parameter("rv", try .filled([3], .float64, with: 1))
            return try Dataflow.batchNorm(b.input("x", [4, 2, 3]), gain: b.input("g", [3]), bias: b.input("b", [3]),
                                          runningMean: mean, runningVariance: variance).output
        },
        OpCase("batchNorm channel axis 1") { b in
            let mean = b.graph.parameter("rm", try .zeros([3], .float64))
            let variance = b.graph.parameter("rv", try .filled([3], .float64, with: 1))
            return try Dataflow.batchNorm(b.input("x", [4, 3, 2]), gain: b.input("g", [3]), runningMean: mean,
                                          runningVariance: variance, channelAxis: 1).output
        },
    ]
}

@Suite struct StructuralOpGradientTests {
    @Test(arguments: OpCase.structural + OpCase.batchNorm)
    func gradientMatchesFiniteDifferences(_ op: OpCase) throws {
        var builder = OpCase.Builder()
        let out = try op.build(&builder)
        let result = try gradientCheck(of: out, wrt: builder.wrt, feeds: builder.feeds)
        #expect(result.passed, "\(op): \(result)")
        #expect(result.checkedElements > 0)
    }

    /// float64 → float32 → float64: the gradient casts back (a looser tolerance for the
    /// float32 rounding inside the finite differences).
    @Test func castBetweenFloatsPassesTheGradient() throws {
        var b = OpCase.Builder()
        let x = b.input("x", [3, 4])
        let y = try cast(square(cast(x, to: .float32)), to: .float64)
        let result = try gradientCheck(of: y, wrt: [x], feeds: b.feeds, eps: 1e-2, atol: 1e-3, rtol: 1e-3)
        #expect(result.passed, "\(result)")
        let g = try grad(of: sum(y), wrt: x)
        #expect(g.dtype == .float64)
    }
}
