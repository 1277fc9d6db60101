/// This machine's single-core floating-point peak, measured with a register-only
/// loop of independent fused multiply-add chains (no memory traffic), the yardstick
/// for GEMM efficiency.
///
/// ```swift
/// let peak = PeakFLOPS.measure(Float.self)   // e.g. 2.5e11 flop/s
/// ```
public enum PeakFLOPS {
    /// Flop/s of one thread doing 12 independent chains of SIMD FMAs (2 flops per lane).
    ///
    /// - Parameters:
    ///   - type: `Float` (SIMD16) or `Double` (SIMD8).
    ///   - iterations: loop trips per timed run; the best of `runs` runs is returned.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func measure<T: KernelScalar>(_ type: T.Type, iterations: Int = 20_000_000, runs: Int = 3) -> Double {
        var best = 0.0
        for _ in 0..<max(1, runs) {
            let clock = ContinuousClock()
            let start = clock.now
            let lanes: Int
            switch _KernelKind(T.self) {
            case .float: fmaLoop(SIMD16<Float>.self, iterations); lanes = 16
            case .double: fmaLoop(SIMD8<Double>.self, iterations); lanes = 8
            }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            best = max(best, Double(iterations) * 12 * Double(lanes) * 2 / seconds)
        }
        return best
    }

    @inline(never)
    static func fmaLoop<V: _KernelVector>(_: V.Type, _ iterations: Int) {
        let x = V.constant(0.999999), y = V.constant(1e-7)
        var c0 = V.constant(1), c1 = V.constant(2), c2 = V.constant(3), c3 = V.constant(4)
        var c4 = V.constant(5), c5 = V.constant(6), c6 = V.constant(7), c7 = V.constant(8)
        var c8 = V.constant(9), c9 = V.constant(10), c10 = V.constant(11), c11 = V.constant(12)
        for _ in 0..<iterations {
            c0 = V.mulAdd(c0, x, y); c1 = V.mulAdd(c1, x, y); c2 = V.mulAdd(c2, x, y); c3 = V.mulAdd(c3, x, y)
            c4 = V.mulAdd(c4, x, y); c5 = V.mulAdd(c5, x, y); c6 = V.mulAdd(c6, x, y); c7 = V.mulAdd(c7, x, y)
            c8 = V.mulAdd(c8, x, y); c9 = V.mulAdd(c9, x, y); c10 = V.mulAdd(c10, x, y); c11 = V.mulAdd(c11, x, y)
        }
        let s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11))
        if s.laneSum() == 12345 { print("") }   // keeps the loop alive
    }
}
