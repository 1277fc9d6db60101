/// The gradients of `loss` with respect to each tensor of `wrt`, as new nodes of the
/// same graph, built in one reverse sweep.
///
/// The sweep prunes to the nodes on a path between the `wrt` set and the loss,
/// walks them in reverse topological (decreasing id) order, evaluates each node's
/// vector-Jacobian rule once (`Op+VJP.swift`) and sums the adjoints of a node used
/// several times in a fixed order (consumers by decreasing id, then by argument
/// position). It is iterative: a 100 000-deep chain works.
///
/// Because nodes are hash-consed and the sums are built in that canonical order,
/// calling `grad` once per parameter ends in exactly the nodes of one joint call.
///
/// ```swift
/// let (gw1, gb1) = try { let g = try grad(of: loss, wrt: [w1, b1]); return (g[0], g[1]) }()
/// ```
/// - Parameters:
///   - loss: a floating-point tensor; rank 0 unless `options.outputGradient` is given.
///   - wrt: the tensors to differentiate with respect to (parameters, placeholders
///     or any floating-point node of the loss's graph).
///   - options: stop-gradient set, disconnected policy, output cotangent.
/// - Returns: one gradient per `wrt` tensor, each of that tensor's shape.
/// - Throws: `GraphError` naming the tensor: a disconnected `wrt` (unless
///   `options.disconnected == .zeros`), a non-scalar loss without an output
///   gradient, an integer tensor, a tensor of another graph.
/// - Complexity: O(n) nodes visited between the earliest `wrt` and the loss.
public func grad(of loss: Tensor, wrt: [Tensor], options: GradOptions = .init()) throws -> [Tensor] {
    let graph = loss.graph
    for t in wrt + options.considerConstant + (options.outputGradient.map { [$0] } ?? []) where t.graph !== graph {
        throw GraphError("grad: \(t.label) belongs to another graph than the loss \(loss.label)", kind: .foreignTensor)
    }
    let ids = try graph.withStorage { s in
        try s.gradients(of: loss.id, wrt: wrt.map(\.id), seed: options.outputGradient?.id,
                        constants: Set(options.considerConstant.map(\.id)), disconnected: options.disconnected)
    }
    return ids.map { Tensor(graph: graph, id: $0) }
}

/// The gradient of `loss` with respect to one tensor; the same machinery as the
/// joint call, so it shares every node with it.
/// - Throws: as `grad(of:wrt:options:)`.
public func grad(of loss: Tensor, wrt: Tensor, options: GradOptions = .init()) throws -> Tensor {
    try grad(of: loss, wrt: [wrt], options: options)[0]
}
