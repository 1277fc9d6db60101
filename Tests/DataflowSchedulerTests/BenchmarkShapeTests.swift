import Synchronization
import Testing
import DataflowScheduler

/// Counts how often each task ran, for graphs whose bodies are built per task index.
final class RunCounts: Sendable {
    let counts: [Atomic<Int>.Box]
    init(_ n: Int) { counts = (0..<n).map { _ in Atomic<Int>.Box() } }
    func body(_ i: Int) -> @Sendable () throws -> Void { { [self] in counts[i].value.wrappingAdd(1, ordering: .relaxed) } }
    var values: [Int] { counts.map { $0.value.load(ordering: .relaxed) } }
}

extension Atomic where Value == Int {
    final class Box: Sendable {
        let value = Atomic<Int>(0)
    }
}

/// Every code path of `dataflow-bench sched` at small sizes: the shapes it builds, re-run
/// and build+run on 1 and 2 workers, the 10-task graph, and the DispatchGroup baseline.
@Suite struct BenchmarkShapeTests {
    @Test(arguments: BenchmarkShape.allCases, [1, 2])
    func shapeRunsEveryTaskOncePerRun(shape: BenchmarkShape, workers: Int) throws {
        let executor = Executor(workers: workers)
        for size in [1, 4, 17, 100, 1000] {
            let n = shape.taskCount(size: size)
            let counter = Counter()
            let graph = shape.build(size: size) { counter.add() }
            #expect(graph.count == n)
            try executor.run(graph)                        // build+run
            try executor.run(graph)                        // re-run
            #expect(counter.value == 2 * n, "\(shape) size \(size)")
        }
    }

    @Test(arguments: BenchmarkShape.allCases)
    func shapeHasTheDocumentedEdges(shape: BenchmarkShape) throws {
        let g = shape.build(size: 100) {}
        try g.validate()
        for t in g.tasks {
            let preds = g.predecessors(of: t).map(\.index)
            let i = t.index
            switch shape {
            case .chain: #expect(preds == (i > 0 ? [i - 1] : []))
            case .independent: #expect(preds.isEmpty)
            case .wavefront: #expect(Set(preds) == Set([i >= 10 ? i - 10 : nil, i % 10 > 0 ? i - 1 : nil].compactMap { $0 }))
            case .tree: #expect(preds == (i > 0 ? [(i - 1) / 2] : []))
            }
            for p in preds { #expect(g.successors(of: TaskID(index: p)).contains(t)) }
        }
        #expect(BenchmarkShape.tree.taskCount(size: 1_000_000) == (1 << 20) - 1)
        #expect(BenchmarkShape.wavefront.taskCount(size: 1_000_000) == 1_000_000)
    }

    @Test(arguments: [1, 2])
    func fanOutFanInRunsTenTasksInOrder(workers: Int) throws {
        let log = RunLog(count: 10)
        var g = BenchmarkShape.fanOutFanIn(width: 8) {}
        #expect(g.count == 10 && g.dependencyCount == 16)
        // Same structure with logging bodies.
        g = TaskGraph()
        let source = g.addTask("source", log.body(0, preds: []))
        var mids: [TaskID] = []
        for i in 1...8 { let t = g.addTask("mid", log.body(i, preds: [0])); g.addDependency(source, t); mids.append(t) }
        let sink = g.addTask("sink", log.body(9, preds: Array(1...8)))
        for t in mids { g.addDependency(t, sink) }
        try Executor(workers: workers).run(g)
        #expect(log.violations(g).isEmpty)
    }

    @Test(arguments: BenchmarkShape.allCases, [1, 2])
    func dispatchBaselineRunsEveryTaskOnce(shape: BenchmarkShape, workers: Int) {
        let n = shape.taskCount(size: 300)
        let counts = RunCounts(n)
        var g = TaskGraph()
        let template = shape.build(size: 300) {}
        for i in 0..<n { g.addTask("t", counts.body(i)) }
        for t in template.tasks { for p in template.predecessors(of: t) { g.addDependency(p, t) } }
        let seconds = DispatchGroupBaseline(g).run(workers: workers)
        #expect(seconds >= 0)
        #expect(counts.values == [Int](repeating: 1, count: n))
    }

    /// The baseline used to release a long chain recursively on a Dispatch thread and
    /// overflow its stack (SIGSEGV in `dataflow-bench sched` about every other run).
    @Test(arguments: [1, 2])
    func dispatchBaselineSurvivesALongChain(workers: Int) {
        let graph = BenchmarkShape.chain.build(size: 300_000) {}
        let baseline = DispatchGroupBaseline(graph)
        for _ in 0..<2 { baseline.run(workers: workers) }
    }
}

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
