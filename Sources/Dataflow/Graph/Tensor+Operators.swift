/// Matrix product, like the seed's `T.dot`: `x • w` is `matmul(x, w)`.
infix operator • : MultiplicationPrecedence

/// Arithmetic operators on tensors. They throw on a shape or dtype mismatch, so one
/// `try` covers a whole expression:
///
/// ```swift
/// let h = try sigmoid(x • w1 + b1)
/// let z = try h * 2.0 - 1.0
/// ```
/// A `Double` operand becomes a rank-0 scalar of the tensor's dtype.
extension Tensor {
    /// Builds `op` on `self` and `others` (all of `self`'s graph).
    /// - Throws: `GraphError` on a shape or dtype mismatch or a tensor of another graph.
    public func applying(_ op: Op, _ others: [Tensor] = [], name: String? = nil) throws -> Tensor {
        for other in others where other.graph !== graph {
            throw GraphError("\(op.name): \(label) and \(other.label) belong to different graphs", kind: .foreignTensor)
        }
        let id = try graph.apply(op, [id] + others.map(\.id), name: name)
        return Tensor(graph: graph, id: id)
    }

    func scalarLike(_ value: Double) -> Tensor {
        graph.scalar(value, dtype)
    }

    public static func • (lhs: Tensor, rhs: Tensor) throws -> Tensor {
        try lhs.applying(.matmul(transposeA: false, transposeB: false), [rhs])
    }

    public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.applying(.add, [rhs]) }
    public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.applying(.sub, [rhs]) }
    public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.applying(.mul, [rhs]) }
    public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor { try lhs.applying(.div, [rhs]) }

    public static func + (lhs: Tensor, rhs: Double) throws -> Tensor { try lhs + lhs.scalarLike(rhs) }
    public static func - (lhs: Tensor, rhs: Double) throws -> Tensor { try lhs - lhs.scalarLike(rhs) }
    public static func * (lhs: Tensor, rhs: Double) throws -> Tensor { try lhs * lhs.scalarLike(rhs) }
    public static func / (lhs: Tensor, rhs: Double) throws -> Tensor { try lhs / lhs.scalarLike(rhs) }

    public static func + (lhs: Double, rhs: Tensor) throws -> Tensor { try rhs.scalarLike(lhs) + rhs }
    public static func - (lhs: Double, rhs: Tensor) throws -> Tensor { try rhs.scalarLike(lhs) - rhs }
    public static func * (lhs: Double, rhs: Tensor) throws -> Tensor { try rhs.scalarLike(lhs) * rhs }
    public static func / (lhs: Double, rhs: Tensor) throws -> Tensor { try rhs.scalarLike(lhs) / rhs }

    /// Negation.
    public static prefix func - (operand: Tensor) throws -> Tensor { try operand.applying(.neg) }
}
