import Testing
import DataflowScheduler

@Suite struct ScheduleSimulatorTests {
    func chain(_ durations: [Double]) -> TaskGraph {
        var g = TaskGraph()
        var previous: TaskID? = nil
        for i in durations.indices {
            let t = g.addTask("c\(i)") {}
            if let p = previous { g.addDependency(p, t) }
            previous = t
        }
        return g
    }

    @Test(arguments: [1, 2, 8])
    func chainTakesItsTotal(processors: Int) {
        let d = [1.0, 2, 3]
        #expect(ScheduleSimulator.makespan(of: chain(d), durations: d, processors: processors) == 6)
    }

    /// a(1) → b(2), c(3), d(4) → e(1).
    func forkJoinGraph(priorities: [Int] = [0, 0, 0, 0, 0]) -> TaskGraph {
        var g = TaskGraph()
        let ids = (0..<5).map { g.addTask("t\($0)", priority: priorities[$0]) {} }
        for m in 1...3 {
            g.addDependency(ids[0], ids[m])
            g.addDependency(ids[m], ids[4])
        }
        return g
    }

    @Test func forkJoin() {
        let d = [1.0, 2, 3, 4, 1]
        let g = forkJoinGraph()
        #expect(ScheduleSimulator.makespan(of: g, durations: d, processors: 1) == 11)
        // P = 2: a 0–1; b 1–3 and c 1–4 (ties by id); d 3–7; e 7–8.
        #expect(ScheduleSimulator.makespan(of: g, durations: d, processors: 2) == 8)
        #expect(ScheduleSimulator.makespan(of: g, durations: d, processors: 3) == 6)
    }

    @Test func diamondWithPriorities() {
        let d = [1.0, 2, 3, 4, 1]
        // d first (highest priority): a 0–1; d 1–5, b 1–3; c 3–6; e 6–7.
        let g = forkJoinGraph(priorities: [0, 0, 0, 5, 0])
        #expect(ScheduleSimulator.makespan(of: g, durations: d, processors: 2) == 7)
        let s = ScheduleSimulator.schedule(of: g, durations: d, processors: 2)
        #expect(s.starts == [0, 1, 3, 1, 6])
    }

    @Test func oneProcessorIsTotalWork() {
        let log = RunLog(count: 60)
        let g = randomDAG(tasks: 60, edgeProbability: 0.2, seed: 11, log: log)
        var rng = SeededRandom(seed: 5)
        let d = (0..<60).map { _ in Double.random(in: 0..<1, using: &rng) }
        let total = d.reduce(0, +)
        #expect(abs(ScheduleSimulator.makespan(of: g, durations: d, processors: 1) - total) < 1e-9)
        // More processors never hurt here, and never beat the longest path.
        let m64 = ScheduleSimulator.makespan(of: g, durations: d, processors: 64)
        #expect(m64 <= total + 1e-9)
        // The longest path (tasks are added in topological order by randomDAG).
        var finish = [Double](repeating: 0, count: g.count)
        for t in g.tasks {
            let ready = g.predecessors(of: t).map { finish[$0.index] }.max() ?? 0
            finish[t.index] = ready + d[t.index]
        }
        let longestPath = finish.max() ?? 0
        #expect(longestPath > 0)
        for p in [2, 4, 64] {
            let m = ScheduleSimulator.makespan(of: g, durations: d, processors: p)
            #expect(m >= longestPath - 1e-9, "\(p) processors: makespan \(m) below the longest path \(longestPath)")
        }
        // With as many processors as tasks, list scheduling runs every task as soon as it is ready.
        #expect(abs(m64 - longestPath) < 1e-9, "64 processors, 60 tasks: makespan \(m64), longest path \(longestPath)")
    }

    @Test func emptyGraph() {
        #expect(ScheduleSimulator.makespan(of: TaskGraph(), durations: [], processors: 4) == 0)
    }
}
