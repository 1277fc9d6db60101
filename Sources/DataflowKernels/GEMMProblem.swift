// A GEMM after its checks: the operands lowered to pointers (`_GEMMProblem`), the
// epilogue as a plain tag (`_EpilogueKind`), and how a kernel addresses op(A) when
// it reads A in place instead of packing it (`_InPlaceA`). `GEMM.dispatch`
// (GEMM.swift) builds one problem per call after `GEMM.validate`; the driver and
// kernels below it only read these values and never check shapes again.

enum _EpilogueKind {
    case none, bias, activation, activationGradient
}

/// A checked GEMM lowered to pointers.
struct _GEMMProblem<T>: @unchecked Sendable {
    var a: _UnsafeMatrix<T>
    var transposeA: Bool
    var b: _UnsafeMatrix<T>
    var transposeB: Bool
    var c: _UnsafeMatrix<T>
    var alpha: T
    var beta: T
    var epilogue: _EpilogueKind
    var activation: Activation
    /// Start of the bias row (colStride 1); unused unless `epilogue == .bias`.
    var bias: UnsafeMutablePointer<T>
    /// The activation output Y; unused unless `epilogue == .activationGradient`.
    var output: _UnsafeMatrix<T>

    var k: Int { transposeA ? a.rows : a.cols }

    func cast<U>(to _: U.Type) -> _GEMMProblem<U> {
        _GEMMProblem<U>(a: a.cast(to: U.self), transposeA: transposeA, b: b.cast(to: U.self), transposeB: transposeB,
                        c: c.cast(to: U.self), alpha: unsafeBitCast(alpha, to: U.self), beta: unsafeBitCast(beta, to: U.self),
                        epilogue: epilogue, activation: activation,
                        bias: UnsafeMutableRawPointer(bias).assumingMemoryBound(to: U.self), output: output.cast(to: U.self))
    }
}

/// How a micro-kernel reads op(A) in place: value (r, p) of a panel at
/// `start[r·rs + p·step]` (op(A) = A: rs = row stride, step 1; op(A) = Aᵀ: rs 1,
/// step = row stride).
struct _InPlaceA {
    var rs: Int
    var step: Int

    @inline(__always)
    init<T>(_ p: _GEMMProblem<T>) {
        (rs, step) = p.transposeA ? (1, p.a.rowStride) : (p.a.rowStride, 1)
    }

    /// op(A)[row, k0].
    @inline(__always)
    static func start<T>(_ p: _GEMMProblem<T>, row: Int, k0: Int) -> UnsafePointer<T> {
        UnsafePointer(p.transposeA ? p.a.at(k0, row) : p.a.at(row, k0))
    }
}
