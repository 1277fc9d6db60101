import Testing
import DataflowScheduler

/// Reusing storage across graphs: `TaskGraph.removeAll(keepingCapacity:)` and the
/// executor's recycled compiled arrays and join counters must never leak one graph's
/// structure into the next.
@Suite struct GraphReuseTests {
    @Test func removeAllEmptiesTheGraphAndCopiesKeepTheirTasks() throws {
        var g = TaskGraph()
        let a = g.addTask("a", priority: 2, cost: 1, bytes: 8, kind: 3) {}
        let b = g.addTask("b") {}
        g.addDependency(a, b)
        try g.validate()
        let copy = g
        for keep in [true, false] {
            g.removeAll(keepingCapacity: keep)
            #expect(g.count == 0 && g.dependencyCount == 0)
            try g.validate()
            let x = g.addTask("x") {}
            let y = g.addTask("y") {}
            let z = g.addTask("y") {}
            #expect([x, y, z].map { g.name(of: $0) } == ["x", "y", "y"])
            #expect(g.priority(of: x) == 0 && g.cost(of: x) == 0 && g.bytes(of: x) == 0 && g.kind(of: x) == 0)
            #expect(g.successors(of: x).isEmpty)
        }
        #expect(copy.count == 2 && copy.name(of: b) == "b" && copy.priority(of: a) == 2 && copy.successors(of: a) == [b])
    }

    /// Copies share the compiled form until they diverge, and mutations do not check for
    /// sharing: a copy that diverged to the same task and edge counts must still get its
    /// own compiled form (its own bodies, edges and validity), whichever copy compiles
    /// first and however they alternate.
    @Test(arguments: [false, true])
    func divergedCopiesWithEqualCountsNeverShareACompiledForm(compiledBeforeCopy: Bool) throws {
        let executor = Executor(workers: 1)
        let ran = Locked<[String]>([])
        var g = TaskGraph()
        let a = g.addTask("a") { ran.withLock { $0.append("a") } }
        let b = g.addTask("b") { ran.withLock { $0.append("b") } }
        if compiledBeforeCopy { try executor.run(g) }
        var c = g
        // Same counts on both sides: one task and one edge each, different ones.
        let gx = g.addTask("g-only") { ran.withLock { $0.append("g") } }
        let cx = c.addTask("c-only") { ran.withLock { $0.append("c") } }
        g.addDependency(b, gx)
        c.addDependency(cx, a)
        func runs(_ graph: TaskGraph) throws -> [String] {
            ran.withLock { $0 = [] }
            try executor.run(graph)
            return ran.withLock { $0 }
        }
        for _ in 0..<2 {
            let rg = try runs(g), rc = try runs(c)
            #expect(rg.sorted() == ["a", "b", "g"] && rg.firstIndex(of: "b")! < rg.firstIndex(of: "g")!)
            #expect(rc.sorted() == ["a", "b", "c"] && rc.firstIndex(of: "c")! < rc.firstIndex(of: "a")!)
        }
        #expect(g.successors(of: b) == [gx] && c.successors(of: b).isEmpty)
        #expect(c.successors(of: cx) == [a] && g.successors(of: gx).isEmpty)
        // An edge that closes a cycle in one copy only.
        var d = g
        var e = g
        d.addDependency(gx, b)      // b → g-only → b
        e.addDependency(a, gx)
        #expect(throws: SchedulerError.self) { try d.validate() }
        try e.validate()
        #expect(throws: SchedulerError.self) { try executor.run(d) }
        #expect(try runs(e).sorted() == ["a", "b", "g"])
        #expect(try runs(g).sorted() == ["a", "b", "g"])
    }

    /// Graphs of growing and shrinking sizes and different shapes, built fresh or into
    /// one emptied graph, run on one executor (whose recycled arrays then hold another
    /// graph's values): every task runs once, after its predecessors.
    @Test(arguments: [1, 2])
    func recycledStorageRunsEveryGraphCorrectly(workers: Int) throws {
        let executor = Executor(workers: workers)
        var reused = TaskGraph()
        var rng = SeededRandom(seed: 7)
        for (round, n) in [300, 40, 1000, 5, 700, 1, 300].enumerated() {
            var edges: [(Int, Int)] = []
            let p = [0.0, 0.01, 0.05, 0.2][round % 4]
            for t in 0..<n { for f in max(0, t - 60)..<t where Double.random(in: 0..<1, using: &rng) < p { edges.append((f, t)) } }
            let preds = (0..<n).map { t in edges.filter { $0.1 == t }.map(\.0) }
            for fresh in [true, false] {
                let log = RunLog(count: n)
                var g = TaskGraph()
                if !fresh {
                    // Move the reused graph into g (so its storage stays uniquely held).
                    swap(&g, &reused)
                    g.removeAll(keepingCapacity: true)
                }
                for t in 0..<n { g.addTask("t\(t % 3)", log.body(t, preds: preds[t])) }
                // Every other round out of target order (the general compile path).
                for (f, t) in round % 2 == 0 ? edges : edges.reversed() { g.addDependency(TaskID(index: f), TaskID(index: t)) }
                let graph = g
                // Bounded: stale join counters would leave tasks waiting forever.
                try bounded { try executor.run(graph) }
                #expect(log.violations(g).isEmpty, "round \(round), n \(n), fresh \(fresh)")
                log.reset()
                try bounded { try executor.run(graph) }   // a re-run reuses the counters of the first
                #expect(log.violations(g).isEmpty, "re-run: round \(round), n \(n), fresh \(fresh)")
                #expect(g.name(of: TaskID(index: n - 1)) == "t\((n - 1) % 3)")
                if !fresh { swap(&g, &reused) }
            }
        }
    }

    @Test(arguments: BenchmarkShape.allCases)
    func shapesBuiltIntoOneGraphMatchFreshOnes(shape: BenchmarkShape) throws {
        var g = TaskGraph()
        for size in [100, 10, 1000] {
            shape.build(into: &g, size: size) {}
            let fresh = shape.build(size: size) {}
            #expect(g.count == fresh.count && g.dependencyCount == fresh.dependencyCount)
            for t in fresh.tasks { #expect(g.successors(of: t) == fresh.successors(of: t)) }
            try Executor(workers: 1).run(g)
        }
    }
}
