import Foundation
import Testing
import Dataflow
import DataflowKernels

/// The structural ops in the interpreter against naive references written here from
/// their definitions (index arithmetic on flat arrays), and their errors.
@Suite struct StructuralOpTests {
    /// Row-major multi-index of `flat` in `shape`.
    static func index(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat
        var out = [Int](repeating: 0, count: shape.count)
        for a in shape.indices.reversed() { out[a] = rest % shape[a]; rest /= shape[a] }
        return out
    }

    /// Flat position of a multi-index in `shape`.
    static func flat(_ index: [Int], _ shape: [Int]) -> Int {
        zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }

    func run(_ outputs: [Tensor], _ feeds: [String: TensorValue] = [:]) throws -> [[Double]] {
        try evaluate(outputs, feeds: feeds).map { $0.asDoubles() }
    }

    @Test func concatAndSliceMatchIndexArithmetic() throws {
        let g = Graph()
        let (sa, sb) = ([2, 3, 4], [2, 2, 4])
        let (va, vb) = (randomValue(sa, seed: 1), randomValue(sb, seed: 2))
        let a = try g.placeholder("a", .float64, Shape(sa)), b = try g.placeholder("b", .float64, Shape(sb))
        let c = try concat([a, b], axis: 1)
        let s = try slice(c, axis: -1, start: 1, count: 2)
        #expect(c.shape == [2, 5, 4] && s.shape == [2, 5, 2])
        let out = try run([c, s], ["a": va, "b": vb])
        let (da, db) = (va.asDoubles(), vb.asDoubles())
        for f in 0..<40 {
            let i = Self.index(f, [2, 5, 4])
            let expected = i[1] < 3 ? da[Self.flat(i, sa)] : db[Self.flat([i[0], i[1] - 3, i[2]], sb)]
            #expect(out[0][f] == expected)
        }
        for f in 0..<20 {
            let i = Self.index(f, [2, 5, 2])
            #expect(out[1][f] == out[0][Self.flat([i[0], i[1], i[2] + 1], [2, 5, 4])])
        }
    }

    @Test func stackAndPermuteMatchIndexArithmetic() throws {
        let g = Graph()
        let vx = randomValue([2, 3, 4], seed: 3), vy = randomValue([2, 3, 4], seed: 4)
        let x = try g.placeholder("x", .float64, [2, 3, 4]), y = try g.placeholder("y", .float64, [2, 3, 4])
        let st = try stack([x, y], axis: 2)
        let p = try transpose(x, permutation: [2, 0, -2])
        #expect(st.shape == [2, 3, 2, 4] && p.shape == [4, 2, 3])
        let out = try run([st, p], ["x": vx, "y": vy])
        for f in 0..<48 {
            let i = Self.index(f, [2, 3, 2, 4])
            let source = i[2] == 0 ? vx.asDoubles() : vy.asDoubles()
            #expect(out[0][f] == source[Self.flat([i[0], i[1], i[3]], [2, 3, 4])])
        }
        for f in 0..<24 {
            let i = Self.index(f, [4, 2, 3])   // p[i0, i1, i2] = x[i1, i2, i0]
            #expect(out[1][f] == vx.asDoubles()[Self.flat([i[1], i[2], i[0]], [2, 3, 4])])
        }
    }

    @Test func castRoundsTruncatesAndSaturates() throws {
        let g = Graph()
        let values: [Double] = [1.7, -1.7, 0.1 + 0.2, 3e9, -3e9, .nan, -0.0, 1e-40]
        let x = try g.placeholder("x", .float64, [8])
        let out = try evaluate([cast(x, to: .int32), cast(x, to: .float32), cast(cast(x, to: .float32), to: .float64)],
                               feeds: ["x": TensorValue(shape: [8], doubles: values)])
        #expect(out[0].int32s == [1, -1, 0, Int32.max, Int32.min, 0, 0, 0])
        #expect(out[1].floats!.enumerated().allSatisfy { k, v in v.bitPattern == Float(values[k]).bitPattern })
        #expect(out[2].dtype == .float64 && out[2].doubles![2] == Double(Float(0.1 + 0.2)))
        #expect(try cast(x, to: .float64) == x)
    }

