// Copies between strided views of rank ≤ 6: the kernel behind transpose (a
// permuted layout), slice (a sub-range of an axis), concat and stack (copies into
// slices of one dense output), and the dense packing of any view.
//
// Goals, in order: every addressed element checked against its buffer; exact copies
// (bits moved, never converted); then speed (a contiguous last axis is one block move).

/// Where the elements of a tensor of rank ≤ 6 live: element (i₀, …, iₖ) is at
/// `offset + Σ iₐ·strides[a]` (strides may be 0 to broadcast a source, or negative).
///
/// ```swift
/// let a = StridedLayout.dense([2, 3, 4])           // strides [12, 4, 1]
/// let t = try a.permuted([2, 0, 1])                // shape [4, 2, 3], strides [1, 12, 4]
/// let s = try a.sliced(axis: 1, 1..<3)             // shape [2, 2, 4], offset 4
/// ```
public struct StridedLayout: Sendable, Hashable {
    public var shape: [Int]
    public var strides: [Int]
    public var offset: Int

    /// A layout with explicit strides (checked by the copy that uses it).
    public init(shape: [Int], strides: [Int], offset: Int = 0) {
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// Row-major, last axis contiguous.
    public static func dense(_ shape: [Int], offset: Int = 0) -> StridedLayout {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for a in shape.indices.reversed() { strides[a] = s; s *= max(shape[a], 1) }
        return StridedLayout(shape: shape, strides: strides, offset: offset)
    }

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Axis a of the result is axis `permutation[a]` of this layout (a transpose).
    /// - Throws: `KernelError` if `permutation` is not a permutation of 0..<rank.
    public func permuted(_ permutation: [Int]) throws(KernelError) -> StridedLayout {
        guard permutation.count == shape.count, Set(permutation) == Set(shape.indices) else {
            throw KernelError("StridedLayout.permuted: \(permutation) is not a permutation of 0..<\(shape.count)")
        }
        return StridedLayout(shape: permutation.map { shape[$0] }, strides: permutation.map { strides[$0] }, offset: offset)
    }

    /// Elements `range` of axis `axis`.
    /// - Throws: `KernelError` if the axis or range is out of bounds.
    public func sliced(axis: Int, _ range: Range<Int>) throws(KernelError) -> StridedLayout {
        guard shape.indices.contains(axis) else {
            throw KernelError("StridedLayout.sliced: axis \(axis) is out of range 0..<\(shape.count)")
        }
        guard range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            throw KernelError("StridedLayout.sliced: range \(range) is outside 0..<\(shape[axis]) (axis \(axis))")
        }
        var l = self
        l.shape[axis] = range.count
        l.offset += range.lowerBound * strides[axis]
        return l
    }

    /// The lowest and highest buffer index addressed (nil when empty).
    var span: ClosedRange<Int>? {
        if shape.contains(0) { return nil }
        var lo = offset, hi = offset
        for a in shape.indices {
            let last = (shape[a] - 1) * strides[a]
            lo += min(0, last); hi += max(0, last)
        }
        return lo...hi
    }
}

/// Copies between strided views.
public enum StridedCopy {
    /// The largest rank supported.
    public static let maxRank = 6

