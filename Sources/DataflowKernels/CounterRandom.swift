// Counter-based random numbers: Philox4x32-10 of J. K. Salmon, M. A. Moraes,
// R. O. Dror and D. E. Shaw, "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11,
// as implemented in their Random123 library (philox.h) and checked against its
// kat_vectors.
//
// Goals, in order: the published function bit for bit; element i of call t a pure
// function of (seed, t, i), so that any split of a tensor into tasks, any task order
// and any thread count give the same bits; then speed (ten rounds of two 32×32→64
// multiplies per four 32-bit outputs).
//
// Mapping onto Philox's 128-bit counter and 64-bit key (our choice, fixed forever
// because checkpoints and tests depend on it):
//   key     = (seed low 32 bits, seed high 32 bits)
//   counter = (block low, block high, call low, call high), block = element / 4 for
//             Float (one word per element), element / 2 for Double (two words).

/// The Philox4x32-10 block function.
///
/// ```swift
/// Philox4x32.block(counter: [0, 0, 0, 0], key: [0, 0])   // [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
/// ```
public enum Philox4x32 {
    static let m0: UInt32 = 0xD251_1F53, m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9, w1: UInt32 = 0xBB67_AE85

    /// Ten rounds of Philox4x32 on `counter` under `key` (Random123's philox4x32(ctr, key)).
    ///
    /// - Returns: four pseudo-random 32-bit words.
    @inline(__always)
    public static func block(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = counter, k0 = key[0], k1 = key[1]
        for round in 0..<10 {
            if round > 0 { k0 &+= w0; k1 &+= w1 }
            let (hi0, lo0) = m0.multipliedFullWidth(by: c[0])
            let (hi1, lo1) = m1.multipliedFullWidth(by: c[2])
            c = SIMD4(hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0)
        }
        return c
    }

    /// The block of the package's mapping: key = seed, counter = (block, call) as above.
    ///
    /// ```swift
    /// let words = Philox4x32.block(seed: 42, call: 0, block: 7)
    /// ```
    @inline(__always)
    public static func block(seed: UInt64, call: UInt64, block: UInt64) -> SIMD4<UInt32> {
        Self.block(counter: SIMD4(UInt32(truncatingIfNeeded: block), UInt32(truncatingIfNeeded: block >> 32),
                                  UInt32(truncatingIfNeeded: call), UInt32(truncatingIfNeeded: call >> 32)),
                   key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }
}

/// Uniform values and dropout masks where element i of call t depends only on
/// (seed, t, i).
public enum CounterRandom {
    /// The uniform value in [0, 1) of element `index` of call `call`: Float takes the top
    /// 24 bits of word index % 4 of block index / 4 (k·2⁻²⁴); Double takes 53 bits of
    /// words 2·(index % 2) (low half) and 2·(index % 2) + 1 (high half) of block index / 2
    /// (k·2⁻⁵³). Every value is exact and < 1. The index is read as a 64-bit pattern, so
    /// every Int is valid (a negative one names element 2⁶⁴ + index).
    ///
    /// ```swift
    /// let u: Double = CounterRandom.uniform(seed: 1, call: 0, index: 5)
    /// ```
    @inline(__always)
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func uniform<T: KernelScalar>(seed: UInt64, call: UInt64, index: Int) -> T {
        let i = UInt64(bitPattern: Int64(index))
        if T.self == Float.self {
            let w = Philox4x32.block(seed: seed, call: call, block: i >> 2)[Int(i & 3)]
            return T(Float(w >> 8) * 0x1p-24)
        }
        let words = Philox4x32.block(seed: seed, call: call, block: i >> 1)
        let lane = 2 * Int(i & 1)
        return T(_double(words[lane], words[lane + 1]))
    }

