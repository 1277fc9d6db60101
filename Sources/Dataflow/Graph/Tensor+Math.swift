/// Element-wise math, comparisons and selection (numpy broadcasting, float32 or
/// float64). Each function throws `GraphError` naming the tensors on a dtype or
/// shape mismatch.
///
/// ```swift
/// // Adam's step: m̂ / (√v̂ + ε)
/// let step = try mHat / (sqrt(vHat) + 1e-8)
/// let clipped = try clamp(step, -1, 1)
/// ```

/// √x.
public func sqrt(_ x: Tensor) throws -> Tensor { try x.applying(.sqrt) }
/// 1 / √x.
public func rsqrt(_ x: Tensor) throws -> Tensor { try x.applying(.rsqrt) }
/// x².
public func square(_ x: Tensor) throws -> Tensor { try x.applying(.square) }
/// |x|.
public func abs(_ x: Tensor) throws -> Tensor { try x.applying(.abs) }
/// −1, 0 or 1 by the sign of x (±0 and NaN are kept). No gradient.
public func sign(_ x: Tensor) throws -> Tensor { try x.applying(.sign) }
/// log(1 + x), accurate for small x.
public func log1p(_ x: Tensor) throws -> Tensor { try x.applying(.log1p) }
/// exp(x) − 1, accurate for small x.
public func expm1(_ x: Tensor) throws -> Tensor { try x.applying(.expm1) }
/// x^p for a constant exponent p.
public func pow(_ x: Tensor, _ p: Double) throws -> Tensor { try x.applying(.pow(p)) }

/// The element-wise maximum; on ties the gradient is split equally.
public func maximum(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.applying(.maximum, [b]) }
/// The element-wise minimum; on ties the gradient is split equally.
public func minimum(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.applying(.minimum, [b]) }
/// `max(a, b)` with a constant `b`.
public func maximum(_ a: Tensor, _ b: Double) throws -> Tensor { try maximum(a, a.scalarLike(b)) }
/// `min(a, b)` with a constant `b`.
public func minimum(_ a: Tensor, _ b: Double) throws -> Tensor { try minimum(a, a.scalarLike(b)) }

/// 1 where a > b, else 0 (NaN compares false). No gradient.
public func greater(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.applying(.greater, [b]) }
/// 1 where a ≥ b, else 0. No gradient.
public func greaterEqual(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.applying(.greaterEqual, [b]) }
/// 1 where a < b, else 0. No gradient.
public func less(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.applying(.less, [b]) }
/// 1 where a ≤ b, else 0. No gradient.
public func lessEqual(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.applying(.lessEqual, [b]) }
/// 1 where a == b, else 0. No gradient.
public func equal(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.applying(.equal, [b]) }
/// 1 where a ≠ b, else 0 (NaN ≠ anything). No gradient.
public func notEqual(_ a: Tensor, _ b: Tensor) throws -> Tensor { try a.applying(.notEqual, [b]) }

/// `mask ≠ 0 ? a : b`, element by element (numpy's `where`); all three broadcast.
/// The gradient flows to `a` where the mask is set and to `b` elsewhere.
public func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor { try mask.applying(.select, [a, b]) }

/// `min(max(x, lo), hi)`; the gradient flows to `x` where `lo ≤ x ≤ hi`.
public func clamp(_ x: Tensor, _ lo: Tensor, _ hi: Tensor) throws -> Tensor { try x.applying(.clamp, [lo, hi]) }
/// `min(max(x, lo), hi)` with constant bounds.
/// - Throws: `GraphError` (`.invalidArgument`) if `lo > hi` or a bound is NaN.
public func clamp(_ x: Tensor, _ lo: Double, _ hi: Double) throws -> Tensor {
    guard lo <= hi else {
        throw GraphError("clamp: \(x.label): lower bound \(lo) is not ≤ upper bound \(hi)", kind: .invalidArgument)
    }
    return try clamp(x, x.scalarLike(lo), x.scalarLike(hi))
}
