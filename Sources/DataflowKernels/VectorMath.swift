// Vectorised elementary functions, written once over `_KernelVector` and
// specialised for SIMD16<Float> and SIMD8<Double>.
//
// Goals, in order: correct special values (NaN passes through, ±∞ and overflow
// saturate, sigmoid/tanh never overflow), accuracy within a few ulps of the C
// library, then speed (no branches per lane, no table look-ups).
//
// exp: Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, then a Taylor
// polynomial of degree 7 (Float) / 13 (Double), whose truncation error is below
// half an ulp on that interval; scaling by 2ⁿ is done in two halves so that
// subnormal results and overflow to +∞ come out right.
// log: x = m·2ᵉ with m in [√½, √2), log m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.1716,
// an odd series to s⁹ (Float) / s²¹ (Double).
// tanh: sign(x)·u/(u+2) with u = expm1(2|x|) (accurate near 0, saturates by |x| = 20).
// sigmoid: with e = exp(−|x|): 1/(1+e) for x ≥ 0 and e/(1+e) otherwise.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's pow, named apart from `_KernelVector.pow`.
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) func _powf(_ x: Float, _ y: Float) -> Float { powf(x, y) }

extension _KernelVector {
    @inline(__always) static var isFloat: Bool { Scalar.self == Float.self }

    /// round-to-nearest-even of x for |x| < 2²² (Float) / 2⁵¹ (Double).
    @inline(__always) static func roundedToInteger(_ x: Self) -> Self {
        let magic = isFloat ? constant(12582912) : constant(6755399441055744)
        return (x + magic) - magic
    }

    @inline(__always) static func absolute(_ x: Self) -> Self {
        x.replacing(with: -x, where: less(x, Self(repeating: 0)))
    }

    /// Range reduction shared by exp and expm1: x = n·ln2 + r; returns (n, r, expm1(r)).
    @inline(__always) static func expReduce(_ x: Self) -> (n: Self, r: Self, pm1: Self) {
        let xc = minimum(maximum(x, isFloat ? constant(-104) : constant(-746)), isFloat ? constant(89) : constant(710))
        let n = roundedToInteger(xc * constant(1.4426950408889634))
        let ln2hi = isFloat ? constant(0.693359375) : constant(6.93147180369123816490e-01)
        let ln2lo = isFloat ? constant(-2.12194440e-4) : constant(1.90821492927058770002e-10)
        let r = (xc - n * ln2hi) - n * ln2lo
        // expm1(r) = r·(1 + r/2 + r²/6 + …), Horner from the top.
        var q: Self
        if isFloat {
            q = constant(1.0 / 5040)
            q = mulAdd(q, r, constant(1.0 / 720))
            q = mulAdd(q, r, constant(1.0 / 120))
            q = mulAdd(q, r, constant(1.0 / 24))
            q = mulAdd(q, r, constant(1.0 / 6))
            q = mulAdd(q, r, constant(0.5))
            q = mulAdd(q, r, constant(1))
        } else {
            q = constant(1.0 / 6227020800)
            q = mulAdd(q, r, constant(1.0 / 479001600))
            q = mulAdd(q, r, constant(1.0 / 39916800))
            q = mulAdd(q, r, constant(1.0 / 3628800))
            q = mulAdd(q, r, constant(1.0 / 362880))
            q = mulAdd(q, r, constant(1.0 / 40320))
            q = mulAdd(q, r, constant(1.0 / 5040))
            q = mulAdd(q, r, constant(1.0 / 720))
            q = mulAdd(q, r, constant(1.0 / 120))
            q = mulAdd(q, r, constant(1.0 / 24))
            q = mulAdd(q, r, constant(1.0 / 6))
            q = mulAdd(q, r, constant(0.5))
            q = mulAdd(q, r, constant(1))
        }
        return (n, r, q * r)
    }

