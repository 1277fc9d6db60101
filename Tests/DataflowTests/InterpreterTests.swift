import Foundation
import Testing
import Dataflow

/// The reference interpreter: values, broadcasting, run-time shapes and feed errors.
@Suite struct InterpreterTests {
    @Test func broadcastingAndMatmulValues() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [nil, 3])
        let b = g.constant(try TensorValue(shape: [3], doubles: [10, 20, 30]), name: "b")
        let w = g.constant(try TensorValue(shape: [3, 2], doubles: [1, 0, 0, 1, 1, 1]))
        let out = try evaluate([a + b, a • w, transpose(a), sum(a, axes: [0]), max(a, axes: [1]), argmax(a, axis: 1)],
                               feeds: ["a": try TensorValue(shape: [2, 3], doubles: [1, 2, 3, 6, 5, 4])])
        #expect(out[0].asDoubles() == [11, 22, 33, 16, 25, 34])
        #expect(out[1].asDoubles() == [4, 5, 10, 9])
        #expect(out[2].shape == [3, 2] && out[2].asDoubles() == [1, 6, 2, 5, 3, 4])
        #expect(out[3].asDoubles() == [7, 7, 7])
        #expect(out[4].asDoubles() == [3, 6])
        #expect(out[5].int32s == [2, 0])
    }

    @Test func softmaxRowsSumToOne() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [nil, 5])
        let p = try evaluate([softmax(a)], feeds: ["a": randomValue([4, 5], seed: 1, .float32)])[0]
        #expect(p.dtype == .float32)
        let v = p.asDoubles()
        for i in 0..<4 { #expect(abs(v[(5 * i)..<(5 * i + 5)].reduce(0, +) - 1) < 1e-6) }
    }

    @Test func missingFeedNamesThePlaceholder() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, 784])
        let error = #expect(throws: RuntimeError.self) { try evaluate([exp(x)]) }
        #expect(error?.message == "evaluate: missing feed for placeholder x (float32 [?, 784])")
        #expect(error?.kind == .missingFeed("x"))
    }

    @Test func unknownFeedNameIsRefused() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float64, [2])
        let error = #expect(throws: RuntimeError.self) {
            try evaluate([exp(x)], feeds: ["x": .zeros([2], .float64), "xx": .zeros([2], .float64)])
        }
        #expect(error?.message.contains("feed \"xx\" is not a placeholder") == true)
    }

    @Test func wrongFeedShapeAndDtypeNameTheTensor() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, 4])
        let e1 = #expect(throws: RuntimeError.self) { try evaluate([exp(x)], feeds: ["x": .zeros([2, 5], .float32)]) }
        #expect(e1?.message == "evaluate: feed x: expected float32 [?, 4], got float32 [2, 5]")
        let e2 = #expect(throws: RuntimeError.self) { try evaluate([exp(x)], feeds: ["x": .zeros([2, 4], .float64)]) }
        #expect(e2?.message == "evaluate: feed x: expected float32 [?, 4], got float64 [2, 4]")
        let e3 = #expect(throws: RuntimeError.self) { try evaluate([exp(x)], feeds: ["x": .zeros([8], .float32)]) }
        #expect(e3?.message.contains("got float32 [8]") == true)
    }

    @Test func labelsOutOfRangeAreNamed() throws {
        let g = Graph()
        let z = try g.placeholder("z", .float64, [nil, 3])
        let y = try g.placeholder("y", .int32, [nil])
        let loss = try crossEntropy(z, y)
        let feeds: [String: TensorValue] = ["z": try .zeros([2, 3], .float64), "y": try TensorValue(shape: [2], int32s: [0, 3])]
        let e1 = #expect(throws: RuntimeError.self) { try evaluate([loss], feeds: feeds) }
        #expect(e1?.message.contains("label 3 at row 1 of y is out of range 0..<3") == true)
        #expect(e1?.kind == .labelOutOfRange(tensor: "y", index: 1, label: 3, classes: 3))
        let negative: [String: TensorValue] = ["z": try .zeros([2, 3], .float64), "y": try TensorValue(shape: [2], int32s: [-1, 0])]
        let e2 = #expect(throws: RuntimeError.self) { try evaluate([z.gather(y)], feeds: negative) }
        #expect(e2?.message.contains("label -1 at row 0 of y") == true)
        let short: [String: TensorValue] = ["z": try .zeros([2, 3], .float64), "y": try TensorValue(shape: [3], int32s: [0, 0, 0])]
        let e3 = #expect(throws: RuntimeError.self) { try evaluate([loss], feeds: short) }
        #expect(e3?.message.contains("labels y [3] should have 2 entries") == true)
    }

    @Test func unknownDimensionsDoNotBroadcast() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [nil, 3])
        let b = try g.placeholder("b", .float64, [nil, 3])
        let feeds: [String: TensorValue] = ["a": try .zeros([4, 3], .float64), "b": try .zeros([1, 3], .float64)]
        let error = #expect(throws: RuntimeError.self) { try evaluate([a + b], feeds: feeds) }
        #expect(error?.message.contains("unknown dimension 0 of b is 1") == true)
    }

    @Test func parametersAreReadAtEachEvaluation() throws {
        let g = Graph()
        let w = g.parameter("w", try .filled([2], .float64, with: 1))
        let out = try w * 3.0
        #expect(try evaluate([out])[0].asDoubles() == [3, 3])
        try g.setValue(try TensorValue(shape: [2], doubles: [1, 2]), of: w)
        #expect(try evaluate([out])[0].asDoubles() == [3, 6])
    }

    @Test func reshapeResolvesTheBatchAtRunTime() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [nil, 6])
        let r = try reshape(a, [nil, 2, 3])
        let v = try evaluate([r, sum(r, axes: [1, 2])], feeds: ["a": randomValue([4, 6], seed: 2)])
        #expect(v[0].shape == [4, 2, 3])
        #expect(v[1].shape == [4])
    }

    @Test func maxSplitsTheGradientAmongTies() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [4])
        let ga = try grad(of: try max(a), wrt: a)
        let v = try evaluate([ga], feeds: ["a": try TensorValue(shape: [4], doubles: [1, 3, 3, 2])])[0]
        #expect(v.asDoubles() == [0, 0.5, 0.5, 0])
    }

    @Test func meanOverAnUnknownBatch() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float64, [nil, 2])
        let ga = try grad(of: try mean(a), wrt: a)
        let v = try evaluate([ga], feeds: ["a": .zeros([4, 2], .float64)])[0]
        #expect(v.asDoubles() == [Double](repeating: 0.125, count: 8))
    }
}
