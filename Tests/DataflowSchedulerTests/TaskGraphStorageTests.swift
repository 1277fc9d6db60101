import Testing
import DataflowScheduler

/// The compact storage of `TaskGraph`: sparse attributes, shared names, and the fast
/// compile path for forward, target-ordered edges against the general one.
@Suite struct TaskGraphStorageTests {
    @Test func attributesDefaultToZeroAndSurviveLateNonDefaults() {
        var g = TaskGraph()
        let a = g.addTask("x") {}
        let b = g.addTask("x") {}
        let c = g.addTask("y", priority: 3, cost: 2e-3, bytes: 4096, kind: 2) {}
        let d = g.addTask("x") {}
        #expect([a, b, c, d].map { g.name(of: $0) } == ["x", "x", "y", "x"])
        #expect([a, b, c, d].map { g.priority(of: $0) } == [0, 0, 3, 0])
        #expect([a, b, c, d].map { g.cost(of: $0) } == [0, 0, 2e-3, 0])
        #expect([a, b, c, d].map { g.bytes(of: $0) } == [0, 0, 4096, 0])
        #expect([a, b, c, d].map { g.kind(of: $0) } == [0, 0, 2, 0])
    }

    /// The same random DAG with its edges added in target order (fast path) and
    /// shuffled (general path) must give the same successor and predecessor sets, and
    /// runs must respect every edge.
    @Test(arguments: [1, 2, 3, 4, 5])
    func edgeOrderDoesNotChangeTheStructure(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let n = 200
        var edges: [(Int, Int)] = []
        for t in 0..<n { for f in 0..<t where Double.random(in: 0..<1, using: &rng) < 0.03 { edges.append((f, t)) } }
        var sorted = TaskGraph(), shuffled = TaskGraph()
        for _ in 0..<n { sorted.addTask("t") {}; shuffled.addTask("t") {} }
        for (f, t) in edges { sorted.addDependency(TaskID(index: f), TaskID(index: t)) }
        for (f, t) in edges.shuffled(using: &rng) { shuffled.addDependency(TaskID(index: f), TaskID(index: t)) }
        for t in sorted.tasks {
            #expect(sorted.successors(of: t) == shuffled.successors(of: t))
            #expect(sorted.predecessors(of: t).sorted() == shuffled.predecessors(of: t).sorted())
        }
        let log = RunLog(count: n)
        var g = TaskGraph()
        let preds = (0..<n).map { t in edges.filter { $0.1 == t }.map(\.0) }
        for t in 0..<n { g.addTask("t", log.body(t, preds: preds[t])) }
        for (f, t) in edges { g.addDependency(TaskID(index: f), TaskID(index: t)) }
        try Executor(workers: 2).run(g)
        #expect(log.violations(g).isEmpty)
    }

    @Test func outOfRangeIdsAreReportedWithTheirValues() {
        var g = TaskGraph()
        let a = g.addTask("a") {}
        g.addDependency(a, TaskID(index: 1 << 40))
        #expect(throws: SchedulerError.self) { try g.validate() }
        do { try g.validate() } catch { #expect(error.kind == .invalidTaskID && error.message.contains("\(1 << 40)")) }
        var h = TaskGraph()
        let b = h.addTask("b") {}
        h.addDependency(TaskID(index: -3), b)
        do { try h.validate(); Issue.record("no error") } catch { #expect(error.message.contains("-3")) }
    }

    @Test func aForwardTargetLaterAddedIsValid() throws {
        var g = TaskGraph()
        let a = g.addTask("a") {}
        g.addDependency(a, TaskID(index: 1))   // task 1 does not exist yet
        #expect(throws: SchedulerError.self) { try g.validate() }
        g.addTask("b") {}
        try g.validate()
        #expect(g.successors(of: a) == [TaskID(index: 1)])
    }
}
