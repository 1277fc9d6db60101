import Testing
import DataflowScheduler

@Suite struct ExecutorPriorityTests {
    /// With one worker the order is deterministic: among ready tasks the highest
    /// priority runs first, ties to the lower id (what the simulator assumes).
    @Test func oneWorkerRunsReadyTasksByPriority() throws {
        let executor = Executor(workers: 1)
        let order = Locked<[String]>([])
        var g = TaskGraph()
        let root = g.addTask("root") { order.withLock { $0.append("root") } }
        for (name, priority) in [("p1", 1), ("p5", 5), ("p3", 3), ("p2a", 2), ("p4", 4), ("p2b", 2)] {
            let t = g.addTask(name, priority: priority) { order.withLock { $0.append(name) } }
            g.addDependency(root, t)
        }
        try executor.run(g)
        #expect(order.withLock { $0 } == ["root", "p5", "p4", "p3", "p2a", "p2b", "p1"])

        // Roots too.
        var roots = TaskGraph()
        order.withLock { $0 = [] }
        for (name, priority) in [("a", 0), ("b", 9), ("c", 4)] {
            roots.addTask(name, priority: priority) { order.withLock { $0.append(name) } }
        }
        try executor.run(roots)
        #expect(order.withLock { $0 } == ["b", "c", "a"])
    }

    @Test(arguments: [1, 2])
    func errorInANestedRunReachesTheOuterRun(workers: Int) throws {
        let executor = Executor(workers: workers)
        var outer = TaskGraph()
        outer.addTask("outer") {
            var inner = TaskGraph()
            inner.addTask("inner") { throw TestFailure(id: 42) }
            try executor.run(inner)
        }
        #expect(throws: TestFailure(id: 42)) { try bounded { [outer] in try executor.run(outer) } }
        let ran = Locked(0)
        var ok = TaskGraph()
        ok.addTask("fine") { ran.withLock { $0 += 1 } }
        try bounded { [ok] in try executor.run(ok) }
        #expect(ran.withLock { $0 } == 1)
    }

    @Test func observerSeesEveryTaskOnAValidWorker() throws {
        let executor = Executor(workers: 3)
        let log = RunLog(count: 200)
        let graph = randomDAG(tasks: 200, edgeProbability: 0.05, seed: 9, log: log)
        let trace = TraceRecorder()
        try bounded { [graph] in try executor.run(graph, observer: trace) }
        let events = trace.events
        #expect(events.count == 200)
        #expect(Set(events.map(\.task.index)) == Set(0..<200))
        #expect(events.allSatisfy { (0..<3).contains($0.worker) })
        // Observed order respects dependencies: a task starts after its predecessors end.
        let byTask = Dictionary(uniqueKeysWithValues: events.map { ($0.task, $0) })
        for e in events {
            for p in graph.predecessors(of: e.task) {
                #expect(byTask[p]!.end <= e.start)
            }
        }
    }
}
