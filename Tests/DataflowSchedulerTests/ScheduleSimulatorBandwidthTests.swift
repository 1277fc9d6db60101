import Testing
import DataflowScheduler

@Suite struct ScheduleSimulatorBandwidthTests {
    let bw = ScheduleSimulator.MemoryBandwidth(perCore: 10, total: 20)   // bytes per second

    @Test func availableBandwidthSaturates() {
        #expect(bw.available(cores: 1) == 10)
        #expect(bw.available(cores: 2) == 20)
        #expect(bw.available(cores: 8) == 20)
    }

    @Test func durationsAreTheLargerOfComputeAndBandwidthShare() {
        // P = 4: each core gets 20 / 4 = 5 bytes/s.
        let d = ScheduleSimulator.durations([1, 1, 10], bytes: [0, 10, 10], processors: 4, bandwidth: bw)
        #expect(d == [1, 2, 10])
        // P = 1: 10 bytes/s, 10 bytes take 1 s: no stretch.
        #expect(ScheduleSimulator.durations([1, 1], bytes: [0, 10], processors: 1, bandwidth: bw) == [1, 1])
    }

    @Test func independentMemoryBoundTasksAreLimitedByBandwidth() {
        var g = TaskGraph()
        for _ in 0..<64 { g.addTask("stream", cost: 1, bytes: 5) {} }
        let d = ScheduleSimulator.costHints(of: g)
        let bytes = ScheduleSimulator.bytes(of: g)
        #expect(bytes == [Double](repeating: 5, count: 64))
        let b2 = ScheduleSimulator.bounds(of: g, durations: d, bytes: bytes, processors: 2, bandwidth: bw)
        #expect(b2.makespan == 32 && b2.limit == "work")
        let b16 = ScheduleSimulator.bounds(of: g, durations: d, bytes: bytes, processors: 16, bandwidth: bw)
        // Share 20 / 16 bytes/s: 4 s per task, 4 rounds of 16: 16 s, only 2× P = 2.
        #expect(b16.makespan == 16)
        #expect(b16.bandwidth == 16 && b16.limit == "bandwidth")
    }

    @Test func aChainIsLimitedBySpan() {
        var g = TaskGraph()
        var previous: TaskID? = nil
        for _ in 0..<10 {
            let t = g.addTask("c", cost: 1) {}
            if let p = previous { g.addDependency(p, t) }
            previous = t
        }
        let b = ScheduleSimulator.bounds(of: g, durations: ScheduleSimulator.costHints(of: g), bytes: ScheduleSimulator.bytes(of: g),
                                         processors: 8, bandwidth: bw, overheadPerTask: 0.01)
        #expect(b.span == 10 && b.limit == "span")
        #expect(abs(b.makespan - (10 + 0.01 * 10 / 8)) < 1e-12)
    }

    @Test func tinyTasksAreLimitedByOverhead() {
        var g = TaskGraph()
        for _ in 0..<1000 { g.addTask("t", cost: 1e-9) {} }
        let b = ScheduleSimulator.bounds(of: g, durations: ScheduleSimulator.costHints(of: g), bytes: ScheduleSimulator.bytes(of: g),
                                         processors: 4, bandwidth: bw, overheadPerTask: 1e-7)
        #expect(b.limit == "overhead")
    }
}
