import Testing
import DataflowKernels

/// `Reduce.maxBackward` and `Reduce.firstNonFinite` against naive twins.
@Suite struct MaxBackwardTests {
    enum Axis: CaseIterable { case rows, columns, all }

    @Test(arguments: Axis.allCases)
    func maxBackwardMatchesNaiveTwin(axis: Axis) throws {
        try check(Float.self, axis)
        try check(Double.self, axis)
    }

    func check<T: KernelScalar>(_: T.Type, _ axis: Axis) throws {
        let (m, n) = (7, 5)
        var rng = SplitMix(seed: 11)
        // Few distinct values, so that ties are common.
        let x = MatrixView(TensorBuffer<T>(count: m * n), rows: m, cols: n)
        for i in 0..<m { for j in 0..<n { x[i, j] = T(Int(rng.next() % 3)) } }
        // The group (reduced element) of each position, and the maxima and gradients per group.
        func group(_ i: Int, _ j: Int) -> Int {
            switch axis { case .rows: i; case .columns: j; case .all: 0 }
        }
        let groups = axis == .rows ? m : (axis == .columns ? n : 1)
        var maxima = [T](repeating: -.infinity, count: groups)
        for i in 0..<m { for j in 0..<n { maxima[group(i, j)] = Swift.max(maxima[group(i, j)], x[i, j]) } }
        let y = TensorBuffer<T>(count: groups), dy = TensorBuffer<T>(count: groups)
        for g in 0..<groups { y[g] = maxima[g]; dy[g] = T(g + 2) }
        let (rs, cs) = axis == .rows ? (1, 0) : (axis == .columns ? (0, 1) : (0, 0))
        let yView = MatrixView(y, rows: m, cols: n, rowStride: rs, colStride: cs)
        let dyView = MatrixView(dy, rows: m, cols: n, rowStride: rs, colStride: cs)
        let dx = MatrixView(TensorBuffer<T>(count: m * n), rows: m, cols: n)
        try Reduce.maxBackward(x: x, max: yView, gradient: dyView, into: dx)
        // Naive twin: count the maxima per group, share the gradient among them.
        var ties = [Int](repeating: 0, count: groups)
        for i in 0..<m { for j in 0..<n where x[i, j] == maxima[group(i, j)] { ties[group(i, j)] += 1 } }
        for i in 0..<m {
            for j in 0..<n {
                let g = group(i, j)
                let expected = x[i, j] == maxima[g] ? T(g + 2) / T(ties[g]) : 0
                #expect(dx[i, j] == expected, "\(axis) \(T.self) (\(i), \(j))")
            }
        }
        // The gradients of one group sum to dy.
        var sums = [T](repeating: 0, count: groups)
        for i in 0..<m { for j in 0..<n { sums[group(i, j)] += dx[i, j] } }
        for g in 0..<groups { #expect(abs(Double(sums[g]) - Double(g + 2)) < 1e-5) }
    }

    @Test func maxBackwardRejectsBadShapes() {
        let x = MatrixView(TensorBuffer<Float>(count: 6), rows: 2, cols: 3)
        let y = MatrixView(TensorBuffer<Float>(count: 2), rows: 2, cols: 1)
        #expect(throws: KernelError.self) { try Reduce.maxBackward(x: x, max: y, gradient: x, into: x) }
        let broadcast = MatrixView(TensorBuffer<Float>(count: 2), rows: 2, cols: 3, rowStride: 1, colStride: 0)
        #expect(throws: KernelError.self) { try Reduce.maxBackward(x: x, max: broadcast, gradient: broadcast, into: broadcast) }
    }

    @Test func firstNonFiniteMatchesNaiveTwin() throws {
        for bad in [Double.nan, .infinity, -.infinity] {
            for position in [nil, 0, 7, 11] as [Int?] {
                let buffer = TensorBuffer<Double>(count: 16)
                for k in 0..<16 { buffer[k] = Double(k) - 3.5 }
                // A 3×4 view with row stride 5 inside the buffer.
                let view = MatrixView(buffer, offset: 1, rows: 3, cols: 4, rowStride: 5, colStride: 1)
                if let p = position { view[p / 4, p % 4] = bad }
                let naive = view.elements.firstIndex { !$0.isFinite }
                #expect(try Reduce.firstNonFinite(view) == naive)
                #expect(naive == position)
            }
        }
    }
}
