/// Graphviz DOT export (micrograd keeps `_op` "for graphviz").
extension Graph {
    /// The DOT text of the nodes that `outputs` depend on (all nodes when `nil`):
    /// one box per node labelled with its name, op and `dtype [shape]`; parameters
    /// are filled, placeholders are ellipses, and gradient nodes are dashed and blue.
    ///
    /// ```swift
    /// try graph.dot([loss] + grads).write(toFile: "grad.dot", atomically: true, encoding: .utf8)
    /// // dot -Tsvg grad.dot > grad.svg
    /// ```
    /// - Complexity: O(n) in the nodes below the highest output.
    public func dot(_ outputs: [NodeID]? = nil) -> String {
        let nodes = self.nodes
        var keep = [Bool](repeating: outputs == nil, count: nodes.count)
        if let outputs, let top = outputs.map(\.rawValue).max() {
            for o in outputs { keep[o.rawValue] = true }
            for i in stride(from: top, through: 0, by: -1) where keep[i] {
                for input in nodes[i].inputs { keep[input.rawValue] = true }
            }
        }
        let wanted = Set(outputs ?? [])
        var lines = ["digraph dataflow {", "  rankdir=BT;", "  node [shape=box, fontname=\"Helvetica\", fontsize=10];"]
        for (i, node) in nodes.enumerated() where keep[i] {
            var text = node.op.label
            if let name = node.name { text = "\(name)\\n" + text }
            text += "\\n\(node.dtype) \(node.shape)"
            var attributes = ["label=\"\(Self.escape(text))\""]
            if case .placeholder = node.op { attributes.append("shape=ellipse") }
            if case .parameter = node.op { attributes += ["style=filled", "fillcolor=\"#fff2cc\""] }
            if node.isGradient { attributes += ["style=dashed", "color=blue", "fontcolor=blue"] }
            if wanted.contains(NodeID(i)) { attributes.append("penwidth=2") }
            lines.append("  n\(i) [\(attributes.joined(separator: ", "))];")
        }
        for (i, node) in nodes.enumerated() where keep[i] {
            for (k, input) in node.inputs.enumerated() {
                let style = node.isGradient ? " [style=dashed, color=blue, label=\"\(k)\"]" : (node.inputs.count > 1 ? " "
                    + "[label=\"\(k)\"]" : "")
                lines.append("  n\(input.rawValue) -> n\(i)\(style);")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\"", with: "\\\"")
    }
}

/// The DOT text of the nodes `outputs` (tensors of one graph) depend on.
public func dot(_ outputs: [Tensor]) -> String {
    guard let graph = outputs.first?.graph else { return "digraph dataflow {\n}\n" }
    return graph.dot(outputs.map(\.id))
}
