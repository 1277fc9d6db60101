import Testing
import DataflowKernels

@Suite struct ReduceTests {
    @Test(arguments: [(1, 1), (3, 15), (17, 16), (5, 17), (64, 65), (257, 3)])
    func reductionsMatchReference(shape: (Int, Int)) throws {
        try check(Float.self, shape)
        try check(Double.self, shape)
    }

    func check<T: KernelScalar>(_: T.Type, _ shape: (Int, Int)) throws {
        let (m, n) = shape
        let x = randomMatrix(T.self, rows: m, cols: n, ld: n + 1, seed: 3)
        let tol = Double(T.ulpOfOne) * Double(m + n + 4)
        for op in [ReduceOp.sum, .mean, .max] {
            func ref(_ values: [T]) -> Double {
                let d = values.map(Double.init)
                switch op {
                case .sum: return d.reduce(0, +)
                case .mean: return d.reduce(0, +) / Double(d.count)
                case .max: return d.max()!
                }
            }
            let rowsOut = MatrixView(TensorBuffer<T>(count: m), rows: m, cols: 1)
            try Reduce.rows(op, x, into: rowsOut)
            for i in 0..<m { #expect(abs(Double(rowsOut[i, 0]) - ref((0..<n).map { x[i, $0] })) <= tol * Double(n), "rows \(op) \(i)") }
            let colsOut = MatrixView(TensorBuffer<T>(count: n), rows: 1, cols: n)
            try Reduce.columns(op, x, into: colsOut)
            for j in 0..<n { #expect(abs(Double(colsOut[0, j]) - ref((0..<m).map { x[$0, j] })) <= tol * Double(m), "columns \(op) \(j)") }
            // Column sub-views give bitwise-identical results (tasks may split columns).
            if n > 5 {
                let part = MatrixView(TensorBuffer<T>(count: n - 5), rows: 1, cols: n - 5)
                try Reduce.columns(op, x.cols(5..<n), into: part)
                #expect((0..<(n - 5)).allSatisfy { Double(part[0, $0]).bitPattern == Double(colsOut[0, $0 + 5]).bitPattern })
            }
            let all = MatrixView(TensorBuffer<T>(count: 1), rows: 1, cols: 1)
            try Reduce.all(op, x, into: all)
            #expect(abs(Double(all[0, 0]) - ref(x.elements)) <= tol * Double(m * n), "all \(op)")
        }
    }

    @Test func rowResultsDoNotDependOnStrides() throws {
        let x = randomMatrix(Float.self, rows: 6, cols: 45, seed: 9)
        let dense = MatrixView(TensorBuffer<Float>(count: 6), rows: 6, cols: 1)
        try Reduce.rows(.sum, x, into: dense)
        // The same numbers, laid out transposed and read through swapped strides.
        let t = MatrixView(TensorBuffer<Float>(count: 270), rows: 45, cols: 6)
        for i in 0..<6 { for j in 0..<45 { t[j, i] = x[i, j] } }
        let viaT = MatrixView(TensorBuffer<Float>(count: 6), rows: 1, cols: 6)
        try Reduce.rows(.sum, MatrixView(t.buffer, rows: 6, cols: 45, rowStride: 1, colStride: 6), into: viaT)
        #expect(dense.elements == viaT.elements)
    }

    @Test func misuseThrows() {
        let x = randomMatrix(Float.self, rows: 3, cols: 4, seed: 1)
        do { try Reduce.rows(.sum, x, into: MatrixView(TensorBuffer<Float>(count: 4), rows: 1, cols: 4)); Issue.record("no throw") }
        catch { #expect(error.message.contains("y must be a line of 3")) }
        do { try Reduce.all(.sum, x, into: MatrixView(TensorBuffer<Float>(count: 4), rows: 2, cols: 2)); Issue.record("no throw") }
        catch { #expect(error.message.contains("y is 2×2, expected 1×1")) }
    }
}
