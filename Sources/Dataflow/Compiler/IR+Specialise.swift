import DataflowKernels

/// Specialisation: concrete shapes for one set of feed shapes.
extension IR {
    /// Fills `concrete` for every value from the feed shapes, the current parameter
    /// values and the constants; checks what shape inference could not check
    /// statically (unknown dimensions that meet).
    /// - Throws: `RuntimeError.shapeMismatch` naming the value when two run-time
    ///   dimensions disagree.
    mutating func specialise(graph: Graph, feedShapes: [String: [Int]]) throws {
        for i in values.indices {
            let v = values[i]
            let ins = v.inputs.map { values[$0].concrete }
            let shape: [Int]
            switch v.kind {
            case .gemm(let ta, let tb, _):
                shape = try matmulShape(i, ins[0], ins[1], ta, tb)
            case .elementwise:
                shape = try broadcast(i, ins)
            case .folded(let c):
                shape = c.value.shape
            case .op(let op):
                switch op {
                case .placeholder(let name):
                    guard let s = feedShapes[name] else {
                        throw RuntimeError(message: "placeholder '\(name)' has no feed", kind: .missingFeed(name))
                    }
                    shape = s
                case .parameter(let id):
                    shape = graph.parameterShape(id)
                case .constant(let id):
                    shape = graph.constantForCompiler(id).shape
                case .scalar:
                    shape = []
                case .zerosLike, .stopGradient, .softmax, .logSoftmax:
                    shape = ins[0]
                case .softmaxGrad, .logSoftmaxGrad:
                    shape = try broadcast(i, ins)
                case .matmul(let ta, let tb):
                    shape = try matmulShape(i, ins[0], ins[1], ta, tb)
                case .transpose:
                    shape = ins[0].reversed()
                case .reshape(let target):
                    shape = try reshape(i, ins[0], target)
                case .add, .sub, .mul, .div, .sigmoidGrad, .tanhGrad, .reluGrad, .neg, .exp, .log, .sigmoid, .tanh, .relu,
                     .sqrt, .rsqrt, .square, .abs, .sign, .log1p, .expm1, .pow, .maximum, .minimum,
                     .greater, .greaterEqual, .less, .lessEqual, .equal, .notEqual, .select, .clamp:
                    shape = try broadcast(i, ins)   // element-wise (Op+Elementwise.swift)
                case .sum(let axes), .mean(let axes), .max(let axes):
                    shape = ins[0].enumerated().filter { !axes.contains($0.offset) }.map(\.element)
                case .broadcastLike, .sumToShapeOf:
                    shape = ins[1]
                case .maxGrad:
                    shape = ins[0]
                case .meanGrad:
                    shape = ins[1]
                case .gatherLabels:
                    shape = [ins[0].first ?? 1]
                case .scatterLabels:
                    shape = ins[2]
                case .crossEntropy:
                    shape = []
                case .crossEntropyGrad:
                    shape = ins[0]
                case .argmax(let axis):
                    shape = ins[0].enumerated().filter { $0.offset != axis }.map(\.element)
                case .conv2d(let a):
                    let g = try convGeometry(i, a, input: ins[0], outputChannels: ins[1].count == 4 ? ins[1][3] : 0)
                    shape = [g.batch, g.outputHeight, g.outputWidth, g.outputChannels]
                case .conv2dBackwardInput:
                    shape = ins[2]
                case .conv2dBackwardKernel(let a):
                    shape = [a.kernelHeight, a.kernelWidth, ins[0].count == 4 ? ins[0][3] : 0, ins[1].count == 4 ? ins[1][3] : 0]
                case .maxPool2d(let a), .avgPool2d(let a):
                    let g = try poolGeometry(i, a, input: ins[0])
                    shape = [g.batch, g.outputHeight, g.outputWidth, g.channels]
                case .maxPool2dGrad:
                    shape = ins[0]
                case .avgPool2dGrad:
                    shape = ins[1]
                case .cast, .concat, .slice, .sliceGrad, .permute, .oneHot, .gatherRows, .scatterAddRows, .dropoutMask:
                    shape = try structuralShape(i, op, ins)
                }
            }
            values[i].concrete = shape
            for (d, c) in zip(v.shape.dims, shape) {
                if let d, d != c {
                    throw RuntimeError(message: "\(label(i)): expected shape \(v.shape) but the feeds give \(shape)",
                                       kind: .shapeMismatch(label(i)))
                }
            }
        }
    }

