import Foundation
import Testing
import Dataflow

/// `log(softmax)` → `logSoftmax`, the seed's loss → `crossEntropy`, finite at ±1000.
@Suite struct StabilizationTests {
    /// Logits of ±1000 with the labels on the small ones: a naive
    /// `log(softmax)` gives −∞ and NaN gradients.
    static let logits = try! TensorValue(shape: [3, 4], doubles: [1000, -1000, 0, 500, -1000, 1000, 1000, 0, 0, 0, -1000, 1000])
    static let labels = try! TensorValue(shape: [3], int32s: [1, 0, 2])

    /// The exact loss and gradient of the logits above, in closed form per row.
    static func expected() -> (loss: Double, grad: [Double]) {
        let z = logits.asDoubles(), y = labels.int32s!.map(Int.init)
        var loss = 0.0, grad = [Double](repeating: 0, count: 12)
        for i in 0..<3 {
            let row = Array(z[(4 * i)..<(4 * i + 4)]), m = row.max()!
            let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
            loss += lse - row[y[i]]
            for j in 0..<4 { grad[4 * i + j] = (Foundation.exp(row[j] - lse) - (j == y[i] ? 1 : 0)) / 3 }
        }
        return (loss / 3, grad)
    }

    @Test func seedLossIsFusedAtConstructionAndFiniteAtThousand() throws {
        let g = Graph()
        let z = try g.placeholder("z", .float64, [nil, 4])
        let y = try g.placeholder("y", .int32, [nil])
        let loss = try -mean(log(softmax(z)).gather(y))
        #expect(loss.op == .crossEntropy)
        let gz = try grad(of: loss, wrt: z)
        #expect(gz.op == .crossEntropyGrad)
        let values = try evaluate([loss, gz], feeds: ["z": Self.logits, "y": Self.labels])
        let (l, d) = Self.expected()
        #expect(values[0].scalarValue!.isFinite && abs(values[0].scalarValue! - l) < 1e-9)
        #expect(values[1].asDoubles().allSatisfy { $0.isFinite })
        #expect(maxAbsDifference(values[1].asDoubles(), d) < 1e-12)
    }

    @Test func float32IsFiniteAtThousandToo() throws {
        let g = Graph()
        let z = try g.placeholder("z", .float32, [nil, 4])
        let y = try g.placeholder("y", .int32, [nil])
        let loss = try -mean(log(softmax(z)).gather(y))
        let gz = try grad(of: loss, wrt: z)
        let logits32 = try TensorValue(shape: [3, 4], converting: Self.logits.asDoubles(), to: .float32)
        let values = try evaluate([loss, gz], feeds: ["z": logits32, "y": Self.labels])
        let (l, d) = Self.expected()
        #expect(abs(values[0].scalarValue! - l) / l < 1e-6)
        #expect(maxAbsDifference(values[1].asDoubles(), d) < 1e-6)
    }

    @Test func stabilizePassRewritesAGraphBuiltAsWritten() throws {
        let g = Graph(stabilizing: false)
        let z = try g.placeholder("z", .float64, [nil, 4])
        let y = try g.placeholder("y", .int32, [nil])
        let logP = try log(softmax(z))
        let naive = try -mean(logP.gather(y))
        #expect(logP.op == .log)
        #expect(naive.op == .neg)
        let naiveValue = try evaluate([naive], feeds: ["z": Self.logits, "y": Self.labels])[0].scalarValue!
        #expect(!naiveValue.isFinite)   // log(0) = −∞: why the rewrite exists

        let rewritten = try stabilize([naive, logP])
        #expect(rewritten[0].op == .crossEntropy)
        #expect(rewritten[1].op == .logSoftmax)
        let gz = try grad(of: rewritten[0], wrt: z)
        let values = try evaluate([rewritten[0], gz], feeds: ["z": Self.logits, "y": Self.labels])
        let (l, d) = Self.expected()
        #expect(abs(values[0].scalarValue! - l) < 1e-9)
        #expect(maxAbsDifference(values[1].asDoubles(), d) < 1e-12)
    }

    @Test func stabilizeLeavesOtherNodesAlone() throws {
        let g = Graph(stabilizing: false)
        let a = try g.placeholder("a", .float64, [3])
        let e = try sum(exp(a) * 2.0)
        let out = try stabilize([e])
        #expect(out == [e])
    }

    @Test func logSoftmaxIsFiniteAtThousand() throws {
        let g = Graph()
        let z = try g.placeholder("z", .float64, [3, 4])
        let ls = try log(softmax(z))
        #expect(ls.op == .logSoftmax)
        let gz = try grad(of: try sum(ls * 0.5), wrt: z)
        let values = try evaluate([ls, gz], feeds: ["z": Self.logits])
        #expect(values[0].asDoubles().allSatisfy { $0.isFinite })
        #expect(values[1].asDoubles().allSatisfy { $0.isFinite })
        #expect(values[0].asDoubles()[1] == -2000)
    }
}
