import DataflowKernels

/// A deterministic pseudo-random generator (SplitMix64) so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A rows×cols view with leading dimension `ld` (≥ cols) filled with values in [-1, 1).
func randomMatrix<T: KernelScalar>(_: T.Type, rows: Int, cols: Int, ld: Int? = nil, seed: UInt64) -> MatrixView<T> {
    let ld = ld ?? cols
    var rng = SplitMix(seed: seed)
    let count = max(0, (rows - 1) * ld + cols) + 3
    let buffer = TensorBuffer<T>(count: count)
    for i in 0..<count { buffer[i] = T(Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) }
    return MatrixView(buffer, offset: 1, rows: rows, cols: cols, rowStride: ld, colStride: 1)
}

extension MatrixView {
    subscript(i: Int, j: Int) -> Element {
        get { buffer[offset + i * rowStride + j * colStride] }
        nonmutating set { buffer[offset + i * rowStride + j * colStride] = newValue }
    }

    /// The elements in row-major order.
    var elements: [Element] {
        var out: [Element] = []
        out.reserveCapacity(rows * cols)
        for i in 0..<rows { for j in 0..<cols { out.append(self[i, j]) } }
        return out
    }

    /// A dense copy in a fresh buffer.
    func copied() -> MatrixView {
        let v = MatrixView(TensorBuffer(count: rows * cols), rows: rows, cols: cols)
        for i in 0..<rows { for j in 0..<cols { v[i, j] = self[i, j] } }
        return v
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's functions, the accuracy references.
func _exp(_ x: Double) -> Double { exp(x) }
func _tanh(_ x: Double) -> Double { tanh(x) }
func _log(_ x: Double) -> Double { log(x) }
