/// Compiles `outputs` (and parameter `updates`) into a `Function` that can be
/// called many times.
///
/// ```swift
/// let step = try compile(inputs: [x, y], outputs: [loss] + grads,
///                        updates: zip(params, grads).map { ParameterUpdate($0, try $0 - lr * $1) })
/// let values = try step(["x": batch, "y": labels])
/// ```
///
/// Passes (each followed by verification in debug builds and when
/// `options.verifyPasses`): stabilisation (`log(softmax)` → log-softmax, fused
/// cross-entropy), pruning of everything no output needs, merging of equal
/// subgraphs, constant folding, transposes folded into matmul flags, in-place
/// parameter updates. At the first call with a new set of input shapes the program
/// is specialised: concrete shapes, bias + activation and activation gradients fused
/// into matmul epilogues, element-wise chains fused into one loop, a memory plan with
/// buffer reuse, and lowering to a task graph. The result is cached per input shape.
///
/// - Parameters:
///   - inputs: the placeholders the caller feeds, by name.
///   - outputs: the tensors each call returns, in order.
///   - updates: parameter updates applied in place after the outputs are computed.
///   - options: workers, tiling, guard mode.
/// - Returns: the compiled function.
/// - Throws: `CompileError` when an output needs a placeholder that is not an input,
///   tensors come from different graphs, an update targets a non-parameter, or an op
///   has no compiled kernel.
public func compile(inputs: [Tensor], outputs: [Tensor], updates: [ParameterUpdate] = [],
                    options: CompileOptions = CompileOptions()) throws -> Function {
    guard let graph = (outputs.first ?? updates.first?.parameter ?? inputs.first)?.graph else {
        throw CompileError(message: "compile: nothing to compute (no outputs and no updates)", kind: .empty)
    }
    for t in inputs + outputs + updates.flatMap({ [$0.parameter, $0.value] }) where t.graph !== graph {
        throw CompileError(message: "compile: tensor \(t.name ?? "#\(t.id.rawValue)") belongs to another graph", kind: .foreignTensor)
    }
    return try Function(graph: graph, inputs: inputs, outputs: outputs, updates: updates, options: options)
}
