import Testing
import DataflowKernels

@Suite struct RowOpsTests {
    /// Logits including ±1000 (stability) and ordinary values.
    func logits<T: KernelScalar>(_: T.Type, rows: Int, cols: Int) -> MatrixView<T> {
        let x = randomMatrix(T.self, rows: rows, cols: cols, ld: cols + 3, seed: 17)
        for i in 0..<rows { for j in 0..<cols { x[i, j] = x[i, j] * 4 } }
        if cols > 2 { x[0, 0] = 1000; x[0, 1] = -1000; x[rows - 1, cols - 1] = -1000 }
        return x
    }

    func refLogSoftmax(_ row: [Double]) -> [Double] {
        let m = row.max()!
        let s = row.map { _exp($0 - m) }.reduce(0, +)
        return row.map { ($0 - m) - _log(s) }
    }

    @Test(arguments: [(1, 1), (2, 3), (5, 16), (4, 40), (3, 100)])
    func softmaxFamily(shape: (Int, Int)) throws {
        try check(Float.self, shape)
        try check(Double.self, shape)
    }

    func check<T: KernelScalar>(_: T.Type, _ shape: (Int, Int)) throws {
        let (m, n) = shape
        let x = logits(T.self, rows: m, cols: n)
        let tol = 8 * Double(T.ulpOfOne)
        let y = MatrixView(TensorBuffer<T>(count: m * n), rows: m, cols: n)
        let ly = MatrixView(TensorBuffer<T>(count: m * n), rows: m, cols: n)
        try RowOps.softmax(x, into: y)
        try RowOps.logSoftmax(x, into: ly)
        var refLS: [[Double]] = []
        for i in 0..<m {
            let r = refLogSoftmax((0..<n).map { Double(x[i, $0]) })
            refLS.append(r)
            for j in 0..<n {
                #expect(y[i, j].isFinite && ly[i, j].isFinite)
                #expect(abs(Double(y[i, j]) - _exp(r[j])) <= tol * max(_exp(r[j]), Double(T.leastNormalMagnitude)) + tol * 1e-3)
                #expect(abs(Double(ly[i, j]) - r[j]) <= tol * max(1, abs(r[j])) * 4)
            }
        }
        // Backward passes against their formulas in Double.
        let dy = randomMatrix(T.self, rows: m, cols: n, seed: 4)
        let dx = MatrixView(TensorBuffer<T>(count: m * n), rows: m, cols: n)
        try RowOps.softmaxBackward(output: y, dy, into: dx)
        for i in 0..<m {
            let dot = (0..<n).map { Double(dy[i, $0]) * Double(y[i, $0]) }.reduce(0, +)
            for j in 0..<n { #expect(abs(Double(dx[i, j]) - Double(y[i, j]) * (Double(dy[i, j]) - dot)) <= tol * Double(n + 2)) }
        }
        try RowOps.logSoftmaxBackward(output: ly, dy, into: dx)
        for i in 0..<m {
            let s = (0..<n).map { Double(dy[i, $0]) }.reduce(0, +)
            for j in 0..<n { #expect(abs(Double(dx[i, j]) - (Double(dy[i, j]) - _exp(Double(ly[i, j])) * s)) <= tol * Double(n + 2)) }
        }
        // Cross-entropy and its gradient.
        let labelValues = (0..<m).map { Int32(($0 * 7 + 1) % n) }
        let labels = MatrixView(TensorBuffer<Int32>(labelValues), rows: m, cols: 1)
        let loss = MatrixView(TensorBuffer<T>(count: 1), rows: 1, cols: 1)
        try RowOps.crossEntropy(logits: x, labels: labels, into: loss)
        let refLoss = -(0..<m).map { refLS[$0][Int(labelValues[$0])] }.reduce(0, +) / Double(m)
        #expect(loss[0, 0].isFinite)
        #expect(abs(Double(loss[0, 0]) - refLoss) <= tol * max(1, abs(refLoss)) * Double(n + 4))
        let scale = MatrixView(TensorBuffer<T>([T(0.5)]), rows: 1, cols: 1)
        try RowOps.crossEntropyBackward(logits: x, labels: labels, scale: scale, into: dx)
        for i in 0..<m { for j in 0..<n {
            let want = (_exp(refLS[i][j]) - (j == Int(labelValues[i]) ? 1 : 0)) * 0.5 / Double(m)
            #expect(abs(Double(dx[i, j]) - want) <= tol * 4 / Double(m))
        }}
        // gather / scatter / argmax
        let g = MatrixView(TensorBuffer<T>(count: m), rows: 1, cols: m)
        try RowOps.gather(x, labels: labels, into: g)
        for i in 0..<m { #expect(g[0, i] == x[i, Int(labelValues[i])]) }
        try RowOps.scatter(g, labels: labels, into: dx)
        for i in 0..<m { for j in 0..<n { #expect(dx[i, j] == (j == Int(labelValues[i]) ? g[0, i] : 0)) } }
        let am = MatrixView(TensorBuffer<Int32>(count: m), rows: m, cols: 1)
        try RowOps.argmax(x, into: am)
        for i in 0..<m {
            let row = (0..<n).map { x[i, $0] }
            #expect(Int(am[i, 0]) == row.firstIndex(of: row.max()!)!)
        }
    }

    @Test func badLabelThrowsNamingLabels() {
        let x = randomMatrix(Float.self, rows: 3, cols: 4, seed: 1)
        let labels = MatrixView(TensorBuffer<Int32>([0, 4, 1]), rows: 3, cols: 1)
        let loss = MatrixView(TensorBuffer<Float>(count: 1), rows: 1, cols: 1)
        do { try RowOps.crossEntropy(logits: x, labels: labels, into: loss); Issue.record("no throw") }
        catch { #expect(error.message.contains("labels[1] = 4 is out of range 0..<4")) }
        let negative = MatrixView(TensorBuffer<Int32>([0, 1, -2]), rows: 1, cols: 3)
        do { try RowOps.gather(x, labels: negative, into: loss); Issue.record("no throw") }
        catch { #expect(error.message.contains("labels[2] = -2")) }
    }
}
