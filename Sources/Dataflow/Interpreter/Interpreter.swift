/// The reference interpreter: evaluates any graph for given feeds with plain,
/// single-threaded loops, independent of the kernels. It is the oracle the compiled
/// parallel program is checked against.
///
/// Every op is computed in `Double`; a `float32` node's result is then rounded to
/// `Float`, so a float32 graph sees float32 rounding at each node boundary (as a
/// compiled program does, up to the order of summation inside an op).
///
/// ```swift
/// let out = try Interpreter(graph).evaluate([loss, p], feeds: ["x": xs, "y": ys])
/// out[0].scalarValue   // the loss
/// ```
public struct Interpreter: Sendable {
    /// The graph whose nodes are evaluated.
    public let graph: Graph

    public init(_ graph: Graph) {
        self.graph = graph
    }

    /// The values of `outputs` for the given feeds and the parameters' current values.
    ///
    /// - Parameters:
    ///   - outputs: tensors of this graph.
    ///   - feeds: one value per placeholder the outputs depend on, by name; unknown
    ///     dimensions are resolved from them.
    /// - Returns: one value per output, of the output's dtype.
    /// - Throws: `GraphError` naming the tensor for a missing feed, a feed name that
    ///   is not a placeholder, a feed of the wrong dtype or shape, run-time shapes
    ///   that disagree, or a label out of range.
    /// - Complexity: each needed node is computed once.
    public func evaluate(_ outputs: [Tensor], feeds: [String: TensorValue] = [:]) throws -> [TensorValue] {
        for t in outputs where t.graph !== graph {
            throw RuntimeError(message: "evaluate: \(t.label) belongs to another graph",
                               kind: .other)
        }
        let nodes = graph.nodes
        let placeholderNames = Set(nodes.compactMap { n -> String? in
            if case .placeholder(let name) = n.op { return name }
            return nil
        })
        for name in feeds.keys.sorted() where !placeholderNames.contains(name) {
            let known = placeholderNames.sorted().joined(separator: ", ")
            throw RuntimeError(message: "evaluate: feed \"\(name)\" is not a placeholder of the graph (placeholders: "
                + "\(known.isEmpty ? "none" : known))",
                               kind: .unknownFeed(name))
        }
        guard let top = outputs.map(\.id.rawValue).max() else { return [] }

        // Mark the nodes the outputs need (inputs have smaller ids).
        var needed = [Bool](repeating: false, count: top + 1)
        for t in outputs { needed[t.id.rawValue] = true }
        for i in stride(from: top, through: 0, by: -1) where needed[i] {
            for input in nodes[i].inputs { needed[input.rawValue] = true }
        }

        var values = [DenseValue?](repeating: nil, count: top + 1)
        for i in 0...top where needed[i] {
            let node = nodes[i]
            let inputs = node.inputs.map { values[$0.rawValue]! }
            var value = try compute(NodeID(i), node, inputs, nodes: nodes, feeds: feeds)
            guard node.shape.matches(value.shape) else {
                let described = node.inputs.map { "\(label($0, nodes)) \(Shape.describe(values[$0.rawValue]!.shape))" }
                throw RuntimeError(message: "evaluate: \(label(NodeID(i), nodes)) computed shape \(Shape.describe(value.shape)) does "
                    + "not fit its static shape \(node.shape); inputs: \(described.joined(separator: ", "))",
                                   kind: .shapeMismatch(label(NodeID(i), nodes)))
            }
            if node.dtype == .float32 {
                for k in value.data.indices { value.data[k] = Double(Float(value.data[k])) }
            }
            values[i] = value
        }
        return try outputs.map { t in
            let v = values[t.id.rawValue]!
            return try TensorValue(shape: v.shape, converting: v.data, to: nodes[t.id.rawValue].dtype)
        }
    }

    func label(_ id: NodeID, _ nodes: [Node]) -> String {
        nodes[id.rawValue].name ?? "\(nodes[id.rawValue].op.name)#\(id.rawValue)"
    }

    /// The value of a leaf node.
    func leaf(_ id: NodeID, _ node: Node, feeds: [String: TensorValue]) throws -> DenseValue {
        switch node.op {
        case .placeholder(let name):
            guard let feed = feeds[name] else {
                throw RuntimeError(message: "evaluate: missing feed for placeholder \(name) (\(node.dtype) \(node.shape))",
                                   kind: .missingFeed(name))
            }
            guard feed.dtype == node.dtype, node.shape.matches(feed.shape) else {
                throw RuntimeError(message: "evaluate: feed \(name): expected \(node.dtype) \(node.shape), got \(feed.dtype) "
                    + "\(Shape.describe(feed.shape))",
                                   kind: .feedMismatch(name))
            }
            return DenseValue(shape: feed.shape, data: feed.asDoubles())
        case .parameter(let pid):
            return graph.parameterForInterpreter(pid)
        case .constant(let cid):
            let v = graph.constantForCompiler(cid)
            return DenseValue(shape: v.shape, data: v.asDoubles())
        case .scalar(let s):
            return DenseValue(shape: [], data: [s])
        case .zerosLike, .matmul, .transpose, .reshape, .add, .sub, .mul, .div, .neg, .exp, .log, .sigmoid, .tanh,
             .relu, .sigmoidGrad, .tanhGrad, .reluGrad, .sum, .mean, .max, .maxGrad, .meanGrad, .broadcastLike,
             .sumToShapeOf, .softmax, .logSoftmax, .softmaxGrad, .logSoftmaxGrad, .gatherLabels, .scatterLabels,
             .crossEntropy, .crossEntropyGrad, .argmax, .stopGradient, .sqrt, .rsqrt, .square, .abs, .sign, .log1p,
             .expm1, .pow, .maximum, .minimum, .greater, .greaterEqual, .less, .lessEqual, .equal, .notEqual, .select,
             .clamp, .conv2d, .conv2dBackwardInput, .conv2dBackwardKernel, .maxPool2d, .maxPool2dGrad, .avgPool2d,
             .avgPool2dGrad, .cast, .concat, .slice, .sliceGrad, .permute, .oneHot, .gatherRows, .scatterAddRows,
             .dropoutMask:
            preconditionFailure("leaf: \(node.op.name) is not a leaf")
        }
    }
}

/// Evaluates `outputs` (tensors of one graph) with the reference interpreter.
/// - Throws: see `Interpreter.evaluate(_:feeds:)`.
public func evaluate(_ outputs: [Tensor], feeds: [String: TensorValue] = [:]) throws -> [TensorValue] {
    guard let first = outputs.first else { return [] }
    return try Interpreter(first.graph).evaluate(outputs, feeds: feeds)
}
