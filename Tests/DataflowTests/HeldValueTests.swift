import Foundation
import Testing
import Dataflow

// A value you hold never changes: outputs, parameter values read or passed in,
// feeds — whatever later calls update in place.

/// The numbers of a value, by bits, to compare later.
private func bits(_ v: TensorValue) -> [UInt64] {
    switch v.storage {
    case .float32(let b): b.toArray().map { UInt64($0.bitPattern) }
    case .float64(let b): b.toArray().map(\.bitPattern)
    case .int32(let b): b.toArray().map { UInt64(UInt32(bitPattern: $0)) }
    }
}

/// w [2, 3] float32 with loss = sum(w ⊙ x), so dloss/dw = x.
private struct HeldValueNet {
    let graph = Graph()
    let x: Tensor
    let w: Tensor
    let loss: Tensor
    let initialW: TensorValue

    init() throws {
        x = try graph.placeholder("x", .float32, [2, 3])
        initialW = try TensorValue(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        w = graph.parameter("w", initialW)
        loss = try sum(w * x)
    }

    func feeds(_ k: Int) -> [String: TensorValue] {
        ["x": try! TensorValue(shape: [2, 3], floats: (0..<6).map { Float($0 + k) * 0.5 })]  // 6 values for [2, 3]
    }
}

@Suite("Held values never change")
struct HeldValueTests {
    /// The three kinds of update of w: in place (axpy), general, staged (a cycle).
    enum UpdateKind: String, CaseIterable, Sendable { case axpy, general, cycle }

    private func updates(_ net: HeldValueNet, _ kind: UpdateKind) throws -> [ParameterUpdate] {
        let g = net.graph
        switch kind {
        case .axpy:
            let dw = try grad(of: net.loss, wrt: [net.w])[0]
            return [ParameterUpdate(net.w, try net.w - g.scalar(0.5, .float32) * dw)]
        case .general:
            return [ParameterUpdate(net.w, try net.w * 0.5 + net.x)]
        case .cycle:
            // w ← w − 0.5·u, u ← u − 0.5·w: a cycle of axpy updates, staged.
            let u = g.parameter("u", try TensorValue(shape: [2, 3], floats: [6, 5, 4, 3, 2, 1]))
            return [ParameterUpdate(net.w, try net.w - 0.5 * u + net.x), ParameterUpdate(u, try u - 0.5 * net.w)]
        }
    }

    @Test("(a) outputs w and reshape(w) of a call that updates w: the value before the call, kept after more calls",
          arguments: UpdateKind.allCases, [1, 4])
    func outputsOfUpdatedParameter(kind: UpdateKind, workers: Int) throws {
        let net = try HeldValueNet()
        let f = try compile(inputs: [net.x], outputs: [net.w, try reshape(net.w, [3, 2]), net.loss],
                            updates: try updates(net, kind), options: CompileOptions(workers: workers))
        var held: [(values: [TensorValue], bits: [[UInt64]])] = []
        for step in 0..<5 {
            let before = bits(try net.graph.value(of: net.w))
            let out = try f(net.feeds(step))
            #expect(bits(out[0]) == before, "\(kind) step \(step): output w is the value before the call")
            #expect(bits(out[1]) == before && out[1].shape == [3, 2], "\(kind) step \(step): reshape(w) is the value before the call")
            #expect(bits(try net.graph.value(of: net.w)) != before, "\(kind) step \(step): the call updated w")
            held.append((out, out.map(bits)))
        }
        #expect(held[0].bits[0] == bits(net.initialW))
        for (step, h) in held.enumerated() {
            #expect(h.values.map(bits) == h.bits, "\(kind): the outputs of step \(step) changed after later calls")
        }
    }

    @Test("(b) graph.value(of: w) read before steps keeps its numbers", arguments: UpdateKind.allCases)
    func valueReadBefore(kind: UpdateKind) throws {
        let net = try HeldValueNet()
        let f = try compile(inputs: [net.x], outputs: [net.loss], updates: try updates(net, kind))
        _ = try f(net.feeds(0))   // after this, w's buffer is the program's own: later steps run in place
        let read = try net.graph.value(of: net.w)
        let numbers = bits(read)
        _ = try f(net.feeds(1))
        _ = try f(net.feeds(2))
        #expect(bits(read) == numbers)
        #expect(bits(try net.graph.value(of: net.w)) != numbers, "the steps changed w")
    }