    @Test func oneHotAndEmbedding() throws {
        let g = Graph()
        let i = try g.placeholder("i", .int32, [2, 3])
        let table = try g.placeholder("table", .float32, [4, 2])
        let iv = try TensorValue(shape: [2, 3], int32s: [3, 0, 1, 1, 2, 3])
        let tv = randomValue([4, 2], seed: 5, .float32)
        let out = try evaluate([oneHot(i, classes: 4), embedding(table, i), oneHot(i, classes: 4, dtype: .float64)],
                               feeds: ["i": iv, "table": tv])
        #expect(out[0].shape == [2, 3, 4] && out[0].dtype == .float32 && out[2].dtype == .float64)
        for p in 0..<6 {
            let v = Int(iv.int32s![p])
            #expect((0..<4).map { out[0].asDoubles()[p * 4 + $0] } == (0..<4).map { $0 == v ? 1 : 0 })
            #expect(out[1].floats![(2 * p)..<(2 * p + 2)] == tv.floats![(2 * v)..<(2 * v + 2)])
        }
    }

    /// The embedding gradient sums rows in position order; checked against a plain loop.
    @Test func embeddingGradientIsAScatterAdd() throws {
        let g = Graph()
        let table = try g.placeholder("table", .float64, [3, 2])
        let i = try g.placeholder("i", .int32, [5])
        let w = g.constant(randomValue([5, 2], seed: 6))
        let dt = try grad(of: sum(embedding(table, i) * w), wrt: table)
        let iv: [Int32] = [2, 0, 2, 2, 1]
        let out = try run([dt], ["table": randomValue([3, 2], seed: 7), "i": TensorValue(shape: [5], int32s: iv)])[0]
        var expected = [Double](repeating: 0, count: 6)
        let wv = randomValue([5, 2], seed: 6).asDoubles()
        for (p, v) in iv.enumerated() { for j in 0..<2 { expected[Int(v) * 2 + j] += wv[p * 2 + j] } }
        #expect(out == expected)
    }

    @Test func logSumExpSoftmaxAndCrossEntropyAlongAnAxis() throws {
        let g = Graph()
        let xv = randomValue([2, 3, 4], seed: 8, in: -3...3)
        let x = try g.placeholder("x", .float64, [2, 3, 4])
        let labels = try g.placeholder("y", .int32, [2, 4])
        let yv = try TensorValue(shape: [2, 4], int32s: [0, 2, 1, 1, 2, 0, 0, 1])
        let out = try run([logSumExp(x, axis: 1), softmax(x, axis: 1), logSoftmax(x, axis: -2), crossEntropy(x, labels, axis: 1)],
                          ["x": xv, "y": yv])
        let d = xv.asDoubles()
        var loss = 0.0
        for n in 0..<2 { for k in 0..<4 {
            let column = (0..<3).map { d[Self.flat([n, $0, k], [2, 3, 4])] }
            let lse = log(column.map(exp).reduce(0, +))
            #expect(abs(out[0][n * 4 + k] - lse) < 1e-12)
            for c in 0..<3 {
                let f = Self.flat([n, c, k], [2, 3, 4])
                #expect(abs(out[1][f] - exp(column[c] - lse)) < 1e-12)
                #expect(abs(out[2][f] - (column[c] - lse)) < 1e-12)
            }
            loss -= column[Int(yv.int32s![n * 4 + k])] - lse
        } }
        #expect(abs(out[3][0] - loss / 8) < 1e-12)
    }

