import Testing
import DataflowKernels

/// The naive twin of `Convert.cast` to int32: the definition, case by case.
func naiveInt32(_ v: Double) -> Int32 {
    if v.isNaN { return 0 }
    let t = v.rounded(.towardZero)
    if t < Double(Int32.min) { return .min }
    if t > Double(Int32.max) { return .max }
    return Int32(t)
}

/// The naive twin of `OneHot.encode`.
func naiveOneHot(_ indices: [Int32], classes: Int) -> [Double] {
    indices.flatMap { v in (0..<classes).map { $0 == Int(v) ? 1.0 : 0.0 } }
}

@Suite struct ConvertTests {
    static let specials: [Double] = [0, -0.0, 0.5, -0.5, 1.9999, -1.9999, 2_147_483_647, 2_147_483_647.9, 2_147_483_648,
                                     -2_147_483_648, -2_147_483_649, 1e300, -1e300, .infinity, -.infinity, .nan, 1e-45, 3.4e38]

    @Test(arguments: [1, 3, 16, 17, 257])
    func castMatchesNaiveTwins(_ n: Int) throws {
        var rng = SplitMix(seed: UInt64(n))
        let values = (0..<n).map { i in i < Self.specials.count ? Self.specials[i] : Double(Int64(bitPattern: rng.next()) >> 30) / 7 }
        let doubles = TensorBuffer<Double>(values)
        let floats = TensorBuffer<Float>(count: n), back = TensorBuffer<Double>(count: n)
        let ints = TensorBuffer<Int32>(count: n), intsFromFloat = TensorBuffer<Int32>(count: n)
        let fromInt = TensorBuffer<Float>(count: n), fromIntDouble = TensorBuffer<Double>(count: n)
        // Split into two ranges in reverse order: the same bits as one call.
        for range in [(n / 2)..<n, 0..<(n / 2)] {
            try Convert.cast(doubles, into: floats, elements: range)
            try Convert.cast(floats, into: back, elements: range)
            try Convert.cast(doubles, into: ints, elements: range)
            try Convert.cast(floats, into: intsFromFloat, elements: range)
            try Convert.cast(ints, into: fromInt, elements: range)
            try Convert.cast(ints, into: fromIntDouble, elements: range)
        }
        for i in 0..<n {
            let v = values[i]
            #expect(floats[i].bitPattern == Float(v).bitPattern || (v.isNaN && floats[i].isNaN), "\(v)")
            #expect(back[i].bitPattern == Double(Float(v)).bitPattern || (v.isNaN && back[i].isNaN))
            #expect(ints[i] == naiveInt32(v), "\(v) → \(ints[i])")
            #expect(intsFromFloat[i] == naiveInt32(Double(Float(v))), "\(Float(v)) → \(intsFromFloat[i])")
            #expect(fromInt[i] == Float(naiveInt32(v)) && fromIntDouble[i] == Double(naiveInt32(v)))
        }
    }

    @Test func castRefusesBadRanges() {
        let a = TensorBuffer<Float>(count: 4), b = TensorBuffer<Double>(count: 3)
        #expect(throws: KernelError.self) { try Convert.cast(a, into: b, elements: 0..<4) }
        #expect(throws: KernelError.self) { try Convert.cast(a, sourceOffset: 1, into: b, elements: 0..<4) }
        #expect(throws: KernelError.self) { try Convert.cast(a, into: a, offset: 1, elements: 0..<3) }
    }

    @Test(arguments: [(1, 1), (5, 3), (17, 16), (64, 10)])
    func oneHotMatchesNaiveTwin(_ shape: (Int, Int)) throws {
        let (n, classes) = shape
        var rng = SplitMix(seed: UInt64(n * 31 + classes))
        let indices = (0..<n).map { _ in Int32(rng.next() % UInt64(classes)) }
        let out = TensorBuffer<Float>(repeating: .nan, count: n * classes + 2)
        for range in [(n / 3)..<n, 0..<(n / 3)] {
            try OneHot.encode(TensorBuffer(indices), classes: classes, positions: range, into: out, offset: 1)
        }
        #expect(out.toArray()[1...(n * classes)].map(Double.init) == naiveOneHot(indices, classes: classes))
        #expect(out[0].isNaN && out[n * classes + 1].isNaN)
    }

    @Test func oneHotNamesTheBadIndexBeforeWriting() {
        let out = TensorBuffer<Double>(repeating: 7, count: 6)
        let error = #expect(throws: KernelError.self) {
            try OneHot.encode(TensorBuffer<Int32>([1, 3]), classes: 3, positions: 0..<2, into: out)
        }
        #expect(error?.message.contains("indices[1] = 3 is out of range 0..<3") == true)
        #expect(out.toArray() == [Double](repeating: 7, count: 6))
        #expect(throws: KernelError.self) { try OneHot.encode(TensorBuffer<Int32>([0]), classes: 0, positions: 0..<1, into: out) }
        #expect(throws: KernelError.self) { try OneHot.encode(TensorBuffer<Int32>([0, 1, 2]), classes: 3, positions: 0..<3, into: out) }
    }
}