    /// The concrete shape of structural value `i` (mirrors `GraphStorage.inferStructural`,
    /// checking what unknown dimensions left open).
    private func structuralShape(_ i: Int, _ op: Op, _ ins: [[Int]]) throws -> [Int] {
        func mismatch(_ what: String) -> RuntimeError {
            RuntimeError(message: "\(label(i)): \(what)", kind: .shapeMismatch(label(i)))
        }
        /// `a` and `b` have one rank and agree on every axis but `axis`.
        func agreeOffAxis(_ a: [Int], _ b: [Int], _ axis: Int) -> Bool {
            a.count == b.count && a.indices.allSatisfy { $0 == axis || a[$0] == b[$0] }
        }
        if case .concat(let axis, _) = op {
            guard axis < ins[0].count, ins.allSatisfy({ agreeOffAxis($0, ins[0], axis) }) else {
                let shapes = ins.map { "\($0)" }.joined(separator: ", ")
                throw mismatch("concat along axis \(axis) of shapes \(shapes) that differ off that axis")
            }
            var shape = ins[0]
            shape[axis] = ins.reduce(0) { $0 + $1[axis] }
            return shape
        }
        if case .slice(let axis, let start, let count) = op {
            guard axis < ins[0].count, start + count <= ins[0][axis] else {
                throw mismatch("slice \(start)..<\(start + count) is outside axis \(axis) of shape \(ins[0])")
            }
            var shape = ins[0]
            shape[axis] = count
            return shape
        }
        if case .sliceGrad(let axis, let start) = op {
            guard axis < ins[1].count, agreeOffAxis(ins[0], ins[1], axis), start + ins[0][axis] <= ins[1][axis] else {
                throw mismatch("sliceGrad: gradient \(ins[0]) does not fit at \(start) along axis \(axis) of \(ins[1])")
            }
            return ins[1]
        }
        if case .permute(let permutation) = op {
            guard permutation.sorted() == Array(ins[0].indices) else {
                throw mismatch("\(permutation) is not a permutation of the axes of shape \(ins[0])")
            }
            return permutation.map { ins[0][$0] }
        }
        if case .oneHot(let classes, _) = op { return ins[0] + [classes] }
        if op == .gatherRows {
            guard ins[0].count == 2 else { throw mismatch("the table's shape \(ins[0]) is not rank 2") }
            return ins[1] + [ins[0][1]]
        }
        if op == .scatterAddRows {
            guard ins[2].count == 2, ins[0] == ins[1] + [ins[2][1]] else {
                throw mismatch("gradient \(ins[0]) should have the indices' shape \(ins[1]) followed by the row size of \(ins[2])")
            }
            return ins[2]
        }
        return ins[0]   // cast, dropoutMask: the input's shape
    }

    /// The kernels' geometry of convolution value `i` for concrete input shape `input`.
    func convGeometry(_ i: Int, _ a: Conv2DAttributes, input: [Int], outputChannels: Int) throws -> Conv2DGeometry {
        guard input.count == 4 else {
            throw RuntimeError(message: "\(label(i)): input shape \(input) is not rank 4", kind: .shapeMismatch(label(i)))
        }
        do {
            return try a.geometry(batch: input[0], height: input[1], width: input[2], channels: input[3], outputChannels: outputChannels)
        } catch {
            throw RuntimeError(message: "\(label(i)): \(error.message)", kind: .shapeMismatch(label(i)))
        }
    }

    /// The kernels' geometry of pooling value `i` for concrete input shape `input`.
    func poolGeometry(_ i: Int, _ a: Pool2DAttributes, input: [Int]) throws -> Pool2DGeometry {
        guard input.count == 4 else {
            throw RuntimeError(message: "\(label(i)): input shape \(input) is not rank 4", kind: .shapeMismatch(label(i)))
        }
        do {
            return try a.geometry(batch: input[0], height: input[1], width: input[2], channels: input[3])
        } catch {
            throw RuntimeError(message: "\(label(i)): \(error.message)", kind: .shapeMismatch(label(i)))
        }
    }

    /// `op(A) [..., m, k] · op(B) [..., k, n]`: the last two axes multiply, the batch
    /// axes broadcast.
    private func matmulShape(_ i: Int, _ a: [Int], _ b: [Int], _ ta: Bool, _ tb: Bool) throws -> [Int] {
        guard a.count >= 2, b.count >= 2 else {
            throw RuntimeError(message: "\(label(i)): matmul needs operands of rank 2 or more, got \(a) and \(b)",
                               kind: .shapeMismatch(label(i)))
        }
        let (ar, ac) = (a[a.count - 2], a[a.count - 1])
        let (br, bc) = (b[b.count - 2], b[b.count - 1])
        let (m, ka) = ta ? (ac, ar) : (ar, ac)
        let (kb, n) = tb ? (bc, br) : (br, bc)
        guard ka == kb else {
            throw RuntimeError(message: "\(label(i)): inner dimensions differ: \(a)\(ta ? "ᵀ" : "") · \(b)\(tb ? "ᵀ" : "")",
                               kind: .shapeMismatch(label(i)))
        }
        if a.count == 2 && b.count == 2 { return [m, n] }
        let (batchA, batchB) = (Array(a.dropLast(2)), Array(b.dropLast(2)))
        let rank = max(batchA.count, batchB.count)
        let pa = [Int](repeating: 1, count: rank - batchA.count) + batchA
        let pb = [Int](repeating: 1, count: rank - batchB.count) + batchB
        guard zip(pa, pb).allSatisfy({ $0 == $1 || $0 == 1 || $1 == 1 }) else {
            let operands = values[i].inputs.map { label($0) }
            throw RuntimeError(message: "\(label(i)): the batch axes of \(operands[0]) \(a) and \(operands[1]) \(b) do not broadcast",
                               kind: .shapeMismatch(label(i)))
        }
        return zip(pa, pb).map { max($0, $1) } + [m, n]
    }

    private func broadcast(_ i: Int, _ shapes: [[Int]]) throws -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for s in shapes {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            for d in 0..<rank where padded[d] != 1 {
                if out[d] == 1 { out[d] = padded[d] } else if out[d] != padded[d] {
                    throw RuntimeError(message: "\(label(i)): shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not broadcast",
                                       kind: .shapeMismatch(label(i)))
                }
            }
        }
        return out
    }

    private func reshape(_ i: Int, _ input: [Int], _ target: Shape) throws -> [Int] {
        let total = input.reduce(1, *)
        let known = target.dims.compactMap { $0 }.reduce(1, *)
        var out: [Int] = []
        for d in target.dims {
            if let d { out.append(d) } else {
                guard known > 0, total % known == 0 else {
                    throw RuntimeError(message: "\(label(i)): cannot reshape \(input) to \(target)", kind: .shapeMismatch(label(i)))
                }
                out.append(total / known)
            }
        }
        guard out.reduce(1, *) == total else {
            throw RuntimeError(message: "\(label(i)): cannot reshape \(input) (\(total) elements) to \(out)",
                               kind: .shapeMismatch(label(i)))
        }
        return out
    }
}
