import Testing
import Dataflow

@Suite struct GraphBuildingTests {
    @Test func seedStyleExpressionInfersShapes() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, 8])
        let y = try g.placeholder("y", .int32, [nil])
        let w1 = g.parameter("w1", try .uniform([8, 5], .float32, seed: 1))
        let b1 = g.parameter("b1", try .zeros([5], .float32))
        let w2 = g.parameter("w2", try .uniform([5, 3], .float32, seed: 2))
        let b2 = g.parameter("b2", try .zeros([3], .float32))
        let h = try sigmoid(x • w1 + b1)
        let p = try softmax(h • w2 + b2)
        #expect(h.shape == [nil, 5])
        #expect(p.shape == [nil, 3])
        let loss = try -mean(log(p).gather(y))
        #expect(loss.shape == .scalar)
        #expect(loss.op == .crossEntropy)
        let z = try h * 2.0 - 1.0
        #expect(z.shape == [nil, 5])
    }

    @Test func hashConsingReturnsTheSameNode() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [3])
        let b = try g.placeholder("b", .float64, [3])
        #expect(try a + b == b + a)
        #expect(try exp(a) == exp(a))
        #expect(try a - b != b - a)
        let n = g.nodeCount
        _ = try (a * b) + exp(a)
        _ = try (b * a) + exp(a)
        #expect(g.nodeCount == n + 2)  // a·b and the sum; exp(a) exists
        #expect(g.scalar(2, .float64) == g.scalar(2, .float64))
        #expect(g.scalar(2, .float64) != g.scalar(2, .float32))
    }

    @Test func matmulShapeErrorNamesBothTensors() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, 784])
        let w1 = g.parameter("w1", try .zeros([100, 10], .float32))
        let error = #expect(throws: GraphError.self) { try x • w1 }
        #expect(error?.message == "matmul: x [?, 784] and w1 [100, 10]: inner dimensions 784 and 100 differ")
    }

    @Test func broadcastErrorNamesBothTensors() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [nil, 3])
        let b = try g.placeholder("b", .float32, [4])
        let error = #expect(throws: GraphError.self) { try a + b }
        #expect(error?.message.contains("a [?, 3]") == true)
        #expect(error?.message.contains("b [4]") == true)
    }

    @Test func broadcastingRules() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [nil, 1, 3])
        let b = try g.placeholder("b", .float32, [4, 1])
        #expect(try (a + b).shape == [nil, 4, 3])
        let c = try g.placeholder("c", .float32, [nil, 3])
        #expect(try (c * 2.0).shape == [nil, 3])
    }

    @Test func reshapeInfersTheUnknownDimension() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [4, 6])
        #expect(try reshape(a, [nil, 3]).shape == [8, 3])
        #expect(throws: GraphError.self) { try reshape(a, [5, nil]) }
        let b = try g.placeholder("b", .float32, [nil, 6])
        #expect(try reshape(b, [nil, 2, 3]).shape == [nil, 2, 3])
    }

    @Test func dtypeMismatchIsRefused() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [3])
        let b = try g.placeholder("b", .float64, [3])
        let error = #expect(throws: GraphError.self) { try a + b }
        #expect(error?.message.contains("a [3] is float32 but b [3] is float64") == true)
    }

    @Test func parametersCanBeReadAndReplaced() throws {
        let g = Graph()
        let w = g.parameter("w", try .zeros([2, 3], .float32))
        try g.setValue(.filled([2, 3], .float32, with: 1), of: w)
        #expect(try g.value(of: w).floats == [1, 1, 1, 1, 1, 1])
        let error = #expect(throws: GraphError.self) { try g.setValue(.zeros([3, 2], .float32), of: w) }
        #expect(error?.message == "setValue: parameter w is float32 [2, 3]; got float32 [3, 2]")
    }

    @Test func reductionAndLabelShapes() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, 4, 5])
        #expect(try sum(x, axes: [1]).shape == [nil, 5])
        #expect(try mean(x).shape == .scalar)
        #expect(try max(x, axes: [-1]).shape == [nil, 4])
        #expect(try argmax(x, axis: 2).shape == [nil, 4])
        #expect(try argmax(x, axis: 2).dtype == .int32)
        let m = try g.placeholder("m", .float32, [6, 4])
        let y = try g.placeholder("y", .int32, [5])
        let error = #expect(throws: GraphError.self) { try gatherLabels(m, y) }
        #expect(error?.message == "gatherLabels: m [6, 4] has 6 rows but labels y [5] has 5")
    }
}
