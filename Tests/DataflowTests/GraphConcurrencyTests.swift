import Dispatch
import Testing
import Dataflow

/// Building is synchronised: threads adding the same expressions meet in the same nodes.
@Suite struct GraphConcurrencyTests {
    @Test func concurrentBuildersShareHashConsedNodes() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [nil, 8])
        let w = g.parameter("w", try .zeros([8, 8], .float64))
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 8) { k in
            var h = a
            for _ in 0..<200 { h = try! tanh(h • w) }
            results.set(k, h.id)
        }
        let ids = results.all()
        #expect(Set(ids).count == 1)
        #expect(g.nodeCount == 2 + 400)
    }

    @Test func applyRefusesLeavesAndBadArity() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [3])
        let e1 = #expect(throws: GraphError.self) { try g.apply(.placeholder("b"), []) }
        #expect(e1?.message.contains("graph.placeholder") == true)
        let e2 = #expect(throws: GraphError.self) { try g.apply(.add, [a.id]) }
        #expect(e2?.message == "add: expects 2 input(s), got 1")
        let e3 = #expect(throws: GraphError.self) { try g.apply(.exp, [NodeID(99)]) }
        #expect(e3?.message.contains("not a node of this graph") == true)
        #expect(try g.apply(.exp, [a.id]) == g.apply(.exp, [a.id]))
    }

    @Test func rankErrorsNameTheTensor() throws {
        let g = Graph()
        let v = try g.placeholder("v", .float32, [3])
        let c = try g.placeholder("c", .float32, [2, 3, 4])
        let e1 = #expect(throws: GraphError.self) { try transpose(v) }
        #expect(e1?.message == "transpose: operand v [3] has rank 1; expected rank 2")
        // Above rank 2 softmax runs along the last axis (the issue-14 default), so a scalar is the bad rank.
        #expect(try softmax(c).shape == c.shape)
        let e2 = #expect(throws: GraphError.self) { try softmax(g.scalar(1.0, .float32)) }
        #expect(e2?.message.contains("softmax: operand") == true && e2?.message.contains("rank 0") == true)
        let e3 = #expect(throws: GraphError.self) { try v • v }
        #expect(e3?.message.contains("left operand v [3] has rank 1") == true)
        let e4 = #expect(throws: GraphError.self) { try exp(g.placeholder("y", .int32, [3])) }
        #expect(e4?.message == "exp: y [3] is int32; expected float32 or float64")
    }
}

/// A thread-safe slot per iteration, for the concurrency test.
final class ResultBox: @unchecked Sendable {
    private let lock = DispatchQueue(label: "ResultBox")
    private var ids: [Int: NodeID] = [:]
    func set(_ k: Int, _ id: NodeID) { lock.sync { ids[k] = id } }
    func all() -> [NodeID] { lock.sync { ids.keys.sorted().map { ids[$0]! } } }
}
