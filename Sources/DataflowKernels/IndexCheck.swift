// Range checks of int32 indices (embedding lookups, one-hot encodings) before a kernel
// uses them, so that a caller can report the first bad index by position, the same
// one whatever split of the work into tasks follows.

/// Finds int32 indices outside a range.
public enum IndexCheck {
    /// The first position p in `positions` (in increasing order) whose index
    /// indices[offset + p] is outside 0..<bound, with that index; nil when all are in range.
    ///
    /// ```swift
    /// if let (p, v) = try IndexCheck.firstOutOfRange(tokens, positions: 0..<n, bound: vocabulary) { … }
    /// ```
    /// - Parameters:
    ///   - indices, offset: position p's index is indices[offset + p].
    ///   - positions: positions ≥ 0 to check.
    ///   - bound: the exclusive upper limit (every index is out of range when bound ≤ 0).
    /// - Throws: `KernelError` naming "positions" when a position falls outside the buffer.
    /// - Complexity: one read per position, up to the first bad one.
    public static func firstOutOfRange(_ indices: TensorBuffer<Int32>, offset: Int = 0, positions: Range<Int>,
                                       bound: Int) throws(KernelError) -> (position: Int, index: Int32)? {
        let name = "IndexCheck.firstOutOfRange"
        guard positions.lowerBound >= 0 else { throw KernelError("\(name): positions \(positions) has negative indices") }
        if positions.isEmpty { return nil }
        guard offset + positions.lowerBound >= 0, offset + positions.upperBound <= indices.count else {
            throw KernelError("\(name): positions \(positions) from offset \(offset) fall outside the indices of \(indices.count)")
        }
        let p = indices.base + offset
        var found: (Int, Int32)?
        for k in positions {
            let v = p[k]
            if v < 0 || Int(v) >= bound { found = (k, v); break }
        }
        withExtendedLifetime(indices) {}
        return found
    }
}
