// The SIMD vocabulary the element-wise kernels are written in, once, generically:
// `SIMD16<Float>` and `SIMD8<Double>` conform with their concrete operations, and
// every generic kernel is called only from concrete code, so it is specialised
// (no generic dispatch remains in a loop). The GEMM micro-kernels do not use this
// protocol: they are concrete (GEMM+MicroKernel.swift).

/// A fixed-width vector of a `KernelScalar` with the operations the kernels use.

protocol _KernelVector {
    associatedtype Scalar: KernelScalar
    associatedtype Mask
    /// Number of lanes.
    static var lanes: Int { get }
    init(repeating: Scalar)
    subscript(index: Int) -> Scalar { get set }

    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    /// a·b + c: one fused operation in the native build, multiply then add otherwise.
    static func mulAdd(_ a: Self, _ b: Self, _ c: Self) -> Self
    func squareRoot() -> Self

    static func less(_ a: Self, _ b: Self) -> Mask
    static func lessOrEqual(_ a: Self, _ b: Self) -> Mask
    static func equal(_ a: Self, _ b: Self) -> Mask
    static func notEqual(_ a: Self, _ b: Self) -> Mask
    static func or(_ a: Mask, _ b: Mask) -> Mask
    static func and(_ a: Mask, _ b: Mask) -> Mask
    /// Lanes of `self`, replaced by `other` where `mask` is set.
    func replacing(with other: Self, where mask: Mask) -> Self

    /// Lanes 0..<count from p[0…] (count ≤ lanes), the rest zero: the first half with one
    /// load when it is whole, the remaining lanes one by one.
    static func loadPrefix(_ p: UnsafePointer<Scalar>, count: Int) -> Self
    /// Stores lanes 0..<count to p[0…], likewise.
    func storePrefix(_ p: UnsafeMutablePointer<Scalar>, count: Int)

    /// Sum of the lanes in a fixed order (pairwise halves).
    func laneSum() -> Scalar
    /// Largest lane (NaN-propagating as `maximum`).
    func laneMax() -> Scalar

    /// p · 2ⁿ for integral-valued n in [-1100, 1100] (Double) or [-160, 160] (Float);
    /// n is split in two halves so subnormal and overflowing results come out right.
    static func scaleByPowerOfTwo(_ p: Self, _ n: Self) -> Self
    /// For finite x > 0: (m, e) with x = m·2ᵉ, m in [√½, √2), e integral-valued.
    static func splitExponent(_ x: Self) -> (m: Self, e: Self)
}

extension _KernelVector {
    @inline(__always) static func load(_ p: UnsafePointer<Scalar>) -> Self {
        UnsafeRawPointer(p).loadUnaligned(as: Self.self)
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Scalar>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
    }
    /// Lanes 0..<count from p[0], p[stride], …; the rest zero.
    @inline(__always) static func load(_ p: UnsafePointer<Scalar>, stride: Int, count: Int) -> Self {
        if stride == 1 { return loadPrefix(p, count: count) }
        var v = Self(repeating: 0)
        for l in 0..<count { v[l] = p[l * stride] }
        return v
    }
    /// Stores lanes 0..<count to p[0], p[stride], ….
    @inline(__always) func store(_ p: UnsafeMutablePointer<Scalar>, stride: Int, count: Int) {
        if stride == 1 { storePrefix(p, count: count); return }
        for l in 0..<count { p[l * stride] = self[l] }
    }
    @inline(__always) static func constant(_ x: Double) -> Self { Self(repeating: Scalar(x)) }
    /// max(a, b); NaN in either propagates.
    @inline(__always) static func maximum(_ a: Self, _ b: Self) -> Self {
        a.replacing(with: b, where: or(less(a, b), notEqual(b, b)))
    }
    @inline(__always) static func minimum(_ a: Self, _ b: Self) -> Self {
        a.replacing(with: b, where: or(less(b, a), notEqual(b, b)))
    }
}

