import Foundation
import Synchronization
import Testing
import DataflowScheduler

@Suite struct ExecutorTests {
    @Test(arguments: [1, 2, 3, 4, 8])
    func randomDAGsRunEachTaskOnceAfterPredecessors(workers: Int) throws {
        let executor = Executor(workers: workers)
        #expect(executor.workerCount == workers)
        for seed in 0..<40 {
            let n = 1 + Int(seed * 37 % 300)
            let log = RunLog(count: n)
            let graph = randomDAG(tasks: n, edgeProbability: Double(seed % 5) * 0.06, seed: UInt64(seed), log: log)
            try bounded { [graph] in try executor.run(graph) }
            #expect(log.violations(graph) == [], "seed \(seed), workers \(workers)")
        }
    }

    /// Issue 7: random task graphs under random injected delays.
    @Test(arguments: [2, 3, 8])
    func randomDAGsWithInjectedDelays(workers: Int) throws {
        let executor = Executor(workers: workers)
        for seed in 100..<112 {
            let log = RunLog(count: 120)
            let graph = randomDAG(tasks: 120, edgeProbability: 0.1, seed: UInt64(seed), log: log, maxDelay: 40)
            try bounded { [graph] in try executor.run(graph) }
            #expect(log.violations(graph) == [], "seed \(seed), workers \(workers)")
        }
    }

    @Test func emptyGraphAndOneTask() throws {
        let executor = Executor(workers: 2)
        try executor.run(TaskGraph())
        let ran = Locked(0)
        var one = TaskGraph()
        one.addTask("only") { ran.withLock { $0 += 1 } }
        try bounded { [one] in try executor.run(one) }
        try bounded { [one] in try executor.run(one) }
        #expect(ran.withLock { $0 } == 2)
    }

    @Test(arguments: [1, 2, 4])
    func thousandReRunsOfOneGraph(workers: Int) throws {
        let executor = Executor(workers: workers)
        let log = RunLog(count: 64)
        let graph = randomDAG(tasks: 64, edgeProbability: 0.2, seed: 7, log: log)
        try bounded {
            for run in 0..<1000 {
                log.reset()
                try executor.run(graph)
                let problems = log.violations(graph)
                if !problems.isEmpty { Issue.record("run \(run): \(problems)"); break }
            }
        }
    }

    @Test(arguments: [1, 2, 4])
    func firstErrorIsRethrownLaterTasksSkippedExecutorStillWorks(workers: Int) throws {
        let executor = Executor(workers: workers)
        let failing = Atomic<Bool>(true)
        let ran = Locked<Set<Int>>([])
        var graph = TaskGraph()
        var previous: TaskID? = nil
        for i in 0..<50 {
            let t = graph.addTask("step\(i)") {
                ran.withLock { _ = $0.insert(i) }
                if i == 10 && failing.load(ordering: .relaxed) { throw TestFailure(id: i) }
                if i == 30 && failing.load(ordering: .relaxed) { throw TestFailure(id: i) }
            }
            if let p = previous { graph.addDependency(p, t) }
            previous = t
        }
        #expect(throws: TestFailure(id: 10)) { try bounded { [graph] in try executor.run(graph) } }
        #expect(ran.withLock { $0 } == Set(0...10), "tasks after the failure were skipped")

        // Independent tasks: one fails, the run still drains and rethrows it.
        var wide = TaskGraph()
        for i in 0..<200 { wide.addTask("w\(i)") { if i == 3 { throw TestFailure(id: 3) } } }
        #expect(throws: TestFailure(id: 3)) { try bounded { [wide] in try executor.run(wide) } }

        failing.store(false, ordering: .relaxed)
        ran.withLock { $0 = [] }
        try bounded { [graph] in try executor.run(graph) }
        #expect(ran.withLock { $0 } == Set(0..<50), "the next run is complete and correct")
        let log = RunLog(count: 100)
        let random = randomDAG(tasks: 100, edgeProbability: 0.1, seed: 3, log: log)
        try bounded { [random] in try executor.run(random) }
        #expect(log.violations(random) == [])
    }