    /// destination[i] = source[i] for every index i of the common shape.
    ///
    /// ```swift
    /// // transpose a dense [B, M, N] into a dense [B, N, M]
    /// let src = try StridedLayout.dense([b, m, n]).permuted([0, 2, 1])
    /// try StridedCopy.copy(from: x, src, into: y, .dense([b, n, m]))
    /// // concat along axis 1: copy each input into its slice of the output
    /// try StridedCopy.copy(from: a, .dense([2, 3]), into: out, StridedLayout.dense([2, 5]).sliced(axis: 1, 0..<3))
    /// ```
    /// - Parameters:
    ///   - source, sourceLayout: the view read (strides may be 0 or negative).
    ///   - destination, destinationLayout: the view written: same shape, no stride 0
    ///     on an axis longer than 1. If it is the source's buffer, the two spans must
    ///     not intersect (unless the layouts are equal, which copies nothing).
    /// - Throws: `KernelError` naming "source" or "destination": rank above 6, shape or
    ///   strides count mismatch, negative size, an element outside its buffer, a
    ///   broadcast destination, or overlap.
    /// - Complexity: one move per element (a block move per contiguous last-axis run).
    public static func copy<T: TensorElement>(from source: TensorBuffer<T>, _ sourceLayout: StridedLayout,
                                              into destination: TensorBuffer<T>, _ destinationLayout: StridedLayout) throws(KernelError) {
        let name = "StridedCopy.copy"
        try check(sourceLayout, "source", source.count, name)
        try check(destinationLayout, "destination", destination.count, name)
        guard sourceLayout.shape == destinationLayout.shape else {
            throw KernelError("\(name): source has shape \(sourceLayout.shape), destination \(destinationLayout.shape)")
        }
        for (n, s) in zip(destinationLayout.shape, destinationLayout.strides) where n > 1 && s == 0 {
            throw KernelError("\(name): destination has a stride-0 (broadcast) axis: shape \(destinationLayout.shape), "
                              + "strides \(destinationLayout.strides)")
        }
        if source === destination {
            if sourceLayout == destinationLayout { return }
            if let a = sourceLayout.span, let b = destinationLayout.span, a.overlaps(b) {
                throw KernelError("\(name): source (elements \(a)) and destination (elements \(b)) overlap in the same buffer")
            }
        }
        guard let _ = destinationLayout.span else { return }
        // Pad to rank 6 with leading axes of size 1.
        let pad = maxRank - sourceLayout.shape.count
        let shape = [Int](repeating: 1, count: pad) + sourceLayout.shape
        let ss = [Int](repeating: 0, count: pad) + sourceLayout.strides
        let ds = [Int](repeating: 0, count: pad) + destinationLayout.strides
        let src = UnsafeMutableRawPointer(source.base), dst = UnsafeMutableRawPointer(destination.base)
        switch MemoryLayout<T>.stride {
        case 4:
            _StridedKernels<UInt32>.copy(src.assumingMemoryBound(to: UInt32.self) + sourceLayout.offset, ss,
                                         dst.assumingMemoryBound(to: UInt32.self) + destinationLayout.offset, ds, shape)
        case 8:
            _StridedKernels<UInt64>.copy(src.assumingMemoryBound(to: UInt64.self) + sourceLayout.offset, ss,
                                         dst.assumingMemoryBound(to: UInt64.self) + destinationLayout.offset, ds, shape)
        default:
            _StridedKernels<T>.copy(source.base + sourceLayout.offset, ss, destination.base + destinationLayout.offset, ds, shape)
        }
        withExtendedLifetime(source) {}
        withExtendedLifetime(destination) {}
    }

    @inline(never)
    static func check(_ l: StridedLayout, _ name: String, _ count: Int, _ op: String) throws(KernelError) {
        guard l.shape.count <= maxRank else {
            throw KernelError("\(op): \(name) has rank \(l.shape.count); at most \(maxRank) is supported")
        }
        guard l.strides.count == l.shape.count else {
            throw KernelError("\(op): \(name) has \(l.shape.count) dimensions but \(l.strides.count) strides")
        }
        if let a = l.shape.firstIndex(where: { $0 < 0 }) {
            throw KernelError("\(op): \(name) has a negative size \(l.shape[a]) on axis \(a)")
        }
        if let s = l.span, s.lowerBound < 0 || s.upperBound >= count {
            throw KernelError("\(op): \(name) addresses elements \(s) outside its buffer of \(count) "
                              + "(shape \(l.shape), strides \(l.strides), offset \(l.offset))")
        }
    }
}

enum _StridedKernels<E> {
    /// Rank-6 loops; the last axis is a block move when both strides are 1.
    static func copy(_ src: UnsafeMutablePointer<E>, _ ss: [Int], _ dst: UnsafeMutablePointer<E>, _ ds: [Int], _ n: [Int]) {
        let n5 = n[5], s5 = ss[5], d5 = ds[5]
        for i0 in 0..<n[0] { for i1 in 0..<n[1] { for i2 in 0..<n[2] { for i3 in 0..<n[3] { for i4 in 0..<n[4] {
            let s = src + (i0 * ss[0] + i1 * ss[1] + i2 * ss[2] + i3 * ss[3] + i4 * ss[4])
            let d = dst + (i0 * ds[0] + i1 * ds[1] + i2 * ds[2] + i3 * ds[3] + i4 * ds[4])
            if s5 == 1 && d5 == 1 {
                d.update(from: s, count: n5)
            } else {
                for i5 in 0..<n5 { d[i5 * d5] = s[i5 * s5] }
            }
        }}}}}
    }
}