extension SIMD16: _KernelVector where Scalar == Float {
    typealias Mask = SIMDMask<SIMD16<Int32>>
    @inline(__always) static var lanes: Int { 16 }
    @inline(__always) static func loadPrefix(_ p: UnsafePointer<Float>, count: Int) -> Self {
        if count == 16 { return UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
        var v = Self()
        var l = 0
        if count >= 8 { v.lowHalf = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self); l = 8 }
        while l < count { v[l] = p[l]; l += 1 }
        return v
    }
    @inline(__always) func storePrefix(_ p: UnsafeMutablePointer<Float>, count: Int) {
        if count == 16 { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self); return }
        var l = 0
        if count >= 8 { UnsafeMutableRawPointer(p).storeBytes(of: lowHalf, as: SIMD8<Float>.self); l = 8 }
        while l < count { p[l] = self[l]; l += 1 }
    }
    @inline(__always) static func mulAdd(_ a: Self, _ b: Self, _ c: Self) -> Self { _fma(a, b, c) }
    @inline(__always) static func less(_ a: Self, _ b: Self) -> Mask { a .< b }
    @inline(__always) static func lessOrEqual(_ a: Self, _ b: Self) -> Mask { a .<= b }
    @inline(__always) static func equal(_ a: Self, _ b: Self) -> Mask { a .== b }
    @inline(__always) static func notEqual(_ a: Self, _ b: Self) -> Mask { a .!= b }
    @inline(__always) static func or(_ a: Mask, _ b: Mask) -> Mask { a .| b }
    @inline(__always) static func and(_ a: Mask, _ b: Mask) -> Mask { a .& b }
    @inline(__always) func laneSum() -> Float {
        let h = lowHalf + highHalf, q = h.lowHalf + h.highHalf, e = q.lowHalf + q.highHalf
        return e[0] + e[1]
    }
    @inline(__always) func laneMax() -> Float {
        let h = Self.maxHalf(lowHalf, highHalf), q = Self.maxHalf(h.lowHalf, h.highHalf), e = Self.maxHalf(q.lowHalf, q.highHalf)
        return e[0] < e[1] || e[1].isNaN ? e[1] : e[0]
    }
    @inline(__always) static func maxHalf<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar == Float {
        a.replacing(with: b, where: (a .< b) .| (b .!= b))
    }
    @inline(__always) static func scaleByPowerOfTwo(_ p: Self, _ n: Self) -> Self {
        let magic = Self(repeating: 12582912)   // 1.5·2²³: n + magic holds n in its low bits
        let ni = unsafeBitCast(n + magic, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let h = ni &>> 1, r = ni &- h
        let s1 = unsafeBitCast((h &+ 127) &<< 23, to: Self.self)
        let s2 = unsafeBitCast((r &+ 127) &<< 23, to: Self.self)
        return p * s1 * s2
    }
    @inline(__always) static func splitExponent(_ x: Self) -> (m: Self, e: Self) {
        // Subnormals: scale by 2²⁴ first.
        let tiny = x .< Self(repeating: Float.leastNormalMagnitude)
        let xs = x.replacing(with: x * Self(repeating: 16777216), where: tiny)
        let bits = unsafeBitCast(xs, to: SIMD16<Int32>.self)
        var e = (bits &>> 23) &- 127
        var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: Self.self)
        let big = m .> Self(repeating: 1.41421356)
        m = m.replacing(with: m * 0.5, where: big)
        e = e.replacing(with: e &+ 1, where: big)
        e = e.replacing(with: e &- 24, where: tiny)
        // Integer to float via the magic-number trick (exact for |e| < 2²²).
        let ef = unsafeBitCast(e &+ 0x4B40_0000, to: Self.self) - Self(repeating: 12582912)
        return (m, ef)
    }
}

