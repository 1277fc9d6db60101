/// A floating-point element type the kernels compute with: `Float` and `Double`.
///
/// Generic entry points (`GEMM.multiply<T>` and friends) test `T` once per call and
/// enter concrete `SIMD16<Float>` or `SIMD8<Double>` code, so a generic caller in
/// another module still gets the specialised kernels. Conforming another type is
/// not supported (the entry points trap with a message).
///
/// ```swift
/// func step<T: KernelScalar>(_ w: MatrixView<T>, _ g: MatrixView<T>, lr: T) throws {
///     try Elementwise.axpby(alpha: -lr, g, beta: 1, into: w)
/// }
/// ```
public protocol KernelScalar: TensorElement, BinaryFloatingPoint {}

extension Float: KernelScalar {}
extension Double: KernelScalar {}

/// The concrete kernel family serving `T`.
enum _KernelKind {
    case float, double

    @inline(__always)
    init<T>(_: T.Type) {
        if T.self == Float.self {
            self = .float
        } else if T.self == Double.self {
            self = .double
        } else {
            preconditionFailure("DataflowKernels: \(T.self) is not supported (only Float and Double)")
        }
    }
}

/// A shape, stride, bounds or value error at a kernel entry point.
///
/// The message names the operand ("A", "B", "C", "bias", "labels", "x", …), what
/// was expected and what came.
///
/// ```swift
/// do { try GEMM.multiply(a, transposeA: false, b, transposeB: false, into: c) }
/// catch { print(error.message) }   // "GEMM: B has 3 rows, expected 4 (…)"
/// ```
public struct KernelError: Error, CustomStringConvertible, Sendable {
    /// A human-readable explanation naming the operand.
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// A point-wise activation function fused into a kernel (e.g. a GEMM epilogue).
public enum Activation: Sendable, Hashable {
    case none, sigmoid, tanh, relu
}

// MARK: - Internal pointer views

/// A checked `MatrixView` lowered to a raw pointer: element (i, j) lives at
/// `base[i * rowStride + j * colStride]`. Valid only inside `withUnsafeMatrix`.

struct _UnsafeMatrix<Element>: @unchecked Sendable {
    var base: UnsafeMutablePointer<Element>
    var rows: Int
    var cols: Int
    var rowStride: Int
    var colStride: Int

    @inline(__always)
    init(base: UnsafeMutablePointer<Element>, rows: Int, cols: Int, rowStride: Int, colStride: Int) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.rowStride = rowStride
        self.colStride = colStride
    }

    /// Pointer to element (i, j).
    @inline(__always)
    func at(_ i: Int, _ j: Int) -> UnsafeMutablePointer<Element> {
        base + (i * rowStride + j * colStride)
    }

    /// The same view reinterpreted as another element type of identical layout
    /// (used after a `T.self == Float.self` test).
    @inline(__always)
    func cast<U>(to _: U.Type) -> _UnsafeMatrix<U> {
        _UnsafeMatrix<U>(base: UnsafeMutableRawPointer(base).assumingMemoryBound(to: U.self),
                         rows: rows, cols: cols, rowStride: rowStride, colStride: colStride)
    }
}

extension MatrixView {
    /// Runs `body` with the raw view; the buffer stays alive meanwhile. The only
    /// place the kernels turn a checked view into a pointer.
    @inline(__always)
    func withUnsafeMatrix<R, E: Error>(_ body: (_UnsafeMatrix<Element>) throws(E) -> R) throws(E) -> R {
        let m = _UnsafeMatrix(base: buffer.base + offset, rows: rows, cols: cols, rowStride: rowStride, colStride: colStride)
        defer { withExtendedLifetime(buffer) {} }
        return try body(m)
    }

    /// "A (3×4, strides 4,1)": how an error message shows an operand.
    func describe(_ name: String) -> String {
        "\(name) (\(rows)×\(cols), strides \(rowStride),\(colStride), offset \(offset), buffer \(buffer.count))"
    }
}

// MARK: - Validation helpers

@inline(never)
func _checkBounds<T>(_ v: MatrixView<T>, _ name: @autoclosure () -> String, _ op: @autoclosure () -> String) throws(KernelError) {
    guard v.rows >= 0, v.cols >= 0 else {
        throw KernelError("\(op()): \(name()) has a negative shape \(v.rows)×\(v.cols)")
    }
    guard v.isInBounds else {
        throw KernelError("\(op()): \(name()) addresses elements outside its buffer: \(v.describe(name()))")
    }
}

@inline(never)
func _checkShape<T>(_ v: MatrixView<T>, _ name: @autoclosure () -> String, rows: Int, cols: Int, _ op: @autoclosure () -> String) throws(KernelError) {
    try _checkBounds(v, name(), op())
    guard v.rows == rows, v.cols == cols else {
        throw KernelError("\(op()): \(name()) is \(v.rows)×\(v.cols), expected \(rows)×\(cols)")
    }
}

/// An output must not broadcast: two of its elements may not share an address.
@inline(never)
func _checkWritable<T>(_ v: MatrixView<T>, _ name: @autoclosure () -> String, _ op: @autoclosure () -> String) throws(KernelError) {
    if (v.rows > 1 && v.rowStride == 0) || (v.cols > 1 && v.colStride == 0) {
        throw KernelError("\(op()): \(name()) is an output and cannot have a stride-0 (broadcast) axis: \(v.describe(name()))")
    }
}

/// Treats a view as a line of `count` elements (n×1 or 1×n): returns the pointer
/// stride between consecutive elements.
@inline(never)
func _lineStride<T>(_ v: MatrixView<T>, _ name: @autoclosure () -> String, count: Int, _ op: @autoclosure () -> String) throws(KernelError) -> Int {
    try _checkBounds(v, name(), op())
    guard v.rows * v.cols == count, v.rows == 1 || v.cols == 1 || count == 0 else {
        throw KernelError("\(op()): \(name()) must be a line of \(count) elements (\(count)×1 or 1×\(count)), got \(v.rows)×\(v.cols)")
    }
    return v.rows == 1 ? v.colStride : v.rowStride
}