    /// Fills elements `elements` of a tensor stored from `offset` with uniform values
    /// in [0, 1): buffer[offset + i] = `uniform(seed:call:index: i)`. Tasks that fill
    /// disjoint ranges of one tensor produce exactly the bits of one call over all of it.
    ///
    /// ```swift
    /// try CounterRandom.uniform(seed: 7, call: step, elements: 0..<n, into: noise)
    /// ```
    /// - Parameters:
    ///   - seed: the generator's key.
    ///   - call: a counter the caller advances per call (or per random op).
    ///   - elements: indices i ≥ 0 of the tensor to fill.
    ///   - buffer, offset: element i lives at buffer[offset + i].
    /// - Throws: `KernelError` naming "elements" if a negative index or one outside the
    ///   buffer would be written.
    /// - Complexity: one Philox block per 4 Float or 2 Double elements.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func uniform<T: KernelScalar>(seed: UInt64, call: UInt64, elements: Range<Int>, into buffer: TensorBuffer<T>,
                                                offset: Int = 0) throws(KernelError) {
        try checkRange("CounterRandom.uniform", elements, buffer, offset)
        let out = buffer.base + offset
        switch _KernelKind(T.self) {
        case .float:
            let p = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self)
            fillFloat(seed, call, elements) { i, u in p[i] = u }
        case .double:
            let p = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self)
            fillDouble(seed, call, elements) { i, u in p[i] = u }
        }
        withExtendedLifetime(buffer) {}
    }

    /// Fills elements `elements` with a dropout mask: 0 where the element's uniform value
    /// u (as `uniform`) is < p, else 1/(1 − p) computed in T; so an element is kept with
    /// probability 1 − p (to within 2⁻²⁴ for Float) and E[mask] = 1. Multiply the
    /// activations and their gradient by the same mask.
    ///
    /// ```swift
    /// try CounterRandom.dropoutMask(p: 0.1, seed: 7, call: step, elements: 0..<n, into: mask)
    /// ```
    /// - Parameters:
    ///   - p: the drop probability, in [0, 1) (p = 0 keeps everything: every mask is 1).
    ///   - seed, call, elements, buffer, offset: as `uniform`.
    /// - Throws: `KernelError` naming "p" outside [0, 1), or "elements".
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func dropoutMask<T: KernelScalar>(p: T, seed: UInt64, call: UInt64, elements: Range<Int>,
                                                    into buffer: TensorBuffer<T>, offset: Int = 0) throws(KernelError) {
        let name = "CounterRandom.dropoutMask"
        guard p >= 0, p < 1 else { throw KernelError("\(name): p must be in [0, 1), got \(p)") }
        try checkRange(name, elements, buffer, offset)
        let scale = 1 / (1 - p)
        let out = buffer.base + offset
        switch _KernelKind(T.self) {
        case .float:
            let q = Float(p), s = Float(scale)
            let ptr = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self)
            fillFloat(seed, call, elements) { i, u in ptr[i] = u < q ? 0 : s }
        case .double:
            let q = Double(p), s = Double(scale)
            let ptr = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self)
            fillDouble(seed, call, elements) { i, u in ptr[i] = u < q ? 0 : s }
        }
        withExtendedLifetime(buffer) {}
    }

    static func checkRange<T>(_ name: String, _ elements: Range<Int>, _ buffer: TensorBuffer<T>, _ offset: Int) throws(KernelError) {
        guard elements.lowerBound >= 0 else { throw KernelError("\(name): elements \(elements) has negative indices") }
        guard elements.isEmpty || (offset + elements.lowerBound >= 0 && offset + elements.upperBound <= buffer.count) else {
            throw KernelError("\(name): elements \(elements) from offset \(offset) fall outside the buffer of \(buffer.count)")
        }
    }

    /// 53 bits of (hi:lo) as k·2⁻⁵³.
    @inline(__always)
    static func _double(_ lo: UInt32, _ hi: UInt32) -> Double {
        Double((UInt64(hi) << 32 | UInt64(lo)) >> 11) * 0x1p-53
    }

    /// Calls body(i, u) for each i in `elements`, one Philox block per four elements.
    @inline(__always)
    static func fillFloat(_ seed: UInt64, _ call: UInt64, _ elements: Range<Int>, _ body: (Int, Float) -> Void) {
        var i = elements.lowerBound
        while i < elements.upperBound {
            let block = i / 4
            let words = Philox4x32.block(seed: seed, call: call, block: UInt64(block))
            let end = min(elements.upperBound, 4 * block + 4)
            while i < end {
                body(i, Float(words[i - 4 * block] >> 8) * 0x1p-24)
                i += 1
            }
        }
    }

    @inline(__always)
    static func fillDouble(_ seed: UInt64, _ call: UInt64, _ elements: Range<Int>, _ body: (Int, Double) -> Void) {
        var i = elements.lowerBound
        while i < elements.upperBound {
            let block = i / 2
            let words = Philox4x32.block(seed: seed, call: call, block: UInt64(block))
            let end = min(elements.upperBound, 2 * block + 2)
            while i < end {
                let lane = 2 * (i - 2 * block)
                body(i, _double(words[lane], words[lane + 1]))
                i += 1
            }
        }
    }
}
