import Testing
import DataflowScheduler

@Suite struct TaskGraphTests {
    @Test func idsAreDenseAndAttributesKept() {
        var g = TaskGraph()
        let a = g.addTask("a", priority: 3, cost: 0.5, kind: 7) {}
        let b = g.addTask("b") {}
        #expect(a == TaskID(index: 0) && b == TaskID(index: 1) && a < b)
        #expect(g.count == 2)
        #expect(g.name(of: a) == "a" && g.priority(of: a) == 3 && g.cost(of: a) == 0.5 && g.kind(of: a) == 7)
        #expect(g.priority(of: b) == 0 && g.kind(of: b) == 0)
    }

    @Test func successorsAndPredecessors() throws {
        var g = TaskGraph()
        let t = (0..<4).map { g.addTask("t\($0)", priority: $0 % 2) {} }
        g.addDependency(t[0], t[2])
        g.addDependency(t[0], t[1])
        g.addDependency(t[1], t[3])
        g.addDependency(t[2], t[3])
        #expect(g.successors(of: t[0]) == [t[1], t[2]])
        #expect(Set(g.predecessors(of: t[3])) == [t[1], t[2]])
        #expect(g.predecessors(of: t[0]) == [])
        try g.validate()
        // Growing the graph after a query sees the new edges.
        g.addDependency(t[3], g.addTask("t4") {})
        #expect(g.successors(of: t[3]) == [TaskID(index: 4)])
    }

    @Test func valueSemantics() {
        var g = TaskGraph()
        let a = g.addTask("a") {}
        var h = g
        let b = h.addTask("b") {}
        h.addDependency(a, b)
        #expect(g.count == 1 && h.count == 2)
        #expect(g.successors(of: a) == [] && h.successors(of: a) == [b])
    }

    @Test func cycleIsReportedNamingATaskOnIt() {
        var g = TaskGraph()
        let ids = (0..<6).map { g.addTask("node\($0)") {} }
        g.addDependency(ids[0], ids[1])
        g.addDependency(ids[1], ids[2])
        g.addDependency(ids[2], ids[3])
        g.addDependency(ids[3], ids[1])   // cycle 1 → 2 → 3 → 1
        g.addDependency(ids[3], ids[4])
        do {
            try g.validate()
            Issue.record("a cycle was not detected")
        } catch {
            #expect(error.kind == .cycle)
            #expect(["node1", "node2", "node3"].contains { error.message.contains("'\($0)'") })
            #expect(!error.message.contains("'node0'") && !error.message.contains("'node5'"))
        }
    }

    @Test func selfLoopIsACycle() {
        var g = TaskGraph()
        let a = g.addTask("lonely") {}
        g.addDependency(a, a)
        #expect(throws: SchedulerError.self) { try g.validate() }
    }

    @Test func badTaskIDIsReported() {
        var g = TaskGraph()
        let a = g.addTask("a") {}
        g.addDependency(a, TaskID(index: 5))
        do {
            try g.validate()
            Issue.record("a bad id was not detected")
        } catch {
            #expect(error.kind == .invalidTaskID)
            #expect(error.message.contains("#5"))
        }
    }
}
