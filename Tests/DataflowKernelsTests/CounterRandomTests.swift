import Testing
import DataflowKernels

@Suite struct CounterRandomTests {
    /// Random123 kat_vectors, philox4x32 10: counter (4 words), key (2 words) → 4 words.
    static let knownAnswers: [(SIMD4<UInt32>, SIMD2<UInt32>, SIMD4<UInt32>)] = [
        (SIMD4(0, 0, 0, 0), SIMD2(0, 0), SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
        (SIMD4(0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), SIMD2(0xffff_ffff, 0xffff_ffff),
         SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)),
        (SIMD4(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), SIMD2(0xa409_3822, 0x299f_31d0),
         SIMD4(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)),
    ]

    @Test func philoxKnownAnswers() {
        for (counter, key, want) in Self.knownAnswers {
            #expect(Philox4x32.block(counter: counter, key: key) == want, "philox4x32-10 \(counter) \(key)")
        }
        // The package mapping: seed → key, (block, call) → counter words (lo, hi, lo, hi).
        #expect(Philox4x32.block(seed: 0x299f_31d0_a409_3822, call: 0x0370_7344_1319_8a2e, block: 0x85a3_08d3_243f_6a88)
                == Self.knownAnswers[2].2)
    }

    @Test(arguments: [1, 15, 16, 17, 257])
    func uniformAnySplitSameBits(n: Int) throws {
        try split(Float.self, n)
        try split(Double.self, n)
    }

    func split<T: KernelScalar>(_: T.Type, _ n: Int) throws {
        let whole = TensorBuffer<T>(count: n + 3)
        try CounterRandom.uniform(seed: 42, call: 9, elements: 0..<n, into: whole, offset: 3)
        // Element i is the single-value function of (seed, call, i).
        for i in 0..<n {
            let u: T = CounterRandom.uniform(seed: 42, call: 9, index: i)
            #expect(whole[3 + i] == u && u >= 0 && u < 1, "\(T.self) element \(i)")
        }
        // Uneven tasks in reverse order give the same bits.
        for chunk in [1, 3, 5, 16] {
            let parts = TensorBuffer<T>(count: n + 3)
            var hi = n
            while hi > 0 {
                let lo = max(0, hi - chunk)
                try CounterRandom.uniform(seed: 42, call: 9, elements: lo..<hi, into: parts, offset: 3)
                hi = lo
            }
            #expect(parts.toArray() == whole.toArray(), "\(T.self) n \(n) chunks of \(chunk)")
        }
        // Another call or seed gives other values.
        let other = TensorBuffer<T>(count: n + 3)
        try CounterRandom.uniform(seed: 42, call: 10, elements: 0..<n, into: other, offset: 3)
        #expect(n < 4 || other.toArray() != whole.toArray())
    }

    @Test func uniformWordsAndMoments() throws {
        // Float element i: word i % 4 of block i / 4, top 24 bits.
        let w = Philox4x32.block(seed: 5, call: 1, block: 2)
        let f: Float = CounterRandom.uniform(seed: 5, call: 1, index: 9)
        #expect(f == Float(w[1] >> 8) * 0x1p-24)
        // Double element i: words 2(i%2) (low) and 2(i%2)+1 (high) of block i / 2.
        let d: Double = CounterRandom.uniform(seed: 5, call: 1, index: 5)
        #expect(d == Double((UInt64(w[3]) << 32 | UInt64(w[2])) >> 11) * 0x1p-53)
        // Negative indices wrap to 2⁶⁴ + index: the last element is word 3 of block 2⁶² − 1.
        let wLast = Philox4x32.block(seed: 5, call: 1, block: (1 << 62) - 1)
        let fLast: Float = CounterRandom.uniform(seed: 5, call: 1, index: -1)
        #expect(fLast == Float(wLast[3] >> 8) * 0x1p-24)
        let n = 100_000
        let b = TensorBuffer<Double>(count: n)
        try CounterRandom.uniform(seed: 3, call: 0, elements: 0..<n, into: b)
        let mean = b.toArray().reduce(0, +) / Double(n)
        #expect(abs(mean - 0.5) < 0.005, "mean \(mean)")
    }

    @Test(arguments: [0.0, 0.1, 0.5, 0.9])
    func dropoutMask(p: Double) throws {
        let n = 20_000
        let m = TensorBuffer<Float>(count: n)
        try CounterRandom.dropoutMask(p: Float(p), seed: 11, call: 2, elements: 0..<n, into: m)
        let scale = 1 / (1 - Float(p))
        var kept = 0
        for i in 0..<n {
            let u: Float = CounterRandom.uniform(seed: 11, call: 2, index: i)
            #expect(m[i] == (u < Float(p) ? 0 : scale), "element \(i)")
            if m[i] != 0 { kept += 1 }
        }
        #expect(abs(Double(kept) / Double(n) - (1 - p)) < 0.02, "kept \(kept) of \(n) at p \(p)")
        let halves = TensorBuffer<Float>(count: n)
        try CounterRandom.dropoutMask(p: Float(p), seed: 11, call: 2, elements: n / 2..<n, into: halves)
        try CounterRandom.dropoutMask(p: Float(p), seed: 11, call: 2, elements: 0..<n / 2, into: halves)
        #expect(halves.toArray() == m.toArray())
    }

    @Test func errors() {
        let b = TensorBuffer<Double>(count: 4)
        #expect { try CounterRandom.dropoutMask(p: 1.0, seed: 0, call: 0, elements: 0..<4, into: b) } throws: { e in
            (e as? KernelError)?.message.contains("p must be in [0, 1)") == true
        }
        #expect { try CounterRandom.uniform(seed: 0, call: 0, elements: 0..<4, into: b, offset: 1) } throws: { e in
            (e as? KernelError)?.message.contains("outside the buffer") == true
        }
    }
}
