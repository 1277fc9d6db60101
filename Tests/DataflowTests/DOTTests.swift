import Testing
import Dataflow

@Suite struct DOTTests {
    @Test func dotShowsOpsShapesAndMarksGradientNodes() throws {
        let g = Graph()
        let net = try SeedNetwork(in: g, sizes: [4, 3, 2], dtype: .float32, seed: 1)
        let grads = try grad(of: net.loss, wrt: net.parameters)
        let text = dot([net.loss] + grads)
        #expect(text.hasPrefix("digraph dataflow {"))
        #expect(text.hasSuffix("}\n"))
        #expect(text.contains("crossEntropy"))
        #expect(text.contains("crossEntropyGrad"))
        #expect(text.contains("sigmoidGrad"))
        #expect(text.contains("matmul(Aᵀ·B)"))
        #expect(text.contains("float32 [?, 3]"))
        #expect(text.contains("w1\\nparameter"))
        #expect(text.contains("style=dashed"))
        // Every gradient node line is dashed; forward ones are not.
        for (i, node) in g.nodes.enumerated() {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("  n\(i) [") }) else { continue }
            #expect(line.contains("style=dashed") == node.isGradient, "n\(i) \(node.op.name)")
        }
        // Nodes not needed by the outputs (probabilities, argmax) are left out.
        #expect(!text.contains("argmax"))
        #expect(g.dot().contains("argmax"))
    }
}
