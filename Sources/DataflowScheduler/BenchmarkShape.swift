import Foundation

/// The four DAG shapes used to measure scheduler overhead (`dataflow-bench sched` and
/// the peer harness in `Benchmarks/peers/sched`, which builds the same shapes in C++).
///
/// Kept in the library, not in the benchmark executable, so that tests can check that
/// every shape the benchmark runs is built and run correctly at small sizes.
///
/// ```swift
/// let graph = BenchmarkShape.wavefront.build(size: 10_000) {}   // 100 × 100 grid
/// try Executor(workers: 2).run(graph)
/// ```
public enum BenchmarkShape: String, CaseIterable, Sendable {
    /// Task i depends on task i − 1.
    case chain
    /// No dependencies at all.
    case independent
    /// A √size × √size grid; cell (i, j) depends on (i − 1, j) and (i, j − 1).
    case wavefront
    /// A complete binary tree of 2^⌊log2(size + 1)⌉ − 1 tasks; task i depends on its
    /// parent (i − 1) / 2.
    case tree

    /// The number of tasks `build(size:body:)` makes for `size`.
    public func taskCount(size: Int) -> Int {
        switch self {
        case .chain, .independent: return max(0, size)
        case .wavefront:
            let side = max(1, Int(Double(max(size, 1)).squareRoot()))
            return side * side
        case .tree: return (1 << BenchmarkShape.treeLevels(size)) - 1
        }
    }

    /// The shape with about `size` tasks (see `taskCount(size:)`), each running `body`.
    ///
    /// Every task's dependencies are added right after it, on earlier tasks, and all
    /// tasks share one priority: the way most graphs are built.
    /// - Complexity: O(size).
    public func build(size: Int, body: @escaping @Sendable () throws -> Void) -> TaskGraph {
        var g = TaskGraph()
        build(into: &g, size: size, body: body)
        return g
    }

    /// The same shape built into `graph` after `graph.removeAll(keepingCapacity: true)`:
    /// a program that rebuilds its graph every step reuses the graph's storage.
    ///
    /// ```swift
    /// var g = TaskGraph()
    /// for _ in 0..<steps {
    ///     BenchmarkShape.chain.build(into: &g, size: 10_000) {}
    ///     try executor.run(g)
    /// }
    /// ```
    public func build(into g: inout TaskGraph, size: Int, body: @escaping @Sendable () throws -> Void) {
        g.removeAll(keepingCapacity: true)
        let n = taskCount(size: size)
        switch self {
        case .chain:
            g.reserveCapacity(tasks: n, dependencies: n)
            for i in 0..<n {
                let t = g.addTask("c", body)
                if i > 0 { g.addDependency(TaskID(index: i - 1), t) }
            }
        case .independent:
            g.reserveCapacity(tasks: n, dependencies: 0)
            for _ in 0..<n { g.addTask("i", body) }
        case .wavefront:
            let side = Int(Double(n).squareRoot())
            g.reserveCapacity(tasks: n, dependencies: 2 * n)
            for i in 0..<side {
                for j in 0..<side {
                    let t = g.addTask("w", body)
                    if i > 0 { g.addDependency(TaskID(index: t.index - side), t) }
                    if j > 0 { g.addDependency(TaskID(index: t.index - 1), t) }
                }
            }
        case .tree:
            g.reserveCapacity(tasks: n, dependencies: n)
            for i in 0..<n {
                let t = g.addTask("b", body)
                if i > 0 { g.addDependency(TaskID(index: (i - 1) / 2), t) }
            }
        }
    }

    /// Levels of the tree for `size`: 20 for the default 10⁶ (2²⁰ − 1 tasks).
    static func treeLevels(_ size: Int) -> Int {
        max(1, Int(Foundation.log2(Double(max(size, 1) + 1)).rounded()))
    }

    /// The latency graph: a source, `width` tasks in parallel, a sink (10 tasks for the
    /// default width of 8).
    public static func fanOutFanIn(width: Int = 8, body: @escaping @Sendable () throws -> Void) -> TaskGraph {
        var graph = TaskGraph()
        let source = graph.addTask("source", body)
        var middle: [TaskID] = []
        for i in 0..<width {
            let t = graph.addTask("mid\(i)", body)
            graph.addDependency(source, t)
            middle.append(t)
        }
        let sink = graph.addTask("sink", body)
        for t in middle { graph.addDependency(t, sink) }
        return graph
    }
}