    @Test(arguments: [1, 2, 4])
    func cancellationFromInsideATaskSkipsTheRest(workers: Int) throws {
        let executor = Executor(workers: workers)
        let token = CancellationToken()
        let ran = Locked(0)
        var graph = TaskGraph()
        var previous: TaskID? = nil
        for i in 0..<100 {
            let t = graph.addTask("c\(i)") {
                ran.withLock { $0 += 1 }
                if i == 20 { token.cancel() }
            }
            if let p = previous { graph.addDependency(p, t) }
            previous = t
        }
        #expect(throws: SchedulerError.cancelled) { try bounded { [graph] in try executor.run(graph, cancellation: token) } }
        #expect(ran.withLock { $0 } == 21)
        #expect(token.isCancelled)
        // A cancelled token refuses to start; a fresh one runs everything.
        #expect(throws: SchedulerError.cancelled) { try executor.run(graph, cancellation: token) }
        ran.withLock { $0 = 0 }
        try bounded { [graph] in try executor.run(graph, cancellation: CancellationToken()) }
        #expect(ran.withLock { $0 } == 100)
    }

    @Test func cancellationFromAnotherThread() throws {
        let executor = Executor(workers: 2)
        let token = CancellationToken()
        let started = DispatchSemaphore(value: 0)
        let ran = Locked(0)
        var graph = TaskGraph()
        var previous: TaskID? = nil
        for i in 0..<2000 {
            let t = graph.addTask("slow\(i)") {
                if i == 0 { started.signal() }
                ran.withLock { $0 += 1 }
                Thread.sleep(forTimeInterval: 0.001)
            }
            if let p = previous { graph.addDependency(p, t) }
            previous = t
        }
        DispatchQueue.global().async {
            _ = started.wait(timeout: .now() + 10)
            Thread.sleep(forTimeInterval: 0.02)
            token.cancel()
        }
        #expect(throws: SchedulerError.cancelled) { try bounded { [graph] in try executor.run(graph, cancellation: token) } }
        #expect(ran.withLock { $0 } < 2000)
    }

    @Test(arguments: [1, 2, 4])
    func nestedRunsOnTheSameExecutor(workers: Int) throws {
        let executor = Executor(workers: workers)
        let innerRuns = Locked(0)
        var outer = TaskGraph()
        let start = outer.addTask("start") {}
        for i in 0..<8 {
            let t = outer.addTask("outer\(i)") {
                let log = RunLog(count: 40)
                let inner = randomDAG(tasks: 40, edgeProbability: 0.1, seed: UInt64(i), log: log)
                try executor.run(inner)
                if log.violations(inner) == [] { innerRuns.withLock { $0 += 1 } }
                // Two levels deep.
                var leaf = TaskGraph()
                leaf.addTask("leaf") { innerRuns.withLock { $0 += 1 } }
                try executor.run(leaf)
            }
            outer.addDependency(start, t)
        }
        try bounded { [outer] in try executor.run(outer) }
        #expect(innerRuns.withLock { $0 } == 16)
    }

