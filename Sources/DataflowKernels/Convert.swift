// Element-type conversion: the kernel behind the graph's `cast`.
//
// Goals, in order: never trap on any input value (float → int32 saturates and maps NaN
// to 0, where Swift's `Int32(_:)` would trap); each element converted on its own, so
// any split of a tensor into element ranges gives the same bits; then speed (one pass,
// a loop the compiler vectorises for float ↔ float).

/// Converts elements between `Float`, `Double` and `Int32`.
public enum Convert {
    /// destination[offset + i] = convert(source[sourceOffset + i]) for each i in `elements`.
    ///
    /// float ↔ float rounds to nearest even; float → int32 truncates toward zero,
    /// saturating at `Int32.min`/`Int32.max`, with NaN → 0; int32 → float is exact in
    /// `Double` and rounds to nearest in `Float`; same type → copy.
    ///
    /// ```swift
    /// try Convert.cast(x, into: y, elements: 0..<n)   // TensorBuffer<Float> -> TensorBuffer<Int32>
    /// ```
    /// - Parameters:
    ///   - source, sourceOffset: element i is read at source[sourceOffset + i].
    ///   - destination, offset: element i is written at destination[offset + i].
    ///   - elements: indices i ≥ 0; tasks converting disjoint ranges give the bits of one call.
    /// - Throws: `KernelError` naming "source" or "destination" when a range falls outside
    ///   its buffer, or "elements" for negative indices.
    /// - Complexity: one read and one write per element.
    public static func cast<S: TensorElement, D: TensorElement>(_ source: TensorBuffer<S>, sourceOffset: Int = 0,
                                                                into destination: TensorBuffer<D>, offset: Int = 0,
                                                                elements: Range<Int>) throws(KernelError) {
        let name = "Convert.cast"
        guard elements.lowerBound >= 0 else { throw KernelError("\(name): elements \(elements) has negative indices") }
        if elements.isEmpty { return }
        for (what, start, count) in [("source", sourceOffset, source.count), ("destination", offset, destination.count)]
        where start + elements.lowerBound < 0 || start + elements.upperBound > count {
            throw KernelError("\(name): elements \(elements) from offset \(start) fall outside the \(what) of \(count)")
        }
        if ObjectIdentifier(source) == ObjectIdentifier(destination), sourceOffset != offset,
           Swift.abs(sourceOffset - offset) < elements.count {
            throw KernelError("\(name): source (offset \(sourceOffset)) and destination (offset \(offset)) overlap in the same buffer")
        }
        let (src, dst) = (source.base + sourceOffset, destination.base + offset)
        let raw = (UnsafeMutableRawPointer(src), UnsafeMutableRawPointer(dst))
        switch (S.self, D.self) {
        case (is Float.Type, is Double.Type):
            _convert(raw.0, Float.self, raw.1, Double.self, elements) { Double($0) }
        case (is Double.Type, is Float.Type):
            _convert(raw.0, Double.self, raw.1, Float.self, elements) { Float($0) }
        case (is Float.Type, is Int32.Type):
            _convert(raw.0, Float.self, raw.1, Int32.self, elements) { truncatedInt32($0) }
        case (is Double.Type, is Int32.Type):
            _convert(raw.0, Double.self, raw.1, Int32.self, elements) { truncatedInt32($0) }
        case (is Int32.Type, is Float.Type):
            _convert(raw.0, Int32.self, raw.1, Float.self, elements) { Float($0) }
        case (is Int32.Type, is Double.Type):
            _convert(raw.0, Int32.self, raw.1, Double.self, elements) { Double($0) }
        default:
            precondition(MemoryLayout<S>.stride == MemoryLayout<D>.stride, "Convert.cast: \(S.self) → \(D.self) is not supported")
            (dst + elements.lowerBound).withMemoryRebound(to: S.self, capacity: elements.count) { d in
                d.update(from: src + elements.lowerBound, count: elements.count)
            }
        }
        withExtendedLifetime((source, destination)) {}
    }

    /// `v` truncated toward zero into `Int32`, saturating, NaN → 0 (never traps).
    @inline(__always)
    public static func truncatedInt32<F: BinaryFloatingPoint>(_ v: F) -> Int32 {
        if v.isNaN { return 0 }
        if v <= -2_147_483_648 { return .min }
        if v >= 2_147_483_648 { return .max }
        return Int32(v)
    }

    @inline(__always)
    static func _convert<S, D>(_ source: UnsafeMutableRawPointer, _: S.Type, _ destination: UnsafeMutableRawPointer, _: D.Type,
                               _ elements: Range<Int>, _ f: (S) -> D) {
        let s = source.assumingMemoryBound(to: S.self), d = destination.assumingMemoryBound(to: D.self)
        for i in elements { d[i] = f(s[i]) }
    }
}

/// One-hot encoding of int32 indices: the kernel behind the graph's `oneHot`.
public enum OneHot {
    /// output[offset + p·classes + c] = (indices[indicesOffset + p] == c) ? 1 : 0 for each
    /// position p in `positions` and c in 0..<classes.
    ///
    /// ```swift
    /// try OneHot.encode(labels, classes: 10, positions: 0..<n, into: y)   // n indices -> n×10
    /// ```
    /// - Parameters:
    ///   - indices, indicesOffset: position p's index is indices[indicesOffset + p].
    ///   - classes: ≥ 1.
    ///   - positions: the positions to encode (tasks may split them).
    ///   - output, offset: position p's row starts at output[offset + p·classes].
    /// - Throws: `KernelError` naming "indices[p]" and its value when outside 0..<classes
    ///   (checked for the whole range before anything is written), "classes", or a range
    ///   outside a buffer.
    /// - Complexity: classes writes per position.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func encode<T: KernelScalar>(_ indices: TensorBuffer<Int32>, indicesOffset: Int = 0, classes: Int,
                                               positions: Range<Int>, into output: TensorBuffer<T>, offset: Int = 0) throws(KernelError) {
        let name = "OneHot.encode"
        guard classes >= 1 else { throw KernelError("\(name): classes must be ≥ 1, got \(classes)") }
        guard positions.lowerBound >= 0 else { throw KernelError("\(name): positions \(positions) has negative indices") }
        if positions.isEmpty { return }
        guard indicesOffset + positions.lowerBound >= 0, indicesOffset + positions.upperBound <= indices.count else {
            throw KernelError("\(name): positions \(positions) from offset \(indicesOffset) fall outside the indices of \(indices.count)")
        }
        let (rowsEnd, overflow) = positions.upperBound.multipliedReportingOverflow(by: classes)
        guard !overflow, offset + positions.lowerBound * classes >= 0, offset + rowsEnd <= output.count else {
            throw KernelError("\(name): rows \(positions) of \(classes) from offset \(offset) fall outside the output of \(output.count)")
        }
        let idx = indices.base + indicesOffset
        for p in positions where idx[p] < 0 || Int(idx[p]) >= classes {
            throw KernelError("\(name): indices[\(p)] = \(idx[p]) is out of range 0..<\(classes)")
        }
        let out = output.base + offset
        for p in positions {
            let row = out + p * classes
            row.update(repeating: 0, count: classes)
            row[Int(idx[p])] = 1
        }
        withExtendedLifetime((indices, output)) {}
    }
}
