/// Shape and dtype inference for every op, as nodes are built.
///
/// Errors name the tensors with their shapes and say what was expected, e.g.
/// `matmul: x [?, 784] and w1 [100, 10]: inner dimensions 784 and 100 differ`.
extension GraphStorage {
    /// Numpy broadcasting of two static shapes, or `nil` if they are incompatible.
    /// An unknown dimension meeting a known `k` gives `k` (it must be `k` at run time).
    static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let rank = Swift.max(a.rank, b.rank)
        var out = [Int?](repeating: nil, count: rank)
        for i in 0..<rank {
            let x: Int?? = i < a.rank ? .some(a.dims[a.rank - 1 - i]) : .none
            let y: Int?? = i < b.rank ? .some(b.dims[b.rank - 1 - i]) : .none
            let d: Int?
            switch (x, y) {
            case (.none, .some(let v)), (.some(let v), .none): d = v
            case (.some(let u), .some(let v)):
                if u == v { d = u }
                else if u == 1 { d = v }
                else if v == 1 { d = u }
                else if u == nil { d = v }
                else if v == nil { d = u }
                else { return nil }
            case (.none, .none): d = nil
            }
            out[rank - 1 - i] = d
        }
        return Shape(out)
    }

    /// The shape `shape` reduced over `axes` (removed).
    static func reduced(_ shape: Shape, axes: [Int]) -> Shape {
        let drop = Set(axes)
        return Shape(shape.dims.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
    }

    /// Whether two static dimensions can be equal at run time.
    static func compatible(_ a: Int?, _ b: Int?) -> Bool {
        a == nil || b == nil || a == b
    }

    /// Whether two static shapes can be equal at run time.
    static func compatible(_ a: Shape, _ b: Shape) -> Bool {
        a.rank == b.rank && zip(a.dims, b.dims).allSatisfy { compatible($0, $1) }
    }

    /// A reshape target with its unknown dimension resolved when the input's element
    /// count is known.
    ///
    /// `-1` means "inferred" (numpy's spelling) and is the same as `nil`; at most one
    /// dimension may be inferred; any other negative dimension is refused.
    func canonicalReshape(_ requested: Shape, of input: NodeID) throws -> Shape {
        let x = nodes[input.rawValue]
        if let bad = requested.dims.first(where: { ($0 ?? 0) < -1 }) {
            throw GraphError("reshape: \(labelWithShape(input)) to \(requested): dimension \(bad!) is negative (-1 or nil infers one "
                + "dimension)",
                             kind: .invalidArgument)
        }
        let target = Shape(requested.dims.map { $0 == -1 ? nil : $0 })
        guard target.unknownCount <= 1 else {
            throw GraphError("reshape: \(labelWithShape(input)) to \(requested): at most one dimension may be inferred (-1 or nil)",
                             kind: .invalidArgument)
        }
        let known = try target.dims.reduce(1) { n, d throws(GraphError) in
            let (p, overflow) = n.multipliedReportingOverflow(by: d ?? 1)
            guard !overflow else {
                throw GraphError("reshape: \(labelWithShape(input)) to \(requested): too many elements", kind: .invalidArgument)
            }
            return p
        }
        if !target.isFullyKnown && known == 0 {
            throw GraphError("reshape: \(labelWithShape(input)) to \(requested): a zero-sized dimension leaves the inferred one "
                + "undetermined",
                             kind: .invalidArgument)
        }
        guard let count = x.shape.elementCount else { return target }
        if target.isFullyKnown {
            guard known == count else {
                throw GraphError("reshape: \(labelWithShape(input)) has \(count) elements; \(target) has \(known)", kind: .shapeMismatch)
            }
            return target
        }
        guard known > 0, count % known == 0 else {
            throw GraphError("reshape: \(labelWithShape(input)) has \(count) elements, not a multiple of the \(known) of \(target)",
                             kind: .shapeMismatch)
        }
        return Shape(target.dims.map { $0 ?? count / known })
    }

    func requireFloat(_ op: Op, _ ids: [NodeID]) throws -> DType {
        let dtype = nodes[ids[0].rawValue].dtype
        for id in ids {
            let t = nodes[id.rawValue].dtype
            guard t.isFloatingPoint else {
                throw GraphError("\(op.name): \(labelWithShape(id)) is \(t); expected float32 or float64", kind: .dtypeMismatch)
            }
            guard t == dtype else {
                throw GraphError("\(op.name): \(labelWithShape(ids[0])) is \(dtype) but \(labelWithShape(id)) is \(t); dtypes must match",
                                 kind: .dtypeMismatch)
            }
        }
        return dtype
    }

    func requireRank(_ op: Op, _ id: NodeID, _ ranks: Set<Int>, role: String, kind: GraphError.Kind = .other) throws {
        let r = nodes[id.rawValue].shape.rank
        guard ranks.contains(r) else {
            let want = ranks.sorted().map(String.init).joined(separator: " or ")
            throw GraphError("\(op.name): \(role) \(labelWithShape(id)) has rank \(r); expected rank \(want)", kind: kind)
        }
    }

    private func requireLabels(_ op: Op, _ labels: NodeID, rows x: NodeID) throws {
        let l = nodes[labels.rawValue]
        guard l.dtype == .int32 else {
            throw GraphError("\(op.name): labels \(labelWithShape(labels)) are \(l.dtype); expected int32")
        }
        try requireRank(op, labels, [1], role: "labels")
        let n = nodes[x.rawValue].shape.dims[0]
        guard Self.compatible(n, l.shape.dims[0]) else {
            throw GraphError("\(op.name): \(labelWithShape(x)) has \(n!) rows but labels \(labelWithShape(labels)) has \(l.shape.dims[0]!)")
        }
    }

    private func checkAxes(_ op: Op, _ axes: [Int], of id: NodeID) throws {
        let rank = nodes[id.rawValue].shape.rank
        guard axes == Array(Set(axes)).sorted(), axes.allSatisfy({ $0 >= 0 && $0 < rank }) else {
            throw GraphError("\(op.name): axes \(axes) of \(labelWithShape(id)): expected sorted, unique axes in 0..<\(rank)",
                             kind: .invalidArgument)
        }
    }

    /// The dtype and static shape of `op` applied to `inputs` (count already checked).
    func infer(_ op: Op, _ inputs: [NodeID]) throws -> (DType, Shape) {
        let shapes = inputs.map { nodes[$0.rawValue].shape }
        switch op {
        case .placeholder, .parameter, .constant, .scalar:
            throw GraphError("\(op.name): leaves are created with graph.placeholder, graph.parameter, graph.constant or graph.scalar",
                             kind: .invalidArgument)
        case .zerosLike, .stopGradient:
            return (nodes[inputs[0].rawValue].dtype, shapes[0])
        case .matmul(let ta, let tb):
            return try matmulShape(ta, tb, inputs, shapes)   // GraphStorage+BatchedMatmul.swift
        case .transpose:
            try requireRank(op, inputs[0], [2], role: "operand")
            return (nodes[inputs[0].rawValue].dtype, Shape(Array(shapes[0].dims.reversed())))
        case .reshape(let target):
            return (nodes[inputs[0].rawValue].dtype, target)
        case .add, .sub, .mul, .div, .sigmoidGrad, .tanhGrad, .reluGrad, .neg, .exp, .log, .sigmoid, .tanh, .relu,
             .sqrt, .rsqrt, .square, .abs, .sign, .log1p, .expm1, .pow, .maximum, .minimum,
             .greater, .greaterEqual, .less, .lessEqual, .equal, .notEqual, .select, .clamp:
            // Element-wise (the table in Op+Elementwise.swift): same float dtype, numpy broadcasting.
            let dtype = try requireFloat(op, inputs)
            var shape = shapes[0]
            for k in inputs.indices.dropFirst() {
                guard let s = Self.broadcast(shape, shapes[k]) else {
                    throw GraphError("\(op.name): \(inputs.map(labelWithShape).joined(separator: " and ")): shapes do not broadcast",
                                     kind: .shapeMismatch)
                }
                shape = s
            }
            return (dtype, shape)
        case .softmaxGrad, .logSoftmaxGrad:
            let dtype = try requireFloat(op, inputs)
            guard let shape = Self.broadcast(shapes[0], shapes[1]) else {
                throw GraphError("\(op.name): \(labelWithShape(inputs[0])) and \(labelWithShape(inputs[1])): shapes do not broadcast",
                                 kind: .shapeMismatch)
            }
            try requireRank(op, inputs[0], [1, 2], role: "operand")
            return (dtype, shape)
        case .sum(let axes), .mean(let axes), .max(let axes):
            let dtype = try requireFloat(op, inputs)
            try checkAxes(op, axes, of: inputs[0])
            return (dtype, Self.reduced(shapes[0], axes: axes))
        case .maxGrad(let axes):
            let dtype = try requireFloat(op, inputs)
            try checkAxes(op, axes, of: inputs[0])
            let r = Self.reduced(shapes[0], axes: axes)
            for k in 1...2 where !Self.compatible(shapes[k], r) {
                throw GraphError("maxGrad: \(labelWithShape(inputs[k])) should have the reduced shape \(r) of "
                    + "\(labelWithShape(inputs[0])) over axes \(axes)")
            }
            return (dtype, shapes[0])
        case .meanGrad(let axes):
            let dtype = try requireFloat(op, [inputs[0]])
            try checkAxes(op, axes, of: inputs[1])
            let r = Self.reduced(shapes[1], axes: axes)
            guard Self.compatible(shapes[0], r) else {
                throw GraphError("meanGrad: \(labelWithShape(inputs[0])) should have the reduced shape \(r) of "
                    + "\(labelWithShape(inputs[1])) over axes \(axes)")
            }
            return (dtype, shapes[1])
        case .broadcastLike:
            let dtype = nodes[inputs[0].rawValue].dtype
            guard shapes[0].rank <= shapes[1].rank, let b = Self.broadcast(shapes[0], shapes[1]), Self.compatible(b, shapes[1]) else {
                throw GraphError("broadcastLike: \(labelWithShape(inputs[0])) does not broadcast to \(labelWithShape(inputs[1]))")
            }
            return (dtype, shapes[1])
        case .sumToShapeOf:
            let dtype = try requireFloat(op, [inputs[0]])
            guard shapes[1].rank <= shapes[0].rank, let b = Self.broadcast(shapes[0], shapes[1]), Self.compatible(b, shapes[0]) else {
                throw GraphError("sumToShapeOf: \(labelWithShape(inputs[1])) does not broadcast to \(labelWithShape(inputs[0]))")
            }
            return (dtype, shapes[1])
        case .softmax, .logSoftmax:
            let dtype = try requireFloat(op, inputs)
            try requireRank(op, inputs[0], [1, 2], role: "operand")
            return (dtype, shapes[0])
        case .gatherLabels:
            let dtype = try requireFloat(op, [inputs[0]])
            try requireRank(op, inputs[0], [2], role: "operand")
            try requireLabels(op, inputs[1], rows: inputs[0])
            return (dtype, Shape([shapes[0].dims[0] ?? shapes[1].dims[0]]))
        case .scatterLabels:
            let dtype = try requireFloat(op, [inputs[0]])
            try requireRank(op, inputs[2], [2], role: "like")
            try requireRank(op, inputs[0], [1], role: "operand")
            try requireLabels(op, inputs[1], rows: inputs[2])
            guard Self.compatible(shapes[0].dims[0], shapes[2].dims[0]) else {
                throw GraphError("scatterLabels: \(labelWithShape(inputs[0])) and \(labelWithShape(inputs[2])) differ in rows")
            }
            return (dtype, shapes[2])
        case .crossEntropy:
            let dtype = try requireFloat(op, [inputs[0]])
            try requireRank(op, inputs[0], [2], role: "logits")
            try requireLabels(op, inputs[1], rows: inputs[0])
            return (dtype, .scalar)
        case .crossEntropyGrad:
            let dtype = try requireFloat(op, [inputs[0], inputs[2]])
            try requireRank(op, inputs[0], [2], role: "logits")
            try requireLabels(op, inputs[1], rows: inputs[0])
            try requireRank(op, inputs[2], [0], role: "loss gradient")
            return (dtype, shapes[0])
        case .argmax(let axis):
            guard axis >= 0, axis < shapes[0].rank else {
                throw GraphError("argmax: axis \(axis) out of range for \(labelWithShape(inputs[0]))", kind: .invalidArgument)
            }
            return (.int32, Self.reduced(shapes[0], axes: [axis]))
        case .conv2d(let a):
            let dtype = try requireFloat(op, inputs)
            try requireRank(op, inputs[0], [4], role: "input", kind: .shapeMismatch)
            try checkConvKernel(op, a, inputs[1], channelsOf: inputs[0])
            let out = try convOutput(op, a, inputs[0])
            return (dtype, Shape([shapes[0].dims[0], out.h, out.w, shapes[1].dims[3]]))
        case .conv2dBackwardInput(let a):
            // (dy, kernel, like x)
            let dtype = try requireFloat(op, [inputs[0], inputs[1]])
            try requireRank(op, inputs[2], [4], role: "like", kind: .shapeMismatch)
            try requireRank(op, inputs[0], [4], role: "output gradient", kind: .shapeMismatch)
            try checkConvKernel(op, a, inputs[1], channelsOf: inputs[2])
            let out = try convOutput(op, a, inputs[2])
            let expected = Shape([shapes[2].dims[0], out.h, out.w, shapes[1].dims[3]])
            try requireShape(op, inputs[0], expected, of: "the convolution of \(labelWithShape(inputs[2])) by \(labelWithShape(inputs[1]))")
            return (dtype, shapes[2])
        case .conv2dBackwardKernel(let a):
            // (x, dy)
            let dtype = try requireFloat(op, inputs)
            try requireRank(op, inputs[0], [4], role: "input", kind: .shapeMismatch)
            try requireRank(op, inputs[1], [4], role: "output gradient", kind: .shapeMismatch)
            try checkConvAttributes(op, a)
            let out = try convOutput(op, a, inputs[0])
            let expected = Shape([shapes[0].dims[0], out.h, out.w, shapes[1].dims[3]])
            try requireShape(op, inputs[1], expected,
                             of: "the convolution of \(labelWithShape(inputs[0])) by a \(a.kernelHeight)×\(a.kernelWidth) kernel")
            return (dtype, Shape([a.kernelHeight, a.kernelWidth, shapes[0].dims[3], shapes[1].dims[3]]))
        case .maxPool2d(let a), .avgPool2d(let a):
            let dtype = try requireFloat(op, inputs)
            try requireRank(op, inputs[0], [4], role: "input", kind: .shapeMismatch)
            let out = try poolOutput(op, a, inputs[0])
            return (dtype, Shape([shapes[0].dims[0], out.h, out.w, shapes[0].dims[3]]))
        case .maxPool2dGrad(let a), .avgPool2dGrad(let a):
            // maxPool2dGrad: (x, dy); avgPool2dGrad: (dy, like x).
            let (x, dy) = op == .maxPool2dGrad(a) ? (inputs[0], inputs[1]) : (inputs[1], inputs[0])
            let dtype = try requireFloat(op, inputs)
            try requireRank(op, x, [4], role: op == .maxPool2dGrad(a) ? "input" : "like", kind: .shapeMismatch)
            let out = try poolOutput(op, a, x)
            let xs = nodes[x.rawValue].shape
            try requireShape(op, dy, Shape([xs.dims[0], out.h, out.w, xs.dims[3]]), of: "the pooling of \(labelWithShape(x))")
            return (dtype, xs)
        case .cast, .concat, .slice, .sliceGrad, .permute, .oneHot, .gatherRows, .scatterAddRows, .dropoutMask:
            return try inferStructural(op, inputs)   // GraphStorage+StructuralShapes.swift
        }
    }

    /// Throws unless `id`'s shape can equal `expected` at run time.
    func requireShape(_ op: Op, _ id: NodeID, _ expected: Shape, of what: String) throws {
        guard Self.compatible(nodes[id.rawValue].shape, expected) else {
            throw GraphError("\(op.name): \(labelWithShape(id)) should have shape \(expected), the shape of \(what)", kind: .shapeMismatch)
        }
    }

    private func checkConvAttributes(_ op: Op, _ a: Conv2DAttributes) throws {
        for (v, what) in [(a.kernelHeight, "kernel height"), (a.kernelWidth, "kernel width"), (a.strideHeight, "stride height"),
                          (a.strideWidth, "stride width"), (a.dilationHeight, "dilation height"), (a.dilationWidth, "dilation width")]
        where v < 1 {
            throw GraphError("\(op.name): \(what) \(v) must be ≥ 1", kind: .invalidArgument)
        }
        for (v, what) in [(a.padTop, "top"), (a.padBottom, "bottom"), (a.padLeft, "left"), (a.padRight, "right")] where v < 0 {
            throw GraphError("\(op.name): \(what) padding \(v) must be ≥ 0", kind: .invalidArgument)
        }
    }

    /// Checks a kernel [KH, KW, C, O] against the attributes and the channels of `x`.
    private func checkConvKernel(_ op: Op, _ a: Conv2DAttributes, _ kernel: NodeID, channelsOf x: NodeID) throws {
        try checkConvAttributes(op, a)
        try requireRank(op, kernel, [4], role: "kernel", kind: .shapeMismatch)
        let k = nodes[kernel.rawValue].shape.dims
        guard Self.compatible(k[0], a.kernelHeight), Self.compatible(k[1], a.kernelWidth) else {
            throw GraphError("\(op.name): kernel \(labelWithShape(kernel)) is not \(a.kernelHeight)×\(a.kernelWidth) as the attributes say",
                             kind: .shapeMismatch)
        }
        let c = nodes[x.rawValue].shape.dims[3]
        guard Self.compatible(k[2], c) else {
            throw GraphError("\(op.name): \(labelWithShape(x)) has \(c!) channels but kernel \(labelWithShape(kernel)) expects \(k[2]!)",
                             kind: .shapeMismatch)
        }
    }

    /// The output height and width of a convolution of `x` (nil where unknown).
    private func convOutput(_ op: Op, _ a: Conv2DAttributes, _ x: NodeID) throws -> (h: Int?, w: Int?) {
        let dims = nodes[x.rawValue].shape.dims
        func size(_ n: Int?, _ before: Int, _ after: Int, _ k: Int, _ s: Int, _ d: Int, _ axis: String) throws -> Int? {
            guard let n else { return nil }
            let extent = d * (k - 1) + 1, padded = n + before + after
            guard extent <= padded else {
                throw GraphError("\(op.name): the dilated kernel's \(axis) \(extent) is larger than the padded \(axis) \(padded) of "
                    + "\(labelWithShape(x))",
                                 kind: .shapeMismatch)
            }
            return (padded - extent) / s + 1
        }
        return (try size(dims[1], a.padTop, a.padBottom, a.kernelHeight, a.strideHeight, a.dilationHeight, "height"),
                try size(dims[2], a.padLeft, a.padRight, a.kernelWidth, a.strideWidth, a.dilationWidth, "width"))
    }

    /// The output height and width of a pooling of `x` (nil where unknown).
    private func poolOutput(_ op: Op, _ a: Pool2DAttributes, _ x: NodeID) throws -> (h: Int?, w: Int?) {
        for (v, what) in [(a.windowHeight, "window height"), (a.windowWidth, "window width"),
                          (a.strideHeight, "stride height"), (a.strideWidth, "stride width")] where v < 1 {
            throw GraphError("\(op.name): \(what) \(v) must be ≥ 1", kind: .invalidArgument)
        }
        for (v, what, k) in [(a.padTop, "top", a.windowHeight), (a.padBottom, "bottom", a.windowHeight),
                             (a.padLeft, "left", a.windowWidth), (a.padRight, "right", a.windowWidth)] where v < 0 || v >= k {
            throw GraphError("\(op.name): \(what) padding \(v) must be in 0..<\(k) (the window), so that no window is all padding",
                             kind: .invalidArgument)
        }
        let dims = nodes[x.rawValue].shape.dims
        func size(_ n: Int?, _ before: Int, _ after: Int, _ k: Int, _ s: Int, _ axis: String) throws -> Int? {
            guard let n else { return nil }
            let padded = n + before + after
            guard k <= padded else {
                throw GraphError("\(op.name): the window's \(axis) \(k) is larger than the padded \(axis) \(padded) of "
                    + "\(labelWithShape(x))",
                                 kind: .shapeMismatch)
            }
            return (padded - k) / s + 1
        }
        return (try size(dims[1], a.padTop, a.padBottom, a.windowHeight, a.strideHeight, "height"),
                try size(dims[2], a.padLeft, a.padRight, a.windowWidth, a.strideWidth, "width"))
    }
}
