/// The vector-Jacobian rule of every op, in one exhaustive `switch` with no
/// `default:` (a new op does not compile without its derivative).
///
/// Each rule receives the node, the cotangent `u` of its output and which inputs
/// need a gradient; it builds (hash-consed, `isGradient`) nodes only for those, and
/// the node it builds for one input never depends on which others are needed, so
/// separate `grad` calls meet the joint call's nodes exactly. Rules use only ops
/// that themselves have rules, so gradients of gradients work.
extension GraphStorage {
    private mutating func g(_ op: Op, _ inputs: NodeID...) throws -> NodeID {
        try make(op, inputs, gradient: true)
    }

    private mutating func constant(_ value: Double, like id: NodeID) -> NodeID {
        scalar(value, nodes[id.rawValue].dtype, gradient: true)
    }

    /// `u` summed down to `target`'s shape (the adjoint of broadcasting); `u` itself
    /// when the static shapes are equal (an unknown dimension never broadcasts).
    mutating func unbroadcast(_ u: NodeID, to target: NodeID) throws -> NodeID {
        nodes[u.rawValue].shape == nodes[target.rawValue].shape ? u : try g(.sumToShapeOf, u, target)
    }

    /// `u`, reduced over `axes` of `x`, broadcast back to `x`'s shape.
    private mutating func unreduce(_ u: NodeID, axes: [Int], to x: NodeID) throws -> NodeID {
        let shape = nodes[x.rawValue].shape
        if axes == Array(0..<axes.count) {   // leading axes: numpy alignment does it
            return try g(.broadcastLike, u, x)
        }
        var kept = shape.dims
        for a in axes { kept[a] = 1 }
        let keptShape = Shape(kept)
        guard keptShape.unknownCount <= 1 else {
            throw GraphError("grad: the reduction over axes \(axes) of \(labelWithShape(x)) cannot be differentiated: more than one "
                + "unknown dimension")
        }
        return try g(.broadcastLike, try g(.reshape(keptShape), u), x)
    }

    /// The row sums of `t` (rank 1 or 2) with the last axis kept (as size 1), so they
    /// broadcast against `t`.
    private mutating func rowSum(_ t: NodeID) throws -> NodeID {
        let shape = nodes[t.rawValue].shape
        if shape.rank == 1 { return try g(.sum(axes: [0]), t) }
        return try g(.reshape(Shape([shape.dims[0], 1])), try g(.sum(axes: [1]), t))
    }

    /// The adjoints of a concatenation along `axis`: each needed input's slice of `u`.
    /// - Throws: `GraphError` when an input before it, or itself, has an unknown size on the axis.
    private mutating func concatAdjoints(_ u: NodeID, axis: Int, of id: NodeID, needed: [Bool]) throws -> [NodeID?] {
        var out = [NodeID?](repeating: nil, count: needed.count)
        var start: Int? = 0
        for (k, input) in nodes[id.rawValue].inputs.enumerated() {
            let size = nodes[input.rawValue].shape.dims[axis]
            if needed[k] {
                guard let s = start, let size else {
                    throw GraphError("grad: the concat \(labelWithShape(id)) cannot be differentiated: "
                                     + "an input's size along axis \(axis) is unknown",
                                     kind: .invalidArgument)
                }
                out[k] = try g(.slice(axis: axis, start: s, count: size), u)
            }
            start = start.flatMap { s in size.map { s + $0 } }
        }
        return out
    }

