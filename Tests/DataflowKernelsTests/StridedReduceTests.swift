import Testing
import DataflowKernels

/// `StridedReduce` against naive twins that enumerate every multi-index.
@Suite struct StridedReduceTests {
    static let cases: [([Int], [Int])] = [
        ([2, 3, 4], [0, 2]), ([2, 3, 4], [1]), ([5], [0]), ([3, 1, 2, 2], [1, 3]), ([2, 3, 2, 3], [0, 1, 2, 3]), ([4, 3], []),
    ]

    /// All multi-indices of `shape` in row-major order.
    static func indices(_ shape: [Int]) -> [[Int]] {
        var all: [[Int]] = [[]]
        for n in shape { all = all.flatMap { prefix in (0..<n).map { prefix + [$0] } } }
        return all
    }

    @Test(arguments: 0..<6)
    func reduceMatchesNaiveTwin(caseIndex: Int) throws {
        let (shape, axes) = StridedReduceTests.cases[caseIndex]
        // x stored transposed (reversed axes) so that the strides are not the dense ones.
        let count = shape.reduce(1, *)
        var strides = [Int](repeating: 0, count: shape.count)
        var s = 1
        for d in shape.indices { strides[d] = s; s *= shape[d] }
        let x = TensorBuffer<Double>(count: count + 2)
        var rng = SplitMix(seed: 5)
        for k in 0..<(count + 2) { x[k] = Double(Int(rng.next() % 7)) - 3 }
        let reduced = shape.indices.map { axes.contains($0) }
        let kept = shape.indices.filter { !reduced[$0] }
        let outCount = kept.map { shape[$0] }.reduce(1, *)
        for op in [ReduceOp.sum, .mean, .max] {
            let y = TensorBuffer<Double>(count: outCount + 1)
            try StridedReduce.reduce(op, x, offset: 1, shape: shape, strides: strides, reduced: reduced, into: y, yOffset: 1)
            // Naive twin: group every element by its kept index.
            var groups = [[Double]](repeating: [], count: outCount)
            for idx in StridedReduceTests.indices(shape) {
                var o = 0
                for d in kept { o = o * shape[d] + idx[d] }
                groups[o].append(x[1 + zip(idx, strides).reduce(0) { $0 + $1.0 * $1.1 }])
            }
            for o in 0..<outCount {
                let g = groups[o]
                let expected: Double = switch op {
                case .sum: g.reduce(0, +)
                case .mean: g.reduce(0, +) / Double(g.count)
                case .max: g.max()!
                }
                #expect(y[1 + o] == expected, "\(shape) axes \(axes) \(op) output \(o)")
            }
            #expect(y[0] == 0)
        }
    }

    @Test func outputRangesGiveTheSameBits() throws {
        let shape = [3, 5, 4], strides = [20, 4, 1]
        let x = TensorBuffer<Float>(count: 60)
        for k in 0..<60 { x[k] = Float(k % 11) * 0.37 - 1.1 }
        let whole = TensorBuffer<Float>(count: 12), parts = TensorBuffer<Float>(count: 12)
        let reduced = [false, true, false]
        try StridedReduce.reduce(.sum, x, shape: shape, strides: strides, reduced: reduced, into: whole)
        for r in [0..<5, 5..<12] {
            try StridedReduce.reduce(.sum, x, shape: shape, strides: strides, reduced: reduced, into: parts, outputs: r)
        }
        for k in 0..<12 { #expect(whole[k].bitPattern == parts[k].bitPattern) }
    }

    @Test func maxBackwardMatchesNaiveTwin() throws {
        // x [2, 3, 2], max over axes 0 and 2 (a pattern no 2-D view expresses).
        let shape = [2, 3, 2], xStrides = [6, 2, 1]
        let x = TensorBuffer<Double>(count: 12)
        for k in 0..<12 { x[k] = Double([1, 3, 3, 0, 2, 2, 3, 1, 2, 2, 0, 1][k]) }
        let y = TensorBuffer<Double>(count: 3), dy = TensorBuffer<Double>(count: 3)
        for j in 0..<3 {
            y[j] = [x[2 * j], x[2 * j + 1], x[6 + 2 * j], x[6 + 2 * j + 1]].max()!
            dy[j] = Double(j + 1)
        }
        let dx = TensorBuffer<Double>(count: 12)
        try StridedReduce.maxBackward(shape: shape, x: (x, offset: 0, strides: xStrides), max: (y, offset: 0, strides: [0, 1, 0]),
                                      gradient: (dy, offset: 0, strides: [0, 1, 0]), into: dx)
        for j in 0..<3 {
            let positions = [2 * j, 2 * j + 1, 6 + 2 * j, 7 + 2 * j]
            let ties = positions.filter { x[$0] == y[j] }.count
            for p in positions { #expect(dx[p] == (x[p] == y[j] ? dy[j] / Double(ties) : 0), "position \(p)") }
        }
    }

    @Test func rejectsStridesOutsideTheBuffer() {
        let x = TensorBuffer<Float>(count: 6), y = TensorBuffer<Float>(count: 3)
        #expect(throws: KernelError.self) {
            try StridedReduce.reduce(.sum, x, shape: [2, 4], strides: [4, 1], reduced: [true, false], into: y)
        }
        #expect(throws: KernelError.self) {
            try StridedReduce.reduce(.sum, x, shape: [2, 3], strides: [3, 1], reduced: [true], into: y)
        }
        #expect(throws: KernelError.self) {
            try StridedReduce.reduce(.sum, x, shape: [2, 3], strides: [3, 1], reduced: [false, true], into: TensorBuffer<Float>(count: 1))
        }
    }
}
