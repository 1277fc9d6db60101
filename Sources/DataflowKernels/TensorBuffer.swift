#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An element type a `TensorBuffer` can hold: `Float`, `Double` (computed with)
/// and `Int32` (labels).
public protocol TensorElement: BitwiseCopyable, Sendable, Hashable {
    /// The additive identity, used to zero-fill new buffers.
    static var zeroElement: Self { get }
}

extension Float: TensorElement { public static var zeroElement: Float { 0 } }
extension Double: TensorElement { public static var zeroElement: Double { 0 } }
extension Int32: TensorElement { public static var zeroElement: Int32 { 0 } }

/// A fixed-size, 64-byte aligned, zero-initialised block of elements: the storage
/// of every tensor value, parameter and intermediate buffer.
///
/// It is a reference type so that a compiled program, a parameter and the user can
/// share one block without copies. It is `Sendable` because tasks of one program
/// write disjoint regions of it concurrently; ordering between a writer and its
/// readers is the scheduler's job (task dependencies), not the buffer's.
///
/// ```swift
/// let b = TensorBuffer<Float>([1, 2, 3])
/// b[1] = 5
/// b.toArray()   // [1, 5, 3]
/// ```
public final class TensorBuffer<Element: TensorElement>: @unchecked Sendable {
    /// Start of the storage. Only the kernels module touches it.
    @usableFromInline
    internal let base: UnsafeMutablePointer<Element>

    /// The number of elements.
    public let count: Int

    /// A zero-filled buffer of `count` elements.
    ///
    /// - Parameter count: the number of elements, at least 0.
    /// - Complexity: O(count): the memory is touched once.
    public init(count: Int) {
        precondition(count >= 0, "TensorBuffer: count must be non-negative, got \(count)")
        self.count = count
        let bytes = max(64, count * MemoryLayout<Element>.stride)
        let raw = _allocateKernelMemory(bytes: bytes, what: "TensorBuffer")
        memset(raw, 0, bytes)
        base = raw.bindMemory(to: Element.self, capacity: max(count, 1))
    }

    /// A buffer holding a copy of `values`.
    public convenience init(_ values: [Element]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let src = source.baseAddress { base.update(from: src, count: values.count) }
        }
    }

    deinit {
        free(UnsafeMutableRawPointer(base))
    }

    /// The element at `index`; bounds are checked.
    @inlinable
    public subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "TensorBuffer: index \(index) out of range 0..<\(count)")
            return base[index]
        }
        set {
            precondition(index >= 0 && index < count, "TensorBuffer: index \(index) out of range 0..<\(count)")
            base[index] = newValue
        }
    }

    /// A copy of the elements as an array.
    public func toArray() -> [Element] {
        Array(UnsafeBufferPointer(start: base, count: count))
    }

    /// Copies `values` into the buffer, which must have the same count.
    public func assign(_ values: [Element]) {
        precondition(values.count == count, "TensorBuffer.assign: expected \(count) elements, got \(values.count)")
        values.withUnsafeBufferPointer { source in
            if let src = source.baseAddress { base.update(from: src, count: count) }
        }
    }

    /// Copies `count` elements from `source[sourceOffset...]` to `self[offset...]`.
    public func copy(from source: TensorBuffer<Element>, sourceOffset: Int = 0, offset: Int = 0, count n: Int) {
        precondition(sourceOffset >= 0 && sourceOffset + n <= source.count && offset >= 0 && offset + n <= count,
                     "TensorBuffer.copy: range out of bounds")
        (base + offset).update(from: source.base + sourceOffset, count: n)
    }

    /// Sets every element to `value`.
    public func fill(_ value: Element) {
        base.update(repeating: value, count: count)
    }
}

/// A 2-D strided window onto a `TensorBuffer`: element (i, j) lives at
/// `offset + i * rowStride + j * colStride`.
///
/// Rank-0 and rank-1 tensors are 1×1 and 1×n (or n×1) views. A stride of 0
/// broadcasts along that axis (read-only use). GEMM operands need `colStride == 1`
/// (row-major with leading dimension `rowStride`); transposes are GEMM flags.
public struct MatrixView<Element: TensorElement>: Sendable {
    public var buffer: TensorBuffer<Element>
    public var offset: Int
    public var rows: Int
    public var cols: Int
    public var rowStride: Int
    public var colStride: Int

    /// A view with explicit strides.
    public init(_ buffer: TensorBuffer<Element>, offset: Int = 0, rows: Int, cols: Int, rowStride: Int, colStride: Int = 1) {
        self.buffer = buffer
        self.offset = offset
        self.rows = rows
        self.cols = cols
        self.rowStride = rowStride
        self.colStride = colStride
    }

    /// A dense row-major view (`rowStride == cols`).
    public init(_ buffer: TensorBuffer<Element>, offset: Int = 0, rows: Int, cols: Int) {
        self.init(buffer, offset: offset, rows: rows, cols: cols, rowStride: cols, colStride: 1)
    }

    /// Rows `range` of this view.
    public func rows(_ range: Range<Int>) -> MatrixView {
        var v = self
        v.offset = offset + range.lowerBound * rowStride
        v.rows = range.count
        return v
    }

    /// Columns `range` of this view.
    public func cols(_ range: Range<Int>) -> MatrixView {
        var v = self
        v.offset = offset + range.lowerBound * colStride
        v.cols = range.count
        return v
    }

    /// Whether every addressed element lies inside the buffer.
    public var isInBounds: Bool {
        if rows == 0 || cols == 0 { return offset >= 0 && offset <= buffer.count }
        let lastRow = (rows - 1) * rowStride, lastCol = (cols - 1) * colStride
        let lo = offset + min(0, lastRow) + min(0, lastCol)
        let hi = offset + max(0, lastRow) + max(0, lastCol)
        return lo >= 0 && hi < buffer.count
    }

    /// Whether the view is dense row-major (`colStride == 1`, `rowStride == cols`).
    public var isContiguous: Bool { colStride == 1 && (rowStride == cols || rows <= 1) }
}

/// Memory for tensors and packing buffers: 64-byte aligned; from 4 MiB up, aligned
/// to 2 MiB and marked for transparent huge pages (`MADV_HUGEPAGE`, as numpy does
/// for large arrays), so that a GEMM walking down the rows of a large matrix does
/// not take a TLB miss per row, and first touch faults once per 2 MiB instead of
/// once per 4 KiB. Where the kernel leaves THP off, the advice is ignored.
func _allocateKernelMemory(bytes: Int, what: String) -> UnsafeMutableRawPointer {
    let hugePage = 2 << 20
    let large = bytes >= 2 * hugePage
    var raw: UnsafeMutableRawPointer?
    let status = posix_memalign(&raw, large ? hugePage : 64, bytes)
    precondition(status == 0 && raw != nil, "\(what): cannot allocate \(bytes) bytes")
    #if os(Linux)
    if large {
        _ = madvise(raw, bytes / 4096 * 4096, MADV_HUGEPAGE)
    }
    #endif
    return raw!
}