    /// The cotangents of `id`'s inputs given the cotangent `u` of its output;
    /// `nil` where not needed or where the gradient is zero.
    mutating func vjp(of id: NodeID, cotangent u: NodeID, needed: [Bool]) throws -> [NodeID?] {
        let node = nodes[id.rawValue]
        let x = node.inputs
        var out = [NodeID?](repeating: nil, count: x.count)
        func want(_ k: Int) -> Bool { needed[k] }

        switch node.op {
        case .placeholder, .parameter, .constant, .scalar, .zerosLike, .argmax, .stopGradient, .sign,
             .greater, .greaterEqual, .less, .lessEqual, .equal, .notEqual, .oneHot, .dropoutMask:
            break

        case .sqrt:
            // d√x = u / (2√x).
            out[0] = try g(.div, u, try g(.mul, constant(2, like: id), id))

        case .rsqrt:
            // d(x^−½) = −½ · u · y / x.
            out[0] = try g(.mul, constant(-0.5, like: id), try g(.div, try g(.mul, u, id), x[0]))

        case .square:
            out[0] = try g(.mul, u, try g(.mul, constant(2, like: id), x[0]))

        case .abs:
            out[0] = try g(.mul, u, try g(.sign, x[0]))

        case .log1p:
            out[0] = try g(.div, u, try g(.add, constant(1, like: id), x[0]))

        case .expm1:
            out[0] = try g(.mul, u, try g(.add, id, constant(1, like: id)))

        case .pow(let p):
            // d(x^p) = p · x^(p−1) · u.
            if p == 0 { break }
            let slope = p == 1 ? constant(1, like: id) : (p == 2 ? x[0] : try g(.pow(p - 1), x[0]))
            out[0] = try g(.mul, try g(.mul, constant(p, like: id), slope), u)

        case .maximum, .minimum:
            // The winner takes u; a tie splits it equally (PyTorch's rule).
            let wins: Op = node.op == .maximum ? .greater : .less
            let half = constant(0.5, like: id)
            let tie = try g(.mul, half, try g(.equal, x[0], x[1]))
            if want(0) {
                let share = try g(.add, try g(wins, x[0], x[1]), tie)
                out[0] = try unbroadcast(try g(.mul, u, share), to: x[0])
            }
            if want(1) {
                let share = try g(.add, try g(wins, x[1], x[0]), tie)
                out[1] = try unbroadcast(try g(.mul, u, share), to: x[1])
            }

        case .select:
            let zero = constant(0, like: id)
            if want(1) { out[1] = try unbroadcast(try g(.select, x[0], u, zero), to: x[1]) }
            if want(2) { out[2] = try unbroadcast(try g(.select, x[0], zero, u), to: x[2]) }

        case .clamp:
            // u where lo ≤ x ≤ hi, else 0.
            let inside = try g(.mul, try g(.greaterEqual, x[0], x[1]), try g(.lessEqual, x[0], x[2]))
            if want(0) { out[0] = try unbroadcast(try g(.mul, u, inside), to: x[0]) }

        case .matmul(let ta, let tb):
            // C = op(A)·op(B): dA = u·op(B)ᵀ (transposed back if A was), dB = op(A)ᵀ·u;
            // batched (rank > 2): the same per batch, summed over broadcast batch axes.
            let batched = nodes[x[0].rawValue].shape.rank > 2 || nodes[x[1].rawValue].shape.rank > 2
            if want(0) {
                let d = ta ? try g(.matmul(transposeA: tb, transposeB: true), x[1], u)
                           : try g(.matmul(transposeA: false, transposeB: !tb), u, x[1])
                out[0] = batched ? try unbroadcast(d, to: x[0]) : d
            }
            if want(1) {
                if batched, let flat = try sharedRightOperandGradient(u, x[0], x[1], ta: ta, tb: tb) {
                    out[1] = flat
                } else {
                    let d = tb ? try g(.matmul(transposeA: true, transposeB: ta), u, x[0])
                               : try g(.matmul(transposeA: !ta, transposeB: false), x[0], u)
                    out[1] = batched ? try unbroadcast(d, to: x[1]) : d
                }
            }

        case .transpose:
            out[0] = try g(.transpose, u)

        case .reshape:
            let shape = nodes[x[0].rawValue].shape
            guard shape.unknownCount <= 1 else {
                throw GraphError("grad: the reshape of \(labelWithShape(x[0])) cannot be differentiated: more than one unknown dimension")
            }
            out[0] = try g(.reshape(shape), u)

        case .add:
            if want(0) { out[0] = try unbroadcast(u, to: x[0]) }
            if want(1) { out[1] = try unbroadcast(u, to: x[1]) }

        case .sub:
            if want(0) { out[0] = try unbroadcast(u, to: x[0]) }
            if want(1) { out[1] = try unbroadcast(try g(.neg, u), to: x[1]) }

        case .mul:
            if want(0) { out[0] = try unbroadcast(try g(.mul, u, x[1]), to: x[0]) }
            if want(1) { out[1] = try unbroadcast(try g(.mul, u, x[0]), to: x[1]) }

        case .div:
            // d(a/b) = da/b − (a/b)·db/b.
            if want(0) { out[0] = try unbroadcast(try g(.div, u, x[1]), to: x[0]) }
            if want(1) { out[1] = try unbroadcast(try g(.neg, try g(.div, try g(.mul, u, id), x[1])), to: x[1]) }

        case .neg:
            out[0] = try g(.neg, u)

        case .exp:
            out[0] = try g(.mul, u, id)

        case .log:
            out[0] = try g(.div, u, x[0])

        case .sigmoid:
            out[0] = try g(.sigmoidGrad, id, u)

        case .tanh:
            out[0] = try g(.tanhGrad, id, u)

        case .relu:
            out[0] = try g(.reluGrad, x[0], u)

        case .sigmoidGrad:
            // out = dy·y·(1 − y): ∂y = u·dy·(1 − 2y), ∂dy = sigmoidGrad(y, u).
            if want(0) {
                let one = constant(1, like: id), two = constant(2, like: id)
                out[0] = try g(.mul, try g(.mul, u, x[1]), try g(.sub, one, try g(.mul, two, x[0])))
            }
            if want(1) { out[1] = try g(.sigmoidGrad, x[0], u) }

        case .tanhGrad:
            // out = dy·(1 − y²): ∂y = −2·y·dy·u, ∂dy = tanhGrad(y, u).
            if want(0) {
                let two = constant(2, like: id)
                out[0] = try g(.neg, try g(.mul, try g(.mul, two, x[0]), try g(.mul, u, x[1])))
            }
            if want(1) { out[1] = try g(.tanhGrad, x[0], u) }

        case .reluGrad:
            // x only selects; its derivative is zero almost everywhere.
            if want(1) { out[1] = try g(.reluGrad, x[0], u) }

        case .sum(let axes):
            out[0] = try unreduce(u, axes: axes, to: x[0])

        case .mean(let axes):
            out[0] = try g(.meanGrad(axes: axes), u, x[0])

        case .max(let axes):
            out[0] = try g(.maxGrad(axes: axes), x[0], id, u)

        case .maxGrad(let axes):
            // Linear in dy: ∂dy = sum_axes(u ⊙ maxGrad(x, y, 1)); x and y only select.
            if want(2) {
                let ones = try g(.broadcastLike, constant(1, like: id), x[1])
                out[2] = try g(.sum(axes: axes), try g(.mul, u, try g(.maxGrad(axes: axes), x[0], x[1], ones)))
            }

        case .meanGrad(let axes):
            if want(0) { out[0] = try g(.mean(axes: axes), u) }

        case .broadcastLike:
            if want(0) { out[0] = try unbroadcast(u, to: x[0]) }

        case .sumToShapeOf:
            if want(0) {
                out[0] = nodes[u.rawValue].shape == nodes[x[0].rawValue].shape ? u : try g(.broadcastLike, u, x[0])
            }

        case .softmax:
            out[0] = try g(.softmaxGrad, id, u)

        case .logSoftmax:
            out[0] = try g(.logSoftmaxGrad, id, u)

        case .softmaxGrad:
            // out = y ⊙ (dy − s), s = rowsum(dy ⊙ y):
            // ∂y = u ⊙ (dy − s) − dy ⊙ rowsum(u ⊙ y); ∂dy = softmaxGrad(y, u) (symmetric Jacobian).
            let (y, dy) = (x[0], x[1])
            if want(0) {
                let s = try rowSum(try g(.mul, dy, y))
                let first = try g(.mul, u, try g(.sub, dy, s))
                let second = try g(.mul, dy, try rowSum(try g(.mul, u, y)))
                out[0] = try g(.sub, first, second)
            }
            if want(1) { out[1] = try g(.softmaxGrad, y, u) }

        case .logSoftmaxGrad:
            // out = dy − exp(y) ⊙ rowsum(dy):
            // ∂y = −u ⊙ exp(y) ⊙ rowsum(dy); ∂dy = u − rowsum(u ⊙ exp(y)).
            let (y, dy) = (x[0], x[1])
            let e = try g(.exp, y)
            if want(0) { out[0] = try g(.neg, try g(.mul, try g(.mul, u, e), try rowSum(dy))) }
            if want(1) { out[1] = try g(.sub, u, try rowSum(try g(.mul, u, e))) }

        case .gatherLabels:
            if want(0) { out[0] = try g(.scatterLabels, u, x[1], x[0]) }

        case .scatterLabels:
            if want(0) { out[0] = try g(.gatherLabels, u, x[1]) }

        case .crossEntropy:
            if want(0) { out[0] = try g(.crossEntropyGrad, x[0], x[1], u) }

        case .crossEntropyGrad:
            // out = (softmax(z) − onehot)·dl/n:
            // ∂z = softmaxGrad(softmax(z), u)·dl/n, with dl/n as meanGrad(dl) over the labels' rows;
            // ∂dl = sum(u ⊙ crossEntropyGrad(z, labels, 1)).
            let (z, labels, dl) = (x[0], x[1], x[2])
            if want(0) {
                let rows = nodes[z.rawValue].shape.dims[0]
                let scale = try g(.reshape(Shape([rows, 1])), try g(.meanGrad(axes: [0]), dl, labels))
                out[0] = try g(.mul, try g(.softmaxGrad, try g(.softmax, z), u), scale)
            }
            if want(2) {
                let unit = try g(.crossEntropyGrad, z, labels, constant(1, like: id))
                out[2] = try g(.sum(axes: [0, 1]), try g(.mul, u, unit))
            }

        // Convolution: y = conv(x, k) is bilinear; its two adjoints are the backward ops,
        // and the backward ops' adjoints are again conv and its adjoints, exactly:
        // ⟨u, Bx(dy, k)⟩ = ⟨conv(u, k), dy⟩ = ⟨k, Bk(u, dy)⟩ and ⟨U, Bk(x, dy)⟩ = ⟨conv(x, U), dy⟩ = ⟨x, Bx(dy, U)⟩.
        case .conv2d(let a):
            if want(0) { out[0] = try g(.conv2dBackwardInput(a), u, x[1], x[0]) }
            if want(1) { out[1] = try g(.conv2dBackwardKernel(a), x[0], u) }

        case .conv2dBackwardInput(let a):
            // out = Bx(dy, k), u has x's shape.
            if want(0) { out[0] = try g(.conv2d(a), u, x[1]) }
            if want(1) { out[1] = try g(.conv2dBackwardKernel(a), u, x[0]) }

        case .conv2dBackwardKernel(let a):
            // out = Bk(x, dy), u has the kernel's shape.
            if want(0) { out[0] = try g(.conv2dBackwardInput(a), x[1], u, x[0]) }
            if want(1) { out[1] = try g(.conv2d(a), x[0], u) }

        case .maxPool2d(let a):
            out[0] = try g(.maxPool2dGrad(a), x[0], u)

        case .maxPool2dGrad:
            // Linear in dy (each dy[o] goes to its window's maximum); its adjoint would
            // gather u at the maxima, an op this library does not have yet.
            if want(1) {
                throw GraphError("grad: the gradient of \(labelWithShape(id)) (maxPool2dGrad) is not implemented: max pooling is "
                    + "differentiable once",
                                 kind: .invalidArgument)
            }

        case .avgPool2d(let a):
            out[0] = try g(.avgPool2dGrad(a), u, x[0])

        case .avgPool2dGrad(let a):
            // Average pooling is linear: the adjoint of its adjoint is itself.
            if want(0) { out[0] = try g(.avgPool2d(a), u) }

        // Structural ops: linear maps whose adjoints are structural ops again.
        case .cast:
            // Float ↔ float casts back; nothing flows into or out of int32.
            let from = nodes[x[0].rawValue].dtype
            if from.isFloatingPoint && node.dtype.isFloatingPoint { out[0] = try g(.cast(from), u) }

        case .concat(let axis, _):
            out = try concatAdjoints(u, axis: axis, of: id, needed: needed)

        case .slice(let axis, let start, _):
            out[0] = try g(.sliceGrad(axis: axis, start: start), u, x[0])

        case .sliceGrad(let axis, let start):
            // Static by shape inference: dy's size on the axis is known.
            if want(0) { out[0] = try g(.slice(axis: axis, start: start, count: nodes[x[0].rawValue].shape.dims[axis]!), u) }

        case .permute(let p):
            var inverse = p
            for (a, source) in p.enumerated() { inverse[source] = a }
            out[0] = try g(.permute(inverse), u)

        case .gatherRows:
            if want(0) { out[0] = try g(.scatterAddRows, u, x[1], x[0]) }

        case .scatterAddRows:
            if want(0) { out[0] = try g(.gatherRows, u, x[1]) }
        }
        return out
    }
}