    @Test("(c) the value passed to graph.parameter and to setValue is not modified by training",
          arguments: UpdateKind.allCases)
    func valuePassedIn(kind: UpdateKind) throws {
        let net = try HeldValueNet()
        let numbers = bits(net.initialW)
        let f = try compile(inputs: [net.x], outputs: [], updates: try updates(net, kind))
        for step in 0..<3 { _ = try f(net.feeds(step)) }
        #expect(bits(net.initialW) == numbers, "graph.parameter's value")
        let replacement = try TensorValue(shape: [2, 3], floats: [9, 8, 7, 6, 5, 4])
        let replacementBits = bits(replacement)
        try net.graph.setValue(replacement, of: net.w)
        for step in 0..<3 { _ = try f(net.feeds(step)) }
        #expect(bits(replacement) == replacementBits, "setValue's value")
        #expect(bits(try net.graph.value(of: net.w)) != replacementBits, "the steps changed w")
    }

    @Test("(d) an output parameter updated only by another function of the graph keeps its numbers")
    func parameterUpdatedElsewhere() throws {
        let net = try HeldValueNet()
        let g = net.graph
        let w2 = g.parameter("w2", try TensorValue(shape: [2, 3], floats: [1, 1, 2, 2, 3, 3]))
        let reader = try compile(inputs: [], outputs: [w2, try reshape(w2, [6]), try w2 * 2.0])
        let dw2 = try grad(of: try sum(w2 * net.x), wrt: [w2])[0]
        let inPlace = try compile(inputs: [net.x], outputs: [],
                                  updates: [ParameterUpdate(w2, try w2 - g.scalar(0.25, .float32) * dw2)])
        let general = try compile(inputs: [net.x], outputs: [], updates: [ParameterUpdate(w2, try w2 * net.x)])
        var held: [([TensorValue], [[UInt64]])] = []
        for step in 0..<4 {
            let out = try reader([:])
            #expect(bits(out[0]) == bits(try g.value(of: w2)), "step \(step)")
            held.append((out, out.map(bits)))
            _ = try inPlace(net.feeds(step))
            _ = try inPlace(net.feeds(step + 1))
            _ = try general(net.feeds(step))
        }
        for (step, h) in held.enumerated() {
            #expect(h.0.map(bits) == h.1, "reader's outputs of step \(step) changed")
        }
    }

    @Test("(e) feeds are never modified, even when a feed becomes a parameter's value")
    func feedsUnchanged() throws {
        let net = try HeldValueNet()
        let g = net.graph
        // w ← x (the feed itself), then in-place steps of w by another function.
        let assign = try compile(inputs: [net.x], outputs: [net.x, try reshape(net.x, [6])],
                                 updates: [ParameterUpdate(net.w, net.x)])
        let dw = try grad(of: net.loss, wrt: [net.w])[0]
        let step = try compile(inputs: [net.x], outputs: [net.loss],
                               updates: [ParameterUpdate(net.w, try net.w - g.scalar(0.5, .float32) * dw)])
        let fed = net.feeds(3)
        let fedBits = bits(fed["x"]!)
        let out = try assign(fed)
        #expect(bits(try g.value(of: net.w)) == fedBits)
        let other = net.feeds(1)
        let otherBits = bits(other["x"]!)
        for _ in 0..<3 { _ = try step(other) }
        #expect(bits(fed["x"]!) == fedBits, "the feed that became w's value")
        #expect(bits(other["x"]!) == otherBits, "the feed read by the in-place update")
        #expect(bits(out[0]) == fedBits && bits(out[1]) == fedBits, "outputs that are the feed")
        #expect(bits(try g.value(of: net.w)) != fedBits, "the steps changed w")
    }

    @Test("(f) outputs of one call are not overwritten by the next while held", arguments: [1, 4])
    func outputsKept(workers: Int) throws {
        let net = try HeldValueNet()
        let dw = try grad(of: net.loss, wrt: [net.w])[0]
        let f = try compile(inputs: [net.x], outputs: [try net.w * net.x, dw, net.loss],
                            updates: [ParameterUpdate(net.w, try net.w - net.graph.scalar(0.5, .float32) * dw)],
                            options: CompileOptions(workers: workers))
        let first = try f(net.feeds(0))
        let firstBits = first.map(bits)
        for step in 1..<6 {
            let out = try f(net.feeds(step))
            #expect(out.map(bits) != firstBits, "step \(step) computed other numbers")
        }
        #expect(first.map(bits) == firstBits)
    }
}
