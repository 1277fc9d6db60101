import Foundation

/// The reference implementation of every op: plain loops over `Double`.
extension Interpreter {
    /// The value of `node` given its inputs' values.
    func compute(_ id: NodeID, _ node: Node, _ x: [DenseValue], nodes: [Node], feeds: [String: TensorValue]) throws -> DenseValue {
        let name = "\(node.op.name) \(label(id, nodes))"
        func describe(_ k: Int) -> String { "\(label(node.inputs[k], nodes)) \(Shape.describe(x[k].shape))" }

        switch node.op {
        case .placeholder, .parameter, .constant, .scalar:
            return try leaf(id, node, feeds: feeds)

        case .zerosLike:
            return DenseValue(shape: x[0].shape, repeating: 0)

        case .cast, .concat, .slice, .sliceGrad, .permute, .oneHot, .gatherRows, .scatterAddRows, .dropoutMask:
            return try computeStructural(node, x, nodes: nodes, name)   // Interpreter+StructuralOps.swift

        case .stopGradient:
            return x[0]

        case .matmul(let ta, let tb):
            return try batchedMatmul(x[0], x[1], ta, tb, name: name, describe: describe)   // Interpreter+BatchedMatmul.swift

        case .transpose:
            let (r, c) = (x[0].shape[0], x[0].shape[1])
            var out = [Double](repeating: 0, count: r * c)
            for i in 0..<r { for j in 0..<c { out[j * r + i] = x[0].data[i * c + j] } }
            return DenseValue(shape: [c, r], data: out)

        case .reshape(let target):
            let count = x[0].count
            let known = target.dims.reduce(1) { $0 * ($1 ?? 1) }
            let dims: [Int]
            if target.isFullyKnown {
                dims = target.dims.map { $0! }
            } else {
                guard known > 0, count % known == 0 else {
                    throw RuntimeError(message: "\(name): \(describe(0)) has \(count) elements, not a multiple of the \(known) of "
                        + "\(target)",
                                       kind: .shapeMismatch(name))
                }
                dims = target.dims.map { $0 ?? count / known }
            }
            guard dims.reduce(1, *) == count else {
                throw RuntimeError(message: "\(name): \(describe(0)) has \(count) elements; \(target) has \(dims.reduce(1, *))",
                                   kind: .shapeMismatch(name))
            }
            return DenseValue(shape: dims, data: x[0].data)

        case .add: return try binary(node, x, nodes, name) { $0 + $1 }
        case .sub: return try binary(node, x, nodes, name) { $0 - $1 }
        case .mul: return try binary(node, x, nodes, name) { $0 * $1 }
        case .div: return try binary(node, x, nodes, name) { $0 / $1 }
        case .neg: return unary(x[0]) { -$0 }
        case .exp: return unary(x[0]) { Foundation.exp($0) }
        case .log: return unary(x[0]) { Foundation.log($0) }
        case .sigmoid: return unary(x[0]) { $0 >= 0 ? 1 / (1 + Foundation.exp(-$0)) : Foundation.exp($0) / (1 + Foundation.exp($0)) }
        case .tanh: return unary(x[0]) { Foundation.tanh($0) }
        case .relu: return unary(x[0]) { $0 > 0 ? $0 : 0 }
        case .sigmoidGrad: return try binary(node, x, nodes, name) { y, dy in dy * y * (1 - y) }
        case .tanhGrad: return try binary(node, x, nodes, name) { y, dy in dy * (1 - y * y) }
        case .reluGrad: return try binary(node, x, nodes, name) { v, dy in v > 0 ? dy : 0 }
        case .sqrt: return unary(x[0]) { $0.squareRoot() }
        case .rsqrt: return unary(x[0]) { 1 / $0.squareRoot() }
        case .square: return unary(x[0]) { $0 * $0 }
        case .abs: return unary(x[0]) { Swift.abs($0) }
        case .sign: return unary(x[0]) { $0 > 0 ? 1 : ($0 < 0 ? -1 : $0) }
        case .log1p: return unary(x[0]) { Foundation.log1p($0) }
        case .expm1: return unary(x[0]) { Foundation.expm1($0) }
        case .pow(let p): return unary(x[0]) { p == 2 ? $0 * $0 : (p == 1 ? $0 : Foundation.pow($0, p)) }
        case .maximum: return try binary(node, x, nodes, name) { a, b in a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
        case .minimum: return try binary(node, x, nodes, name) { a, b in a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }
        case .greater: return try binary(node, x, nodes, name) { $0 > $1 ? 1 : 0 }
        case .greaterEqual: return try binary(node, x, nodes, name) { $0 >= $1 ? 1 : 0 }
        case .less: return try binary(node, x, nodes, name) { $0 < $1 ? 1 : 0 }
        case .lessEqual: return try binary(node, x, nodes, name) { $0 <= $1 ? 1 : 0 }
        case .equal: return try binary(node, x, nodes, name) { $0 == $1 ? 1 : 0 }
        case .notEqual: return try binary(node, x, nodes, name) { $0 != $1 ? 1 : 0 }
        case .select: return try ternary(node, x, nodes, name) { m, a, b in m != 0 ? a : b }
        case .clamp:
            return try ternary(node, x, nodes, name) { v, lo, hi in
                if v.isNaN || lo.isNaN || hi.isNaN { return .nan }
                return Swift.min(Swift.max(v, lo), hi)
            }

        case .sum(let axes), .mean(let axes), .max(let axes):
            let (outShape, map) = DenseValue.reductionMap(x[0].shape, axes: axes)
            let isMax: Bool = if case .max = node.op { true } else { false }
            var out = [Double](repeating: isMax ? -.infinity : 0, count: outShape.reduce(1, *))
            for (i, v) in x[0].data.enumerated() {
                out[map[i]] = isMax ? (v > out[map[i]] || v.isNaN ? v : out[map[i]]) : out[map[i]] + v
            }
            if case .mean = node.op {
                let n = Double(axes.reduce(1) { $0 * x[0].shape[$1] })
                for k in out.indices { out[k] /= n }
            }
            return DenseValue(shape: outShape, data: out)

        case .maxGrad(let axes):
            let (outShape, map) = DenseValue.reductionMap(x[0].shape, axes: axes)
            guard x[1].shape == outShape, x[2].shape == outShape else {
                throw RuntimeError(message: "\(name): \(describe(1)) and \(describe(2)) should have the reduced shape "
                    + "\(Shape.describe(outShape)) of \(describe(0))",
                                   kind: .shapeMismatch(name))
            }
            var ties = [Double](repeating: 0, count: outShape.reduce(1, *))
            for (i, v) in x[0].data.enumerated() where v == x[1].data[map[i]] { ties[map[i]] += 1 }
            var out = [Double](repeating: 0, count: x[0].count)
            for (i, v) in x[0].data.enumerated() where v == x[1].data[map[i]] {
                out[i] = x[2].data[map[i]] / ties[map[i]]
            }
            return DenseValue(shape: x[0].shape, data: out)

        case .meanGrad(let axes):
            let like = x[1].shape
            let (outShape, map) = DenseValue.reductionMap(like, axes: axes)
            guard x[0].shape == outShape else {
                throw RuntimeError(message: "\(name): \(describe(0)) should have the reduced shape \(Shape.describe(outShape)) of "
                    + "\(describe(1))",
                                   kind: .shapeMismatch(name))
            }
            let n = Double(axes.reduce(1) { $0 * like[$1] })
            return DenseValue(shape: like, data: map.map { x[0].data[$0] / n })

        case .broadcastLike:
            let like = x[1].shape
            guard x[0].shape.count <= like.count, DenseValue.broadcast(x[0].shape, like) == like else {
                throw RuntimeError(message: "\(name): \(describe(0)) does not broadcast to \(describe(1))",
                                   kind: .shapeMismatch(name))
            }
            return DenseValue(shape: like, data: DenseValue.broadcastMap(from: x[0].shape, to: like).map { x[0].data[$0] })

        case .sumToShapeOf:
            let like = x[1].shape
            guard like.count <= x[0].shape.count, DenseValue.broadcast(like, x[0].shape) == x[0].shape else {
                throw RuntimeError(message: "\(name): \(describe(1)) does not broadcast to \(describe(0))",
                                   kind: .shapeMismatch(name))
            }
            var out = [Double](repeating: 0, count: like.reduce(1, *))
            for (i, target) in DenseValue.broadcastMap(from: like, to: x[0].shape).enumerated() { out[target] += x[0].data[i] }
            return DenseValue(shape: like, data: out)

        case .softmax, .logSoftmax:
            let isLog = node.op == .logSoftmax
            return rows(x[0]) { row in
                let m = row.max() ?? 0
                let shifted = row.map { $0 - m }
                let total = shifted.reduce(0) { $0 + Foundation.exp($1) }
                return isLog ? shifted.map { $0 - Foundation.log(total) } : shifted.map { Foundation.exp($0) / total }
            }

        case .softmaxGrad, .logSoftmaxGrad:
            guard x[0].shape == x[1].shape else {
                throw RuntimeError(message: "\(name): \(describe(0)) and \(describe(1)) must have the same shape",
                                   kind: .shapeMismatch(name))
            }
            let width = x[0].shape.last ?? 1
            var out = [Double](repeating: 0, count: x[0].count)
            for start in stride(from: 0, to: x[0].count, by: Swift.max(width, 1)) {
                let r = start..<(start + width)
                if node.op == .softmaxGrad {
                    let s = r.reduce(0) { $0 + x[1].data[$1] * x[0].data[$1] }
                    for k in r { out[k] = x[0].data[k] * (x[1].data[k] - s) }
                } else {
                    let s = r.reduce(0) { $0 + x[1].data[$1] }
                    for k in r { out[k] = x[1].data[k] - Foundation.exp(x[0].data[k]) * s }
                }
            }
            return DenseValue(shape: x[0].shape, data: out)

        case .gatherLabels:
            let (n, c) = (x[0].shape[0], x[0].shape[1])
            let labels = try checkedLabels(x[1], node.inputs[1], rows: n, classes: c, name, against: describe(0), nodes)
            return DenseValue(shape: [n], data: (0..<n).map { x[0].data[$0 * c + labels[$0]] })

        case .scatterLabels:
            let (n, c) = (x[2].shape[0], x[2].shape[1])
            guard x[0].shape == [n] else {
                throw RuntimeError(message: "\(name): \(describe(0)) should have shape [\(n)] like the rows of \(describe(2))",
                                   kind: .shapeMismatch(name))
            }
            let labels = try checkedLabels(x[1], node.inputs[1], rows: n, classes: c, name, against: describe(2), nodes)
            var out = [Double](repeating: 0, count: n * c)
            for i in 0..<n { out[i * c + labels[i]] = x[0].data[i] }
            return DenseValue(shape: [n, c], data: out)

        case .crossEntropy, .crossEntropyGrad:
            let (n, c) = (x[0].shape[0], x[0].shape[1])
            let labels = try checkedLabels(x[1], node.inputs[1], rows: n, classes: c, name, against: describe(0), nodes)
            var loss = 0.0
            var grad = [Double](repeating: 0, count: n * c)
            let scale = node.op == .crossEntropyGrad ? x[2].data[0] / Double(n) : 0
            for i in 0..<n {
                let row = x[0].data[(i * c)..<(i * c + c)]
                let m = row.max() ?? 0
                let total = row.reduce(0) { $0 + Foundation.exp($1 - m) }
                loss -= row[i * c + labels[i]] - m - Foundation.log(total)
                if node.op == .crossEntropyGrad {
                    for j in 0..<c {
                        let p = Foundation.exp(row[i * c + j] - m) / total
                        grad[i * c + j] = (p - (j == labels[i] ? 1 : 0)) * scale
                    }
                }
            }
            if node.op == .crossEntropy { return DenseValue(shape: [], data: [loss / Double(n)]) }
            return DenseValue(shape: [n, c], data: grad)

        case .argmax(let axis):
            let shape = x[0].shape
            let (outShape, map) = DenseValue.reductionMap(shape, axes: [axis])
            var best = [Double](repeating: -.infinity, count: outShape.reduce(1, *))
            var index = [Double](repeating: 0, count: best.count)
            var seen = [Bool](repeating: false, count: best.count)
            let stride = DenseValue.strides(shape)[axis]
            for (i, v) in x[0].data.enumerated() where !seen[map[i]] || v > best[map[i]] {
                best[map[i]] = v
                index[map[i]] = Double((i / stride) % shape[axis])
                seen[map[i]] = true
            }
            return DenseValue(shape: outShape, data: index)

        case .conv2d(let a):
            let g = try convGeometry(a, input: x[0].shape, kernel: x[1].shape, name)
            var out = [Double](repeating: 0, count: g.n * g.oh * g.ow * g.o)
            g.forEachTap { n, oh, ow, kh, kw, ih, iw in
                for c in 0..<g.c {
                    let v = x[0].data[((n * g.h + ih) * g.w + iw) * g.c + c]
                    for o in 0..<g.o {
                        out[((n * g.oh + oh) * g.ow + ow) * g.o + o] += v * x[1].data[((kh * g.kw + kw) * g.c + c) * g.o + o]
                    }
                }
            }
            return DenseValue(shape: [g.n, g.oh, g.ow, g.o], data: out)

        case .conv2dBackwardInput(let a):
            let (dy, k, like) = (x[0], x[1], x[2].shape)
            let g = try convGeometry(a, input: like, kernel: k.shape, name)
            try requireShape(dy.shape, [g.n, g.oh, g.ow, g.o], describe(0), name)
            var out = [Double](repeating: 0, count: like.reduce(1, *))
            g.forEachTap { n, oh, ow, kh, kw, ih, iw in
                for c in 0..<g.c {
                    var s = 0.0
                    for o in 0..<g.o {
                        s += dy.data[((n * g.oh + oh) * g.ow + ow) * g.o + o] * k.data[((kh * g.kw + kw) * g.c + c) * g.o + o]
                    }
                    out[((n * g.h + ih) * g.w + iw) * g.c + c] += s
                }
            }
            return DenseValue(shape: like, data: out)

        case .conv2dBackwardKernel(let a):
            let (input, dy) = (x[0], x[1])
            guard input.shape.count == 4, dy.shape.count == 4 else {
                throw RuntimeError(message: "\(name): \(describe(0)) and \(describe(1)) should have rank 4", kind: .shapeMismatch(name))
            }
            let kshape = [a.kernelHeight, a.kernelWidth, input.shape[3], dy.shape[3]]
            let g = try convGeometry(a, input: input.shape, kernel: kshape, name)
            try requireShape(dy.shape, [g.n, g.oh, g.ow, g.o], describe(1), name)
            var out = [Double](repeating: 0, count: kshape.reduce(1, *))
            g.forEachTap { n, oh, ow, kh, kw, ih, iw in
                for c in 0..<g.c {
                    let v = input.data[((n * g.h + ih) * g.w + iw) * g.c + c]
                    for o in 0..<g.o {
                        out[((kh * g.kw + kw) * g.c + c) * g.o + o] += v * dy.data[((n * g.oh + oh) * g.ow + ow) * g.o + o]
                    }
                }
            }
            return DenseValue(shape: kshape, data: out)

        case .maxPool2d(let a), .avgPool2d(let a):
            let g = try poolGeometry(a, input: x[0].shape, name)
            let isMax = node.op == .maxPool2d(a)
            var out = [Double](repeating: 0, count: g.n * g.oh * g.ow * g.c)
            for n in 0..<g.n { for oh in 0..<g.oh { for ow in 0..<g.ow { for c in 0..<g.c {
                var best = -Double.infinity, total = 0.0, inside = 0
                for ih in g.rows(oh) { for iw in g.cols(ow) {
                    let v = x[0].data[((n * g.h + ih) * g.w + iw) * g.c + c]
                    if inside == 0 || v > best || (v.isNaN && !best.isNaN) { best = v }
                    total += v
                    inside += 1
                } }
                out[((n * g.oh + oh) * g.ow + ow) * g.c + c] = isMax ? best : total / Double(a.countIncludesPadding ? g.kh * g.kw : inside)
            } } } }
            return DenseValue(shape: [g.n, g.oh, g.ow, g.c], data: out)

        case .maxPool2dGrad(let a), .avgPool2dGrad(let a):
            let isMax = node.op == .maxPool2dGrad(a)
            let (input, dy) = isMax ? (x[0], x[1]) : (x[1], x[0])
            let g = try poolGeometry(a, input: input.shape, name)
            try requireShape(dy.shape, [g.n, g.oh, g.ow, g.c], describe(isMax ? 1 : 0), name)
            var out = [Double](repeating: 0, count: input.count)
            for n in 0..<g.n { for oh in 0..<g.oh { for ow in 0..<g.ow { for c in 0..<g.c {
                let d = dy.data[((n * g.oh + oh) * g.ow + ow) * g.c + c]
                var best = -Double.infinity, at = -1, inside = 0
                for ih in g.rows(oh) { for iw in g.cols(ow) {
                    let k = ((n * g.h + ih) * g.w + iw) * g.c + c
                    if at < 0 || input.data[k] > best || (input.data[k].isNaN && !best.isNaN) { best = input.data[k]; at = k }
                    inside += 1
                } }
                if isMax {
                    out[at] += d
                } else {
                    let share = d / Double(a.countIncludesPadding ? g.kh * g.kw : inside)
                    for ih in g.rows(oh) { for iw in g.cols(ow) { out[((n * g.h + ih) * g.w + iw) * g.c + c] += share } }
                }
            } } } }
            return DenseValue(shape: input.shape, data: out)
        }
    }

    private func unary(_ a: DenseValue, _ f: (Double) -> Double) -> DenseValue {
        DenseValue(shape: a.shape, data: a.data.map(f))
    }

    /// A numpy-broadcasting element-wise op; an input dimension that is unknown in
    /// the graph must not broadcast at run time.
    private func binary(_ node: Node, _ x: [DenseValue], _ nodes: [Node], _ name: String,
                        _ f: (Double, Double) -> Double) throws -> DenseValue {
        let (a, b) = (x[0], x[1])
        guard let shape = DenseValue.broadcast(a.shape, b.shape) else {
            throw RuntimeError(message: "\(name): \(label(node.inputs[0], nodes)) \(Shape.describe(a.shape)) and "
                + "\(label(node.inputs[1], nodes)) \(Shape.describe(b.shape)) do not broadcast",
                               kind: .shapeMismatch(name))
        }
        for (k, input) in node.inputs.enumerated() {
            let dims = nodes[input.rawValue].shape.dims
            let pad = shape.count - dims.count
            for (d, dim) in dims.enumerated() where dim == nil && x[k].shape[d] != shape[pad + d] {
                throw RuntimeError(message: "\(name): the unknown dimension \(d) of \(label(input, nodes)) is \(x[k].shape[d]) but the "
                    + "result's is \(shape[pad + d]); an unknown dimension does not broadcast",
                                   kind: .shapeMismatch(name))
            }
        }
        if a.shape == shape && b.shape == shape {
            return DenseValue(shape: shape, data: zip(a.data, b.data).map(f))
        }
        let ma = DenseValue.broadcastMap(from: a.shape, to: shape)
        let mb = DenseValue.broadcastMap(from: b.shape, to: shape)
        return DenseValue(shape: shape, data: (0..<ma.count).map { f(a.data[ma[$0]], b.data[mb[$0]]) })
    }

    /// A numpy-broadcasting op of three operands (`select`, `clamp`).
    private func ternary(_ node: Node, _ x: [DenseValue], _ nodes: [Node], _ name: String,
                         _ f: (Double, Double, Double) -> Double) throws -> DenseValue {
        guard let ab = DenseValue.broadcast(x[0].shape, x[1].shape), let shape = DenseValue.broadcast(ab, x[2].shape) else {
            let operands = (0..<3).map { "\(label(node.inputs[$0], nodes)) \(Shape.describe(x[$0].shape))" }
            throw RuntimeError(message: "\(name): \(operands.joined(separator: ", ")) do not broadcast", kind: .shapeMismatch(name))
        }
        let maps = x.map { DenseValue.broadcastMap(from: $0.shape, to: shape) }
        let n = shape.reduce(1, *)
        return DenseValue(shape: shape, data: (0..<n).map { f(x[0].data[maps[0][$0]], x[1].data[maps[1][$0]], x[2].data[maps[2][$0]]) })
    }

    /// Applies `f` to each row (last axis) of a rank-1 or rank-2 value.
    private func rows(_ a: DenseValue, _ f: ([Double]) -> [Double]) -> DenseValue {
        let width = a.shape.last ?? 1
        var out: [Double] = []
        out.reserveCapacity(a.count)
        for start in stride(from: 0, to: a.count, by: Swift.max(width, 1)) {
            out += f(Array(a.data[start..<(start + width)]))
        }
        return DenseValue(shape: a.shape, data: out)
    }

    /// The labels as indices, checked: `rows` of them, each in `0..<classes`.
    private func checkedLabels(_ labels: DenseValue, _ id: NodeID, rows: Int, classes: Int, _ name: String,
                               against other: String, _ nodes: [Node]) throws -> [Int] {
        guard labels.shape == [rows] else {
            throw RuntimeError(message: "\(name): labels \(label(id, nodes)) \(Shape.describe(labels.shape)) should have \(rows) "
                + "entries, one per row of \(other)",
                               kind: .shapeMismatch(name))
        }
        return try labels.data.enumerated().map { i, v in
            guard v >= 0, v < Double(classes) else {
                throw RuntimeError(message: "\(name): label \(Int(v)) at row \(i) of \(label(id, nodes)) is out of range "
                    + "0..<\(classes) for \(other)",
                                   kind: .labelOutOfRange(tensor: label(id, nodes), index: i, label: Int(v), classes: classes))
            }
            return Int(v)
        }
    }
}
