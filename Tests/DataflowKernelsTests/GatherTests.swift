import Testing
import DataflowKernels

func naiveGather<T: KernelScalar>(_ table: [T], cols: Int, _ idx: [Int32]) -> [T] {
    idx.flatMap { v in table[Int(v) * cols..<(Int(v) + 1) * cols] }
}

func naiveScatterAdd<T: KernelScalar>(_ dy: [T], cols: Int, _ idx: [Int32], vocabulary: Int, onto initial: [T]? = nil) -> [T] {
    var dt = initial ?? [T](repeating: 0, count: vocabulary * cols)
    for (p, v) in idx.enumerated() { for j in 0..<cols { dt[Int(v) * cols + j] += dy[p * cols + j] } }
    return dt
}

@Suite struct GatherTests {
    @Test(arguments: [(1, 1, 1), (10, 3, 15), (7, 16, 16), (5, 17, 17), (50, 33, 257)])
    func matchesNaiveTwins(shape: (Int, Int, Int)) throws {
        try check(Float.self, shape)
        try check(Double.self, shape)
    }

    func check<T: KernelScalar>(_: T.Type, _ shape: (Int, Int, Int)) throws {
        let (v, d, n) = shape
        var rng = SplitMix(seed: UInt64(v * 1000 + n))
        let idx = (0..<n).map { _ in Int32(rng.next() % UInt64(v)) }
        let table = randomMatrix(T.self, rows: v, cols: d, ld: d + 1, seed: 31)
        let iv = MatrixView(TensorBuffer(idx), rows: n, cols: 1)
        let out = MatrixView(TensorBuffer<T>(count: n * d), rows: n, cols: d)
        try Gather.rows(table, indices: iv, into: out)
        #expect(out.elements == naiveGather(table.copied().elements, cols: d, idx), "\(T.self) \(shape) gather")
        // Gradient: whole, then split by vocabulary rows in reverse order, with a
        // strided (transposed) index line; same bits as the naive position-order twin.
        let dyv = randomMatrix(T.self, rows: n, cols: d, seed: 32)
        let want = naiveScatterAdd(dyv.elements, cols: d, idx, vocabulary: v)
        let whole = MatrixView(TensorBuffer<T>(repeating: .nan, count: v * d), rows: v, cols: d)
        try Gather.rowsBackward(dyv, indices: iv, into: whole)
        #expect(whole.elements.map(Double.init) == want.map(Double.init), "\(T.self) \(shape) scatter-add")
        let split = MatrixView(TensorBuffer<T>(repeating: .nan, count: v * d), rows: v, cols: d)
        let strided = MatrixView(TensorBuffer((idx.flatMap { [$0, -1] })), rows: 1, cols: n, rowStride: 2 * n, colStride: 2)
        var hi = v
        while hi > 0 {
            let lo = max(0, hi - 3)
            try Gather.rowsBackward(dyv, indices: strided, into: split, vocabularyRows: lo..<hi)
            hi = lo
        }
        #expect(split.elements.map(Double.init) == want.map(Double.init), "\(T.self) \(shape) scatter-add split")
        // accumulate adds onto what is there, in the same position order.
        try Gather.rowsBackward(dyv, indices: iv, into: split, accumulate: true)
        let twice = naiveScatterAdd(dyv.elements, cols: d, idx, vocabulary: v, onto: want)
        #expect(split.elements.map(Double.init) == twice.map(Double.init), "\(T.self) \(shape) accumulate")
    }

    @Test func outOfRangeIndexIsNamed() {
        let table = MatrixView(TensorBuffer<Float>(count: 12), rows: 4, cols: 3)
        let out = MatrixView(TensorBuffer<Float>(count: 9), rows: 3, cols: 3)
        let idx = MatrixView(TensorBuffer<Int32>([0, 3, 4]), rows: 3, cols: 1)
        #expect { try Gather.rows(table, indices: idx, into: out) } throws: { e in
            (e as? KernelError)?.message.contains("indices[2] = 4 is out of range 0..<4") == true
        }
        let neg = MatrixView(TensorBuffer<Int32>([0, -1, 1]), rows: 3, cols: 1)
        #expect { try Gather.rowsBackward(out, indices: neg, into: table, vocabularyRows: 2..<4) } throws: { e in
            (e as? KernelError)?.message.contains("indices[1] = -1") == true
        }
    }
}
