import Testing
import DataflowScheduler

@Suite struct ScheduleSimulatorBandwidthTests {
    let bw = ScheduleSimulator.MemoryBandwidth(perCore: 10, total: 20)   // bytes per second

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(b)) }

    func independent(_ count: Int, cost: Double, bytes: Int) -> TaskGraph {
        var g = TaskGraph()
        for _ in 0..<count { g.addTask("stream", cost: cost, bytes: bytes) {} }
        return g
    }

    func simulate(_ g: TaskGraph, _ p: Int, _ bandwidth: ScheduleSimulator.MemoryBandwidth? = nil) -> (starts: [Double], ends: [Double], makespan: Double) {
        ScheduleSimulator.schedule(of: g, durations: ScheduleSimulator.costHints(of: g), bytes: ScheduleSimulator.bytes(of: g),
                                   processors: p, bandwidth: bandwidth ?? bw)
    }

    @Test func availableBandwidthSaturates() {
        #expect(bw.available(cores: 1) == 10)
        #expect(bw.available(cores: 2) == 20)
        #expect(bw.available(cores: 8) == 20)
    }

    @Test func aloneDurationsAreTheLargerOfComputeAndOneCoresBandwidth() {
        #expect(ScheduleSimulator.aloneDurations([1, 1, 10], bytes: [0, 20, 20], bandwidth: bw) == [1, 2, 10])
    }

    /// The old model gave every task a 1/P share, so one streaming task on 64 cores took
    /// 64 / 2 = 32 times longer than on one: a task running alone is never slowed down.
    @Test(arguments: [1, 2, 8, 64])
    func aSingleMemoryBoundTaskIsNotSlowedByMoreCores(processors: Int) {
        let g = independent(1, cost: 1, bytes: 10)     // exactly one core's bandwidth
        #expect(close(simulate(g, processors).makespan, 1))
        let b = ScheduleSimulator.bounds(of: g, durations: [1], bytes: [10], processors: processors, bandwidth: bw)
        #expect(close(b.makespan, 1))
    }

    /// P streaming tasks that each alone take 1 s at one core's 10 B/s: together they
    /// need P × bytes / total once P cores ask for more than the total.
    @Test(arguments: [1, 2, 3, 4, 16, 64])
    func pMemoryBoundTasksTakePTimesBytesOverBandwidth(processors: Int) {
        let g = independent(processors, cost: 1, bytes: 10)
        let expected = max(1, Double(processors) * 10 / 20)
        let s = simulate(g, processors)
        #expect(close(s.makespan, expected))
        #expect(s.ends.allSatisfy { close($0, expected) })   // equal shares: all end together
    }

    @Test func moreCoresNeverSlowAStreamingGraph() {
        let g = independent(64, cost: 1, bytes: 5)
        var previous = Double.infinity
        for p in [1, 2, 3, 4, 6, 8, 12, 16, 32, 64] {
            let m = simulate(g, p).makespan
            #expect(m <= previous + 1e-9, "P = \(p): \(m) after \(previous)")
            previous = m
        }
        // Bandwidth-bound from 4 cores on: 64 × 5 B at 20 B/s = 16 s.
        #expect(close(simulate(g, 4).makespan, 16) && close(simulate(g, 64).makespan, 16))
    }

    /// The share follows the tasks running at each moment: A streams alone for 1 s
    /// (10 B/s, 10 of its 20 B), then shares with B (5 B/s each): both end at 3 s.
    /// The equal-share-of-P model gave A 5 B/s throughout and ended at 4 s.
    @Test func sharesChangeWhenTasksStartAndEnd() {
        var g = TaskGraph()
        let a = g.addTask("A", cost: 1e-3, bytes: 20) {}
        let c = g.addTask("C", cost: 1) {}
        let b = g.addTask("B", cost: 1e-3, bytes: 10) {}
        g.addDependency(c, b)
        let s = simulate(g, 2, .init(perCore: 10, total: 10))
        #expect(close(s.ends[a.index], 3) && close(s.ends[b.index], 3) && close(s.ends[c.index], 1))
        #expect(s.starts == [0, 0, 1])
        #expect(close(s.makespan, 3))
    }

    /// A compute-bound task neither uses nor loses bandwidth; a light streamer keeps
    /// what it draws and the heavy ones split the rest (max-min fairness).
    @Test func computeBoundAndLightTasksKeepTheirSpeed() {
        var g = TaskGraph()
        g.addTask("compute", cost: 4) {}
        g.addTask("light", cost: 4, bytes: 8) {}      // draws 2 B/s
        g.addTask("heavy 1", cost: 1, bytes: 9) {}    // draw 9 B/s each
        g.addTask("heavy 2", cost: 1, bytes: 9) {}
        let s = simulate(g, 4)
        // Light gets 2, the heavies (20 − 2) / 2 = 9 each: nobody is slowed.
        #expect(close(s.ends[0], 4) && close(s.ends[1], 4) && close(s.ends[2], 1) && close(s.ends[3], 1))
        let tight = simulate(g, 4, .init(perCore: 10, total: 12))
        // Heavies get (12 − 2) / 2 = 5 B/s: 1.8 s; light and compute unchanged.
        #expect(close(tight.ends[0], 4) && close(tight.ends[1], 4) && close(tight.ends[2], 1.8) && close(tight.ends[3], 1.8))
    }

    @Test func withoutBytesItIsPlainListScheduling() {
        let log = RunLog(count: 80)
        let g = randomDAG(tasks: 80, edgeProbability: 0.1, seed: 3, log: log)
        var rng = SeededRandom(seed: 9)
        let d = (0..<80).map { _ in Double.random(in: 0..<1, using: &rng) }
        for p in [1, 3, 8] {
            let plain = ScheduleSimulator.schedule(of: g, durations: d, processors: p)
            let shared = ScheduleSimulator.schedule(of: g, durations: d, bytes: [Double](repeating: 0, count: 80), processors: p, bandwidth: bw)
            #expect(close(shared.makespan, plain.makespan))
            #expect(zip(shared.starts, plain.starts).allSatisfy { close($0, $1) })
            // Deterministic.
            let again = ScheduleSimulator.schedule(of: g, durations: d, bytes: [Double](repeating: 0, count: 80), processors: p, bandwidth: bw)
            #expect(again.starts == shared.starts && again.ends == shared.ends)
        }
    }

    @Test func independentMemoryBoundTasksAreLimitedByBandwidth() {
        let g = independent(64, cost: 1, bytes: 5)
        let d = ScheduleSimulator.costHints(of: g)
        let bytes = ScheduleSimulator.bytes(of: g)
        #expect(bytes == [Double](repeating: 5, count: 64))
        let b2 = ScheduleSimulator.bounds(of: g, durations: d, bytes: bytes, processors: 2, bandwidth: bw)
        #expect(close(b2.makespan, 32) && b2.limit == "work")
        let b16 = ScheduleSimulator.bounds(of: g, durations: d, bytes: bytes, processors: 16, bandwidth: bw)
        // 16 running share 20 B/s: 4 s per task, 4 rounds of 16: 16 s, only 2× P = 2.
        #expect(close(b16.makespan, 16))
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
        let g = independent(1000, cost: 1e-9, bytes: 0)
        let b = ScheduleSimulator.bounds(of: g, durations: ScheduleSimulator.costHints(of: g), bytes: ScheduleSimulator.bytes(of: g),
                                         processors: 4, bandwidth: bw, overheadPerTask: 1e-7)
        #expect(b.limit == "overhead")
    }
}
