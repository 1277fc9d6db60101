import DataflowKernels

/// The reference implementation of the structural ops: plain loops over `Double`,
/// written from the ops' definitions (`Op.swift`), independent of the kernels except
/// for the counter-based generator, whose bits define the dropout mask.
extension Interpreter {
    /// The value of a structural `node` given its inputs' values.
    func computeStructural(_ node: Node, _ x: [DenseValue], nodes: [Node], _ name: String) throws -> DenseValue {
        func describe(_ k: Int) -> String { "\(label(node.inputs[k], nodes)) \(Shape.describe(x[k].shape))" }
        switch node.op {
        case .cast(let target):
            guard target == .int32 else { return x[0] }   // float rounding happens at the node boundary
            return DenseValue(shape: x[0].shape, data: x[0].data.map(Self.int32Truncated))

        case .concat(let axis, _):
            var shape = x[0].shape
            for (k, v) in x.enumerated() {
                let sameOtherAxes = v.shape.count == shape.count
                    && v.shape.indices.allSatisfy { $0 == axis || v.shape[$0] == shape[$0] }
                guard sameOtherAxes else {
                    throw RuntimeError(message: "\(name): \(describe(0)) and \(describe(k)) differ off axis \(axis)",
                                       kind: .shapeMismatch(name))
                }
            }
            shape[axis] = x.reduce(0) { $0 + $1.shape[axis] }
            let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
            var out: [Double] = []
            out.reserveCapacity(shape.reduce(1, *))
            for o in 0..<outer {
                for v in x {
                    let block = v.shape[axis] * inner
                    out += v.data[(o * block)..<(o * block + block)]
                }
            }
            return DenseValue(shape: shape, data: out)

        case .slice(let axis, let start, let count):
            let n = x[0].shape[axis]
            guard start + count <= n else {
                throw RuntimeError(message: "\(name): \(start)..<\(start + count) is outside axis \(axis) of \(describe(0))",
                                   kind: .shapeMismatch(name))
            }
            let outer = x[0].shape[..<axis].reduce(1, *), inner = x[0].shape[(axis + 1)...].reduce(1, *)
            var out: [Double] = []
            out.reserveCapacity(outer * count * inner)
            for o in 0..<outer {
                let from = (o * n + start) * inner
                out += x[0].data[from..<(from + count * inner)]
            }
            var shape = x[0].shape
            shape[axis] = count
            return DenseValue(shape: shape, data: out)

        case .sliceGrad(let axis, let start):
            let (dy, like) = (x[0], x[1].shape)
            let count = dy.shape[axis]
            var expected = like
            expected[axis] = count
            guard dy.shape == expected, start + count <= like[axis] else {
                throw RuntimeError(message: "\(name): \(describe(0)) does not fit at \(start) along axis \(axis) of \(describe(1))",
                                   kind: .shapeMismatch(name))
            }
            let outer = like[..<axis].reduce(1, *), inner = like[(axis + 1)...].reduce(1, *)
            var out = [Double](repeating: 0, count: like.reduce(1, *))
            for o in 0..<outer {
                for k in 0..<(count * inner) { out[(o * like[axis] + start) * inner + k] = dy.data[o * count * inner + k] }
            }
            return DenseValue(shape: like, data: out)

        case .permute(let permutation):
            let shape = permutation.map { x[0].shape[$0] }
            let sourceStrides = DenseValue.strides(x[0].shape)
            var out = [Double](repeating: 0, count: x[0].count)
            var index = [Int](repeating: 0, count: shape.count)
            for flat in 0..<out.count {
                var rest = flat
                for a in stride(from: shape.count - 1, through: 0, by: -1) {
                    index[a] = rest % shape[a]
                    rest /= shape[a]
                }
                out[flat] = x[0].data[zip(permutation, index).reduce(0) { $0 + sourceStrides[$1.0] * $1.1 }]
            }
            return DenseValue(shape: shape, data: out)

        case .oneHot(let classes, _):
            let indices = try checkedIndices(x[0], node.inputs[0], bound: classes, what: "classes", name, nodes)
            var out = [Double](repeating: 0, count: indices.count * classes)
            for (p, v) in indices.enumerated() { out[p * classes + v] = 1 }
            return DenseValue(shape: x[0].shape + [classes], data: out)

        case .gatherRows:
            let (table, d) = (x[0], x[0].shape[1])
            let indices = try checkedIndices(x[1], node.inputs[1], bound: table.shape[0], what: "rows of \(describe(0))", name, nodes)
            var out: [Double] = []
            out.reserveCapacity(indices.count * d)
            for v in indices { out += table.data[(v * d)..<(v * d + d)] }
            return DenseValue(shape: x[1].shape + [d], data: out)

        case .scatterAddRows:
            let (dy, like) = (x[0], x[2].shape)
            guard dy.shape == x[1].shape + [like[1]] else {
                throw RuntimeError(message: "\(name): \(describe(0)) should have the shape of \(describe(1)) followed by \(like[1])",
                                   kind: .shapeMismatch(name))
            }
            let indices = try checkedIndices(x[1], node.inputs[1], bound: like[0], what: "rows of \(describe(2))", name, nodes)
            var out = [Double](repeating: 0, count: like[0] * like[1])
            for (p, v) in indices.enumerated() {   // increasing position: the kernel's order
                for j in 0..<like[1] { out[v * like[1] + j] += dy.data[p * like[1] + j] }
            }
            return DenseValue(shape: like, data: out)

        case .dropoutMask(let rate, let seed):
            let c = x[1].data[0]
            guard c.isFinite, c >= 0, c == c.rounded(), c < 0x1p64 else {
                throw RuntimeError(message: "\(name): call counter \(describe(1)) is \(c); expected a whole number ≥ 0",
                                   kind: .other)
            }
            let call = UInt64(c)
            let n = x[0].count
            // The mask as CounterRandom.dropoutMask computes it, in the node's dtype.
            let data: [Double] = if node.dtype == .float32 {
                (0..<n).map { i in
                    let u: Float = CounterRandom.uniform(seed: seed, call: call, index: i)
                    return u < Float(rate) ? 0 : Double(1 / (1 - Float(rate)))
                }
            } else {
                (0..<n).map { i in
                    let u: Double = CounterRandom.uniform(seed: seed, call: call, index: i)
                    return u < rate ? 0 : 1 / (1 - rate)
                }
            }
            return DenseValue(shape: x[0].shape, data: data)

        case .placeholder, .parameter, .constant, .scalar, .zerosLike, .matmul, .transpose, .reshape, .add, .sub, .mul,
             .div, .neg, .exp, .log, .sigmoid, .tanh, .relu, .sigmoidGrad, .tanhGrad, .reluGrad, .sum, .mean, .max,
             .maxGrad, .meanGrad, .broadcastLike, .sumToShapeOf, .softmax, .logSoftmax, .softmaxGrad, .logSoftmaxGrad,
             .gatherLabels, .scatterLabels, .crossEntropy, .crossEntropyGrad, .argmax, .stopGradient, .sqrt, .rsqrt,
             .square, .abs, .sign, .log1p, .expm1, .pow, .maximum, .minimum, .greater, .greaterEqual, .less,
             .lessEqual, .equal, .notEqual, .select, .clamp, .conv2d, .conv2dBackwardInput, .conv2dBackwardKernel,
             .maxPool2d, .maxPool2dGrad, .avgPool2d, .avgPool2dGrad:
            preconditionFailure("computeStructural: \(node.op.name) is not a structural op")
        }
    }

    /// float → int32 as `cast` defines it: toward zero, saturating, NaN → 0.
    static func int32Truncated(_ v: Double) -> Double {
        if v.isNaN { return 0 }
        return Swift.min(Swift.max(v.rounded(.towardZero), Double(Int32.min)), Double(Int32.max))
    }

    /// The indices as `Int`s, each checked against `0..<bound`; the error names the
    /// indices tensor and the position (row-major) of the first bad one.
    private func checkedIndices(_ v: DenseValue, _ id: NodeID, bound: Int, what: String, _ name: String,
                                _ nodes: [Node]) throws -> [Int] {
        try v.data.enumerated().map { p, value in
            guard value >= 0, value < Double(bound) else {
                let tensor = label(id, nodes)
                let message = "\(name): index \(Int(value)) at position \(p) of \(tensor) is out of range 0..<\(bound) (\(what))"
                throw RuntimeError(message: message,
                                   kind: .labelOutOfRange(tensor: tensor, index: p, label: Int(value), classes: bound))
            }
            return Int(value)
        }
    }
}
