import Testing
import DataflowKernels

/// The first out-of-range index by a plain loop over an array.
func naiveFirstOutOfRange(_ indices: [Int32], _ positions: Range<Int>, bound: Int) -> (Int, Int32)? {
    for p in positions where indices[p] < 0 || Int(indices[p]) >= bound { return (p, indices[p]) }
    return nil
}

@Suite struct IndexCheckTests {
    @Test(arguments: [(1, 1), (17, 5), (100, 7), (257, 1000)])
    func matchesNaiveTwin(shape: (Int, Int)) throws {
        let (n, bound) = shape
        var rng = SplitMix(seed: UInt64(n * 31 + bound))
        for trial in 0..<20 {
            // In range, except a few planted values on either side.
            var idx = (0..<n).map { _ in Int32(rng.next() % UInt64(bound)) }
            for _ in 0..<(trial % 4) {
                let p = Int(rng.next() % UInt64(n))
                idx[p] = rng.next() % 2 == 0 ? -1 - Int32(rng.next() % 5) : Int32(bound) + Int32(rng.next() % 5)
            }
            let buffer = TensorBuffer([7, 7] + idx)
            let lo = Int(rng.next() % UInt64(n)), hi = lo + Int(rng.next() % UInt64(n - lo + 1))
            for range in [0..<n, lo..<hi] {
                let got = try IndexCheck.firstOutOfRange(buffer, offset: 2, positions: range, bound: bound)
                let want = naiveFirstOutOfRange(idx, range, bound: bound)
                #expect(got?.position == want?.0 && got?.index == want?.1, "n \(n) bound \(bound) range \(range)")
            }
        }
    }

    @Test func refusesRangesOutsideTheBuffer() throws {
        let buffer = TensorBuffer<Int32>([0, 1, 2])
        #expect(throws: KernelError.self) { try IndexCheck.firstOutOfRange(buffer, offset: 1, positions: 0..<3, bound: 3) }
        #expect(throws: KernelError.self) { try IndexCheck.firstOutOfRange(buffer, positions: -1..<2, bound: 3) }
        #expect(try IndexCheck.firstOutOfRange(buffer, positions: 0..<3, bound: 0)?.position == 0)
        #expect(try IndexCheck.firstOutOfRange(buffer, positions: 3..<3, bound: 3) == nil)
    }
}
