import Foundation
import Testing
import Dataflow
import DataflowKernels

/// layerNorm, batchNorm and dropout in the interpreter against naive references.
@Suite struct LayerOpTests {
    @Test func layerNormMatchesAPlainLoop() throws {
        let g = Graph()
        let (xv, gv, bv) = (randomValue([3, 4], seed: 1, in: -2...2), randomValue([4], seed: 2), randomValue([4], seed: 3))
        let x = try g.placeholder("x", .float64, [nil, 4])
        let y = try layerNorm(x, gain: g.constant(gv), bias: g.constant(bv), epsilon: 1e-3)
        let out = try evaluate([y], feeds: ["x": xv])[0].asDoubles()
        let (d, gd, bd) = (xv.asDoubles(), gv.asDoubles(), bv.asDoubles())
        for r in 0..<3 {
            let row = Array(d[(4 * r)..<(4 * r + 4)])
            let mu = row.reduce(0, +) / 4
            let variance = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 4
            for c in 0..<4 {
                let expected = (row[c] - mu) / (variance + 1e-3).squareRoot() * gd[c] + bd[c]
                #expect(abs(out[4 * r + c] - expected) < 1e-12)
            }
        }
    }

    /// Output and running averages, channel axis 1 ([n, C, w]), unknown batch.
    @Test func batchNormMatchesAPlainLoop() throws {
        let g = Graph()
        let xv = randomValue([4, 3, 2], seed: 4, in: -2...2)
        let x = try g.placeholder("x", .float64, [nil, 3, 2])
        let rm = g.parameter("rm", try .filled([3], .float64, with: 0.5))
        let rv = g.parameter("rv", try .filled([3], .float64, with: 2))
        let bn = try batchNorm(x, gain: g.constant(randomValue([3], seed: 5)), runningMean: rm, runningVariance: rv,
                               momentum: 0.25, channelAxis: 1)
        #expect(bn.updates.map(\.parameter) == [rm, rv])
        let out = try evaluate([bn.output] + bn.updates.map(\.value), feeds: ["x": xv]).map { $0.asDoubles() }
        let gain = randomValue([3], seed: 5).asDoubles()
        let d = xv.asDoubles()
        for c in 0..<3 {
            let positions = (0..<4).flatMap { n in (0..<2).map { w in (n * 3 + c) * 2 + w } }
            let values = positions.map { d[$0] }
            let mu = values.reduce(0, +) / 8
            let biased = values.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 8
            for p in positions {
                #expect(abs(out[0][p] - (d[p] - mu) / (biased + 1e-5).squareRoot() * gain[c]) < 1e-12)
            }
            #expect(abs(out[1][c] - (0.75 * 0.5 + 0.25 * mu)) < 1e-12)
            #expect(abs(out[2][c] - (0.75 * 2 + 0.25 * biased * 8 / 7)) < 1e-12)
        }
    }

    /// The interpreter's mask is the kernel's, bit for bit, in both dtypes; a new counter
    /// draws a new mask; about `rate` of the elements are dropped.
    @Test(arguments: [DType.float32, .float64])
    func dropoutMaskIsTheCounterBasedKernels(_ dtype: DType) throws {
        let g = Graph()
        let n = 4000, rate = 0.3
        let x = try g.placeholder("x", dtype, [n])
        let counter = g.randomCounter()
        let y = try dropout(x, rate: rate, seed: 99, counter: counter.tensor)
        let ones = try TensorValue.filled([n], dtype, with: 1)
        let first = try evaluate([y], feeds: ["x": ones])[0]
        try g.setValue(TensorValue(scalar: 1, .float64), of: counter.tensor)
        let second = try evaluate([y], feeds: ["x": ones])[0]
        if dtype == .float32 {
            let mask = TensorBuffer<Float>(count: n)
            try CounterRandom.dropoutMask(p: Float(rate), seed: 99, call: 0, elements: 0..<n, into: mask)
            #expect(first.floats! == mask.toArray())
        } else {
            let mask = TensorBuffer<Double>(count: n)
            try CounterRandom.dropoutMask(p: rate, seed: 99, call: 1, elements: 0..<n, into: mask)
            #expect(second.doubles! == mask.toArray())
        }
        #expect(first != second)
        let dropped = Double(first.asDoubles().filter { $0 == 0 }.count) / Double(n)
        #expect(abs(dropped - rate) < 0.03)
        #expect(first.asDoubles().allSatisfy { $0 == 0 || abs($0 - 1 / (1 - rate)) < 1e-6 })
        #expect(try dropout(x, rate: 0, seed: 1, counter: counter.tensor) == x)
    }

    @Test func dropoutCounterMustBeAWholeNumber() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float64, [3])
        let counter = g.parameter("step", TensorValue(scalar: 1.5, .float64))
        let error = #expect(throws: RuntimeError.self) {
            try evaluate([dropout(x, rate: 0.5, seed: 1, counter: counter)], feeds: ["x": randomValue([3], seed: 1)])
        }
        #expect(error?.message.contains("call counter step [] is 1.5") == true)
    }
}