    @inline(__always) static func exp(_ x: Self) -> Self {
        let (n, _, pm1) = expReduce(x)
        let y = scaleByPowerOfTwo(pm1 + constant(1), n)
        return y.replacing(with: x, where: notEqual(x, x))
    }

    @inline(__always) static func expm1(_ x: Self) -> Self {
        let (n, _, pm1) = expReduce(x)
        let big = scaleByPowerOfTwo(pm1 + constant(1), n) - constant(1)
        let y = big.replacing(with: pm1, where: equal(n, Self(repeating: 0)))
        return y.replacing(with: x, where: notEqual(x, x))
    }

    @inline(__always) static func log(_ x: Self) -> Self {
        let (m, e) = splitExponent(x)
        let s = (m - constant(1)) / (m + constant(1))
        let z = s * s
        var p: Self
        if isFloat {
            p = constant(1.0 / 9)
            p = mulAdd(p, z, constant(1.0 / 7))
            p = mulAdd(p, z, constant(1.0 / 5))
            p = mulAdd(p, z, constant(1.0 / 3))
        } else {
            p = constant(1.0 / 21)
            p = mulAdd(p, z, constant(1.0 / 19))
            p = mulAdd(p, z, constant(1.0 / 17))
            p = mulAdd(p, z, constant(1.0 / 15))
            p = mulAdd(p, z, constant(1.0 / 13))
            p = mulAdd(p, z, constant(1.0 / 11))
            p = mulAdd(p, z, constant(1.0 / 9))
            p = mulAdd(p, z, constant(1.0 / 7))
            p = mulAdd(p, z, constant(1.0 / 5))
            p = mulAdd(p, z, constant(1.0 / 3))
        }
        // log m = 2s + 2s·z·p
        let twoS = s + s
        let logm = mulAdd(twoS * z, p, twoS)
        let ln2hi = isFloat ? constant(0.693359375) : constant(6.93147180369123816490e-01)
        let ln2lo = isFloat ? constant(-2.12194440e-4) : constant(1.90821492927058770002e-10)
        var y = mulAdd(e, ln2hi, mulAdd(e, ln2lo, logm))
        let zero = Self(repeating: 0), inf = Self(repeating: .infinity)
        y = y.replacing(with: inf, where: equal(x, inf))
        y = y.replacing(with: -inf, where: equal(x, zero))
        y = y.replacing(with: Self(repeating: .nan), where: less(x, zero))
        return y.replacing(with: x, where: notEqual(x, x))
    }

    @inline(__always) static func sigmoid(_ x: Self) -> Self {
        let e = exp(-absolute(x))
        let r = constant(1) / (constant(1) + e)
        return (e * r).replacing(with: r, where: lessOrEqual(Self(repeating: 0), x))
    }

    @inline(__always) static func tanh(_ x: Self) -> Self {
        let a = minimum(absolute(x), constant(20))
        let u = expm1(a + a)
        let t = u / (u + constant(2))
        return t.replacing(with: -t, where: less(x, Self(repeating: 0)))
    }

    @inline(__always) static func relu(_ x: Self) -> Self {
        maximum(x, Self(repeating: 0))
    }

    @inline(__always) static func activate(_ act: Activation, _ x: Self) -> Self {
        switch act {
        case .none: return x
        case .sigmoid: return sigmoid(x)
        case .tanh: return tanh(x)
        case .relu: return relu(x)
        }
    }

    /// act′ expressed through the activation's output y: sigmoid y(1−y), tanh 1−y²,
    /// relu (y > 0 ? 1 : 0), none 1.
    @inline(__always) static func activationDerivative(_ act: Activation, output y: Self) -> Self {
        switch act {
        case .none: return constant(1)
        case .sigmoid: return y * (constant(1) - y)
        case .tanh: return constant(1) - y * y
        case .relu: return Self(repeating: 0).replacing(with: constant(1), where: less(Self(repeating: 0), y))
        }
    }