    @Test func logSumExpOfInfiniteRows() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float64, [2, 2])
        let out = try run([logSumExp(x)], ["x": TensorValue(shape: [2, 2], doubles: [-.infinity, -.infinity, .infinity, 1])])[0]
        #expect(out == [-.infinity, .infinity])
    }

    @Test func badArgumentsThrowNamingTheTensor() throws {
        let g = Graph()
        let a = try g.placeholder("a", .float32, [2, 3])
        let b = try g.placeholder("b", .float32, [4, 4])
        let i = try g.placeholder("i", .int32, [3])
        func message(_ body: () throws -> Tensor) -> String {
            do { _ = try body(); return "no error" } catch let e as GraphError { return e.message } catch { return "\(error)" }
        }
        #expect(message { try concat([a, b], axis: 0) }.contains("a [2, 3] and b [4, 4] differ on axis 1"))
        #expect(message { try concat([a, b], axis: -3) }.contains("axis -3 is out of range for a [2, 3]"))
        #expect(message { try concat([], axis: 0) }.contains("at least one"))
        #expect(message { try slice(a, axis: 1, start: 2, count: 2) }.contains("2..<4 is outside axis 1 (size 3) of a [2, 3]"))
        #expect(message { try slice(a, axis: 2, start: 0, count: 1) }.contains("axis 2 is out of range for a"))
        #expect(message { try slice(a, axis: 0, start: -1, count: 1) }.contains("must be ≥ 0"))
        #expect(message { try stack([a, b]) }.contains("differ on axis"))
        #expect(message { try transpose(a, permutation: [0, 0]) }.contains("[0, 0] is not a permutation of the 2 axes of a"))
        #expect(message { try oneHot(a, classes: 3) }.contains("indices a [2, 3] are float32; expected int32"))
        #expect(message { try oneHot(i, classes: 0) }.contains("classes 0 must be ≥ 1"))
        #expect(message { try embedding(i, i) }.contains("i [3] is int32"))
        #expect(message { try embedding(a, a) }.contains("indices a [2, 3] are float32"))
        #expect(message { try logSumExp(a, axis: 2) }.contains("logSumExp: axis 2 is out of range for a"))
        #expect(message { try softmax(a, axis: -3) }.contains("softmax: axis -3 is out of range for a"))
        let j = try g.placeholder("j", .int32, [2])
        #expect(message { try crossEntropy(a, j, axis: 0) }.contains("labels j [2] should have the shape [3]"))
        #expect(message { try dropout(a, rate: 1, seed: 1, counter: g.scalar(0)) }.contains("rate 1.0 for a [2, 3] must be in [0, 1)"))
        #expect(message { try dropout(a, rate: -0.1, seed: 1, counter: g.scalar(0)) }.contains("must be in [0, 1)"))
        #expect(message { try dropout(a, rate: 0.5, seed: 1, counter: a) }.contains("call counter a [2, 3] has rank 2"))
        #expect(message { try layerNorm(a, axes: 3) }.contains("layerNorm: axes 3 must be in 1...2"))
        #expect(message { try layerNorm(a, epsilon: -1) }.contains("epsilon -1.0 for a must be"))
        let notParameter = try g.placeholder("m", .float32, [3])
        #expect(message { try batchNorm(a, runningMean: notParameter, runningVariance: notParameter).output }
            .contains("running mean m float32 [3] must be a float32 parameter of shape [3]"))
    }

    @Test func outOfRangeIndicesAreRuntimeErrorsNamingTheTensor() throws {
        let g = Graph()
        let table = try g.placeholder("table", .float64, [3, 2])
        let tokens = try g.placeholder("tokens", .int32, [2, 2])
        let bad = try TensorValue(shape: [2, 2], int32s: [0, 1, 3, 2])
        for output in [try embedding(table, tokens), try oneHot(tokens, classes: 3)] {
            let error = #expect(throws: RuntimeError.self) {
                try evaluate([output], feeds: ["table": randomValue([3, 2], seed: 1), "tokens": bad])
            }
            #expect(error?.kind == .labelOutOfRange(tensor: "tokens", index: 2, label: 3, classes: 3))
            #expect(error?.message.contains("index 3 at position 2 of tokens is out of range 0..<3") == true)
        }
        let x = try g.placeholder("x", .float64, [nil, 3])
        let s = try slice(x, axis: 0, start: 1, count: 2)
        let e = #expect(throws: RuntimeError.self) { try evaluate([s], feeds: ["x": randomValue([2, 3], seed: 2)]) }
        #expect(e?.message.contains("1..<3 is outside axis 0 of x [2, 3]") == true)
    }
}