extension SIMD8: _KernelVector where Scalar == Double {
    typealias Mask = SIMDMask<SIMD8<Int64>>
    @inline(__always) static var lanes: Int { 8 }
    @inline(__always) static func loadPrefix(_ p: UnsafePointer<Double>, count: Int) -> Self {
        if count == 8 { return UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
        var v = Self()
        var l = 0
        if count >= 4 { v.lowHalf = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self); l = 4 }
        while l < count { v[l] = p[l]; l += 1 }
        return v
    }
    @inline(__always) func storePrefix(_ p: UnsafeMutablePointer<Double>, count: Int) {
        if count == 8 { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self); return }
        var l = 0
        if count >= 4 { UnsafeMutableRawPointer(p).storeBytes(of: lowHalf, as: SIMD4<Double>.self); l = 4 }
        while l < count { p[l] = self[l]; l += 1 }
    }
    @inline(__always) static func mulAdd(_ a: Self, _ b: Self, _ c: Self) -> Self { _fma(a, b, c) }
    @inline(__always) static func less(_ a: Self, _ b: Self) -> Mask { a .< b }
    @inline(__always) static func lessOrEqual(_ a: Self, _ b: Self) -> Mask { a .<= b }
    @inline(__always) static func equal(_ a: Self, _ b: Self) -> Mask { a .== b }
    @inline(__always) static func notEqual(_ a: Self, _ b: Self) -> Mask { a .!= b }
    @inline(__always) static func or(_ a: Mask, _ b: Mask) -> Mask { a .| b }
    @inline(__always) static func and(_ a: Mask, _ b: Mask) -> Mask { a .& b }
    @inline(__always) func laneSum() -> Double {
        let q = lowHalf + highHalf, e = q.lowHalf + q.highHalf
        return e[0] + e[1]
    }
    @inline(__always) func laneMax() -> Double {
        let q = Self.maxHalf(lowHalf, highHalf), e = Self.maxHalf(q.lowHalf, q.highHalf)
        return e[0] < e[1] || e[1].isNaN ? e[1] : e[0]
    }
    @inline(__always) static func maxHalf<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar == Double {
        a.replacing(with: b, where: (a .< b) .| (b .!= b))
    }
    @inline(__always) static func scaleByPowerOfTwo(_ p: Self, _ n: Self) -> Self {
        let magic = Self(repeating: 6755399441055744)   // 1.5·2⁵²
        let ni = unsafeBitCast(n + magic, to: SIMD8<Int64>.self) &- 0x4338_0000_0000_0000
        let h = ni &>> 1, r = ni &- h
        let s1 = unsafeBitCast((h &+ 1023) &<< 52, to: Self.self)
        let s2 = unsafeBitCast((r &+ 1023) &<< 52, to: Self.self)
        return p * s1 * s2
    }
    @inline(__always) static func splitExponent(_ x: Self) -> (m: Self, e: Self) {
        let tiny = x .< Self(repeating: Double.leastNormalMagnitude)
        let xs = x.replacing(with: x * Self(repeating: 18014398509481984), where: tiny)   // 2⁵⁴
        let bits = unsafeBitCast(xs, to: SIMD8<Int64>.self)
        var e = (bits &>> 52) &- 1023
        var m = unsafeBitCast((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000, to: Self.self)
        let big = m .> Self(repeating: 1.4142135623730951)
        m = m.replacing(with: m * 0.5, where: big)
        e = e.replacing(with: e &+ 1, where: big)
        e = e.replacing(with: e &- 54, where: tiny)
        let ef = unsafeBitCast(e &+ 0x4338_0000_0000_0000, to: Self.self) - Self(repeating: 6755399441055744)
        return (m, ef)
    }
}

// MARK: - Concrete helpers shared with the GEMM micro-kernels

/// a·b + c, fused in the native build (`vfmadd…`), multiply-then-add in the
/// portable build (where `addingProduct` would become per-lane `fmaf` calls).
@inline(__always) func _fma(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
    #if DATAFLOW_NATIVE_CPU
    return c.addingProduct(a, b)
    #else
    return c + a * b
    #endif
}

@inline(__always) func _fma(_ a: SIMD8<Double>, _ b: SIMD8<Double>, _ c: SIMD8<Double>) -> SIMD8<Double> {
    #if DATAFLOW_NATIVE_CPU
    return c.addingProduct(a, b)
    #else
    return c + a * b
    #endif
}

@inline(__always) func _loadV(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}
@inline(__always) func _loadV(_ p: UnsafeMutablePointer<Double>) -> SIMD8<Double> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
}
@inline(__always) func _storeV(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}
@inline(__always) func _storeV(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
}