    /// A Swift `Task` started inside a task body inherits task-locals; its `run` must be
    /// treated as coming from outside (it is another thread), not as a nested run.
    @Test func runFromATaskStartedInsideATaskBody() throws {
        let executor = Executor(workers: 2)
        let done = DispatchSemaphore(value: 0)
        let innerRan = Locked(0)
        var outer = TaskGraph()
        for i in 0..<4 {
            outer.addTask("spawn\(i)") {
                Task.detached {
                    var inner = TaskGraph()
                    let a = inner.addTask("a") { innerRan.withLock { $0 += 1 } }
                    let b = inner.addTask("b") { innerRan.withLock { $0 += 1 } }
                    inner.addDependency(a, b)
                    try? executor.run(inner)
                    done.signal()
                }
                Task {
                    var inner = TaskGraph()
                    inner.addTask("c") { innerRan.withLock { $0 += 1 } }
                    try? executor.run(inner)
                    done.signal()
                }
            }
        }
        try bounded { [outer] in try executor.run(outer) }
        // Generous bound: the spawned Swift tasks need a thread of the cooperative pool,
        // which other (slow, e.g. sanitized) tests of this process may be holding.
        for _ in 0..<8 { #expect(done.wait(timeout: .now() + 120) == .success) }
        #expect(innerRan.withLock { $0 } == 12)
    }

    @Test func runsFromSeveralOutsideThreadsAtOnce() throws {
        let executor = Executor(workers: 3)
        let failures = Locked(0)
        try bounded {
            DispatchQueue.concurrentPerform(iterations: 6) { k in
                for seed in 0..<10 {
                    let log = RunLog(count: 50)
                    let graph = randomDAG(tasks: 50, edgeProbability: 0.1, seed: UInt64(k * 100 + seed), log: log)
                    do { try executor.run(graph) } catch { failures.withLock { $0 += 1 } }
                    if log.violations(graph) != [] { failures.withLock { $0 += 1 } }
                }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }

    /// Workers fall asleep between runs (pauses longer than their spin) and must be
    /// woken by the next run's pushes and completions: no lost wake-up may hang a run.
    @Test(arguments: [2, 4, 8])
    func sleepAndWakeBetweenRuns(workers: Int) throws {
        let executor = Executor(workers: workers)
        let count = Locked(0)
        var g = TaskGraph()
        let root = g.addTask("root") { count.withLock { $0 += 1 } }
        for i in 0..<6 {
            let t = g.addTask("leaf\(i)") { count.withLock { $0 += 1 } }
            g.addDependency(root, t)
        }
        try bounded { [g] in
            for run in 0..<400 {
                if run % 8 == 0 { Thread.sleep(forTimeInterval: 0.0002) }
                try executor.run(g)
            }
        }
        #expect(count.withLock { $0 } == 400 * 7)
    }

    /// A fan-out wider than a worker's deque (4096) goes through the overflow list.
    @Test(arguments: [1, 3])
    func wideFanOutAndFanIn(workers: Int) throws {
        let executor = Executor(workers: workers)
        let width = 10_000
        let log = RunLog(count: width + 2)
        var g = TaskGraph()
        let root = g.addTask("root", log.body(0, preds: []))
        var middle: [TaskID] = []
        for i in 1...width {
            let t = g.addTask("m\(i)", log.body(i, preds: [0]))
            g.addDependency(root, t)
            middle.append(t)
        }
        let sink = g.addTask("sink", log.body(width + 1, preds: Array(1...width)))
        for t in middle { g.addDependency(t, sink) }
        try bounded { [g] in try executor.run(g) }
        #expect(log.violations(g) == [])
        log.reset()
        try bounded { [g] in try executor.run(g) }
        #expect(log.violations(g) == [])
    }

    @Test func manyExecutorsComeAndGo() throws {
        for workers in 1...6 {
            let executor = Executor(workers: workers)
            let log = RunLog(count: 30)
            let graph = randomDAG(tasks: 30, edgeProbability: 0.1, seed: UInt64(workers), log: log)
            try bounded { [graph] in try executor.run(graph) }
            #expect(log.violations(graph) == [])
        }
    }

    @Test func aMillionTaskGraph() throws {
        let executor = Executor(workers: 2)
        // A 1000 × 1000 wavefront: each task after its left and top neighbours. Each task
        // checks its predecessors' marks, so an early start is caught.
        let side = 1000
        let marks = Locked([UInt8](repeating: 0, count: side * side))
        let early = Atomic<Int>(0)
        var graph = TaskGraph()
        for i in 0..<side {
            for j in 0..<side {
                let index = i * side + j
                let t = graph.addTask("w") {
                    marks.withLock { m in
                        if (i > 0 && m[index - side] == 0) || (j > 0 && m[index - 1] == 0) {
                            early.wrappingAdd(1, ordering: .relaxed)
                        }
                        m[index] &+= 1
                    }
                }
                if i > 0 { graph.addDependency(TaskID(index: index - side), t) }
                if j > 0 { graph.addDependency(TaskID(index: index - 1), t) }
            }
        }
        #expect(graph.count == 1_000_000)
        try bounded(60) { [graph] in try executor.run(graph) }
        #expect(early.load(ordering: .relaxed) == 0)
        #expect(marks.withLock { $0.allSatisfy { $0 == 1 } })
    }

    @Test func invalidGraphIsRefusedByRun() throws {
        let executor = Executor(workers: 2)
        var graph = TaskGraph()
        let a = graph.addTask("a") {}
        let b = graph.addTask("b") {}
        graph.addDependency(a, b)
        graph.addDependency(b, a)
        #expect(throws: SchedulerError.self) { try executor.run(graph) }
    }
}
