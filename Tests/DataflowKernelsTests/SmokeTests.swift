import Testing
import DataflowKernels

@Test func gemmSmoke() throws {
    let a = randomMatrix(Float.self, rows: 5, cols: 7, seed: 1)
    let b = randomMatrix(Float.self, rows: 7, cols: 3, seed: 2)
    let c = MatrixView(TensorBuffer<Float>(count: 15), rows: 5, cols: 3)
    try GEMM.multiply(a, transposeA: false, b, transposeB: false, into: c)
    for i in 0..<5 { for j in 0..<3 {
        var s: Float = 0
        for p in 0..<7 { s += a[i, p] * b[p, j] }
        #expect(abs(s - c[i, j]) < 1e-5)
    }}
}
