/// Shape and dtype inference of the structural ops (`cast`, `concat`, `slice` and its
/// adjoint, `permute`, `oneHot`, the embedding gather/scatter, the dropout mask).
///
/// Axes here are already non-negative (the public functions in `Tensor+Structural.swift`
/// resolve negative ones); an op built directly with a bad axis is refused with a
/// `GraphError` naming the tensor, never a trap.
extension GraphStorage {
    /// The dtype and static shape of a structural `op` applied to `inputs`.
    func inferStructural(_ op: Op, _ inputs: [NodeID]) throws -> (DType, Shape) {
        let shapes = inputs.map { nodes[$0.rawValue].shape }
        let dtypes = inputs.map { nodes[$0.rawValue].dtype }
        switch op {
        case .cast(let target):
            return (target, shapes[0])

        case .concat(let axis, _):
            try requireAxis(op, axis, of: inputs[0])
            var dims = shapes[0].dims
            var total: Int? = 0
            for (k, id) in inputs.enumerated() {
                guard dtypes[k] == dtypes[0] else {
                    throw GraphError("concat: \(labelWithShape(inputs[0])) is \(dtypes[0]) but \(labelWithShape(id)) is \(dtypes[k])",
                                     kind: .dtypeMismatch)
                }
                guard shapes[k].rank == shapes[0].rank else {
                    throw GraphError("concat: \(labelWithShape(inputs[0])) and \(labelWithShape(id)) differ in rank", kind: .shapeMismatch)
                }
                for a in dims.indices where a != axis {
                    guard Self.compatible(dims[a], shapes[k].dims[a]) else {
                        let pair = "\(labelWithShape(inputs[0])) and \(labelWithShape(id))"
                        throw GraphError("concat along axis \(axis): \(pair) differ on axis \(a)",
                                         kind: .shapeMismatch)
                    }
                    dims[a] = dims[a] ?? shapes[k].dims[a]
                }
                total = total.flatMap { t in shapes[k].dims[axis].map { t + $0 } }
            }
            dims[axis] = total
            return (dtypes[0], Shape(dims))

        case .slice(let axis, let start, let count):
            try requireAxis(op, axis, of: inputs[0])
            guard start >= 0, count >= 0 else {
                throw GraphError("slice: start \(start) and count \(count) along axis \(axis) of \(labelWithShape(inputs[0])) must be ≥ 0",
                                 kind: .invalidArgument)
            }
            if let n = shapes[0].dims[axis], start + count > n {
                throw GraphError("slice: \(start)..<\(start + count) is outside axis \(axis) (size \(n)) of \(labelWithShape(inputs[0]))",
                                 kind: .invalidArgument)
            }
            var dims = shapes[0].dims
            dims[axis] = count
            return (dtypes[0], Shape(dims))

        case .sliceGrad(let axis, let start):
            // (dy, like)
            let dtype = try requireFloat(op, [inputs[0]])
            try requireAxis(op, axis, of: inputs[1])
            guard shapes[0].rank == shapes[1].rank, let count = shapes[0].dims[axis], start >= 0 else {
                throw GraphError("sliceGrad: \(labelWithShape(inputs[0])) needs the rank of \(labelWithShape(inputs[1])), a known size on "
                                 + "axis \(axis) and a start ≥ 0 (got \(start))", kind: .shapeMismatch)
            }
            for a in shapes[0].dims.indices where a != axis && !Self.compatible(shapes[0].dims[a], shapes[1].dims[a]) {
                throw GraphError("sliceGrad: \(labelWithShape(inputs[0])) and \(labelWithShape(inputs[1])) differ on axis \(a)",
                                 kind: .shapeMismatch)
            }
            if let n = shapes[1].dims[axis], start + count > n {
                throw GraphError("sliceGrad: \(start)..<\(start + count) is outside axis \(axis) of \(labelWithShape(inputs[1]))",
                                 kind: .invalidArgument)
            }
            return (dtype, shapes[1])

        case .permute(let permutation):
            guard permutation.sorted() == Array(0..<shapes[0].rank) else {
                let rank = shapes[0].rank
                throw GraphError("transpose: \(permutation) is not a permutation of the \(rank) axes of \(labelWithShape(inputs[0]))",
                                 kind: .invalidArgument)
            }
            return (dtypes[0], Shape(permutation.map { shapes[0].dims[$0] }))

        case .oneHot(let classes, let dtype):
            try requireInt32(op, inputs[0], role: "indices")
            guard classes >= 1, dtype.isFloatingPoint else {
                throw GraphError("oneHot: \(labelWithShape(inputs[0])): classes \(classes) must be ≥ 1 and the dtype (\(dtype)) "
                                 + "float32 or float64",
                                 kind: .invalidArgument)
            }
            return (dtype, Shape(shapes[0].dims + [classes]))

        case .gatherRows:
            // (table, indices)
            let dtype = try requireFloat(op, [inputs[0]])
            try requireRank(op, inputs[0], [2], role: "table", kind: .shapeMismatch)
            try requireInt32(op, inputs[1], role: "indices")
            return (dtype, Shape(shapes[1].dims + [shapes[0].dims[1]]))

        case .scatterAddRows:
            // (dy, indices, like table)
            let dtype = try requireFloat(op, [inputs[0], inputs[2]])
            try requireRank(op, inputs[2], [2], role: "like", kind: .shapeMismatch)
            try requireInt32(op, inputs[1], role: "indices")
            let expected = Shape(shapes[1].dims + [shapes[2].dims[1]])
            let what = "the rows of \(labelWithShape(inputs[2])) gathered by \(labelWithShape(inputs[1]))"
            try requireShape(op, inputs[0], expected, of: what)
            return (dtype, shapes[2])

        case .dropoutMask(let rate, _):
            // (like x, counter)
            let dtype = try requireFloat(op, [inputs[0]])
            guard rate.isFinite, rate >= 0, rate < 1 else {
                throw GraphError("dropout: rate \(rate) for \(labelWithShape(inputs[0])) must be in [0, 1)", kind: .invalidArgument)
            }
            try requireRank(op, inputs[1], [0], role: "call counter", kind: .shapeMismatch)
            return (dtype, shapes[0])

        case .placeholder, .parameter, .constant, .scalar, .zerosLike, .matmul, .transpose, .reshape, .add, .sub, .mul,
             .div, .neg, .exp, .log, .sigmoid, .tanh, .relu, .sigmoidGrad, .tanhGrad, .reluGrad, .sum, .mean, .max,
             .maxGrad, .meanGrad, .broadcastLike, .sumToShapeOf, .softmax, .logSoftmax, .softmaxGrad, .logSoftmaxGrad,
             .gatherLabels, .scatterLabels, .crossEntropy, .crossEntropyGrad, .argmax, .stopGradient, .sqrt, .rsqrt,
             .square, .abs, .sign, .log1p, .expm1, .pow, .maximum, .minimum, .greater, .greaterEqual, .less,
             .lessEqual, .equal, .notEqual, .select, .clamp, .conv2d, .conv2dBackwardInput, .conv2dBackwardKernel,
             .maxPool2d, .maxPool2dGrad, .avgPool2d, .avgPool2dGrad:
            preconditionFailure("inferStructural: \(op.name) is not a structural op")
        }
    }

    /// Throws unless `axis` is in `0..<rank` of `id`.
    private func requireAxis(_ op: Op, _ axis: Int, of id: NodeID) throws {
        let rank = nodes[id.rawValue].shape.rank
        guard axis >= 0, axis < rank else {
            throw GraphError("\(op.name): axis \(axis) is out of range for \(labelWithShape(id)) (rank \(rank))", kind: .invalidArgument)
        }
    }

    /// Throws unless `id` is int32.
    private func requireInt32(_ op: Op, _ id: NodeID, role: String) throws {
        let dtype = nodes[id.rawValue].dtype
        guard dtype == .int32 else {
            throw GraphError("\(op.name): \(role) \(labelWithShape(id)) are \(dtype); expected int32", kind: .dtypeMismatch)
        }
    }
}