    @inline(__always) static func apply(_ op: UnaryOp, _ x: Self) -> Self {
        switch op {
        case .neg: return -x
        case .exp: return exp(x)
        case .log: return log(x)
        case .sigmoid: return sigmoid(x)
        case .tanh: return tanh(x)
        case .relu: return relu(x)
        case .square: return x * x
        case .sqrt: return x.squareRoot()
        case .reciprocal: return constant(1) / x
        case .abs: return absolute(x)
        case .rsqrt: return constant(1) / x.squareRoot()
        case .log1p: return log1p(x)
        case .expm1: return expm1(x)
        case .sign: return sign(x)
        case .pow(let p): return pow(x, p)
        }
    }

    @inline(__always) static func apply(_ op: BinaryOp, _ a: Self, _ b: Self) -> Self {
        let zero = Self(repeating: 0), one = constant(1)
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        case .maximum: return maximum(a, b)
        case .minimum: return minimum(a, b)
        case .sigmoidBackward: return b * activationDerivative(.sigmoid, output: a)
        case .tanhBackward: return b * activationDerivative(.tanh, output: a)
        case .reluBackward: return zero.replacing(with: b, where: less(zero, a))
        case .greater: return zero.replacing(with: one, where: less(b, a))
        case .equal: return zero.replacing(with: one, where: equal(a, b))
        case .greaterEqual: return zero.replacing(with: one, where: lessOrEqual(b, a))
        case .less: return zero.replacing(with: one, where: less(a, b))
        case .lessEqual: return zero.replacing(with: one, where: lessOrEqual(a, b))
        case .notEqual: return zero.replacing(with: one, where: notEqual(a, b))
        }
    }

    @inline(__always) static func apply(_ op: TernaryOp, _ a: Self, _ b: Self, _ c: Self) -> Self {
        switch op {
        case .select: return c.replacing(with: b, where: notEqual(a, Self(repeating: 0)))
        case .clamp: return minimum(maximum(a, b), c)
        }
    }

    /// log(1 + x) = log(u) − ((u − 1) − x)/u with u = 1 + x rounded: the quotient
    /// is the first-order correction for the rounding of u (Goldberg, "What Every
    /// Computer Scientist Should Know About Floating-Point Arithmetic", 1991, Thm. 4
    /// uses x·log(u)/(u − 1); this form needs no second division by a tiny u − 1).
    /// u == 1 gives x; u == 0 (x = −1) gives −∞; u == +∞ gives +∞; x < −1 gives NaN.
    @inline(__always) static func log1p(_ x: Self) -> Self {
        let one = constant(1), zero = Self(repeating: 0), inf = Self(repeating: .infinity)
        let u = x + one
        var correction = ((u - one) - x) / u
        correction = correction.replacing(with: zero, where: or(equal(u, zero), equal(u, inf)))
        let y = log(u) - correction
        return y.replacing(with: x, where: equal(u, one))
    }

    /// 1, −1, or x itself for ±0 and NaN.
    @inline(__always) static func sign(_ x: Self) -> Self {
        let zero = Self(repeating: 0)
        return x.replacing(with: constant(1), where: less(zero, x)).replacing(with: constant(-1), where: less(x, zero))
    }

    /// x^p: x·x for p == 2, x for p == 1, otherwise the C library's pow lane by lane
    /// (no vector pow is accurate to an ulp over the whole range without double-double
    /// arithmetic; this keeps every result equal to libm's).
    @inline(__always) static func pow(_ x: Self, _ p: Double) -> Self {
        if p == 2 { return x * x }
        if p == 1 { return x }
        var y = x
        if isFloat {
            let pf = Float(p)
            for l in 0..<lanes { y[l] = Scalar(_powf(Float(x[l]), pf)) }
        } else {
            for l in 0..<lanes { y[l] = Scalar(_pow(Double(x[l]), p)) }
        }
        return y
    }
}
