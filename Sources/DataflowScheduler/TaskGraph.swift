import Synchronization

/// A directed acyclic graph of named closures: built once, run many times.
///
/// `TaskGraph` is a value with copy-on-write storage. Adding tasks and dependencies only
/// appends; the flat successor arrays, in-degrees and root list that the executor needs
/// are computed once per graph version and cached, so re-running a graph costs O(tasks)
/// atomic stores and no allocation per task.
///
/// ```swift
/// var graph = TaskGraph()
/// let load = graph.addTask("load") { print("load") }
/// let use = graph.addTask("use", priority: 1) { print("use") }
/// graph.addDependency(load, use)        // `use` runs after `load`
/// try Executor(workers: 2).run(graph)
/// ```
public struct TaskGraph: Sendable {
    // Plain arrays: each is copy-on-write by itself, and mutating a struct's stored
    // array needs no runtime exclusivity check (a class's `var` would, on every append).
    var names: [String] = []
    var priorities: [Int] = []
    var costs: [Double] = []
    var kinds: [Int] = []
    var bodies: [TaskBody] = []
    var edgeFrom: [Int] = []
    var edgeTo: [Int] = []
    /// The compiled form of this version, shared by copies until one of them mutates.
    private var cache = CompiledCache()

    /// Makes an empty graph.
    public init() {}

    /// The number of tasks.
    public var count: Int { names.count }

    /// The number of dependency edges added (duplicates included).
    public var dependencyCount: Int { edgeFrom.count }

    /// Every task id, in insertion order.
    public var tasks: [TaskID] { (0..<count).map(TaskID.init(index:)) }

    /// Adds a task and returns its id (the next dense index).
    ///
    /// - Parameters:
    ///   - name: A readable name, used in errors and traces.
    ///   - priority: Higher runs first among ready tasks (the compiler passes
    ///     critical-path ranks). Ties go to the lower id.
    ///   - cost: A duration hint in seconds, used by `ScheduleSimulator` when no
    ///     measurement exists.
    ///   - kind: A small user tag, e.g. to colour traces.
    ///   - body: The work. A thrown error cancels the rest of the run and is rethrown by
    ///     `Executor.run`.
    /// - Returns: The new task's id.
    /// - Complexity: Amortised O(1).
    @discardableResult
    public mutating func addTask(
        _ name: String, priority: Int = 0, cost: Double = 0, kind: Int = 0,
        _ body: @escaping @Sendable () throws -> Void
    ) -> TaskID {
        detachCache()
        let id = TaskID(index: names.count)
        names.append(name)
        priorities.append(priority)
        costs.append(cost)
        kinds.append(kind)
        bodies.append(TaskBody(run: body))
        return id
    }

    /// Reserves room for `tasks` tasks and `dependencies` edges in total, so building a
    /// large graph does not reallocate its arrays as it grows.
    ///
    /// ```swift
    /// var graph = TaskGraph()
    /// graph.reserveCapacity(tasks: 1_000_000, dependencies: 2_000_000)
    /// ```
    /// - Complexity: O(capacity) at most.
    public mutating func reserveCapacity(tasks: Int, dependencies: Int) {
        detachCache()
        names.reserveCapacity(tasks)
        priorities.reserveCapacity(tasks)
        costs.reserveCapacity(tasks)
        kinds.reserveCapacity(tasks)
        bodies.reserveCapacity(tasks)
        edgeFrom.reserveCapacity(dependencies)
        edgeTo.reserveCapacity(dependencies)
    }

    /// Makes `after` run only once `before` has finished.
    ///
    /// Ids are checked by `validate()` (and by `Executor.run`), not here, so that a bad
    /// id produces a thrown error rather than a trap. Duplicate edges are allowed.
    /// - Complexity: Amortised O(1).
    public mutating func addDependency(_ before: TaskID, _ after: TaskID) {
        detachCache()
        edgeFrom.append(before.index)
        edgeTo.append(after.index)
    }

    /// The name given to `task`.
    public func name(of task: TaskID) -> String { names[checked(task)] }
    /// The priority given to `task`.
    public func priority(of task: TaskID) -> Int { priorities[checked(task)] }
    /// The kind tag given to `task`.
    public func kind(of task: TaskID) -> Int { kinds[checked(task)] }
    /// The cost hint given to `task`.
    public func cost(of task: TaskID) -> Double { costs[checked(task)] }

    /// The tasks that depend directly on `task`, in insertion order of the edges' targets
    /// by ascending id (duplicates kept).
    /// - Complexity: O(out-degree) after a one-time O(tasks + edges) preparation.
    public func successors(of task: TaskID) -> [TaskID] {
        let c = structure()
        let i = checked(task)
        return c.successorIDs(of: i).map(TaskID.init(index:))
    }

    /// The tasks that `task` depends on directly (duplicates kept).
    /// - Complexity: O(in-degree) after a one-time O(tasks + edges) preparation.
    public func predecessors(of task: TaskID) -> [TaskID] {
        let c = structure()
        let i = checked(task)
        return c.predecessorIDs(of: i).map(TaskID.init(index:))
    }

    private func checked(_ task: TaskID) -> Int {
        precondition(task.index >= 0 && task.index < count, "task \(task) is not in this graph of \(count) tasks")
        return task.index
    }

    /// A copy that is about to diverge gets its own cache (copies share one until then,
    /// and the cache is keyed by sizes, which two diverged copies may share).
    @inline(__always)
    private mutating func detachCache() {
        if !isKnownUniquelyReferenced(&cache) {
            cache = CompiledCache()
        }
    }

    /// The flat arrays for this version of the graph, built on first use and cached.
    func structure() -> CompiledTaskGraph {
        cache.compiled(for: self)
    }
}

extension TaskGraph {
    /// Holds the compiled form of one graph version.
    final class CompiledCache: Sendable {
        /// Keyed by (task count, edge count): a graph only grows, and a copy that
        /// diverges gets a fresh cache, so the pair names a version exactly.
        private let slot = Lock<CompiledTaskGraph?>(nil)

        func compiled(for graph: TaskGraph) -> CompiledTaskGraph {
            slot.withLock { cached in
                if let c = cached, c.count == graph.count, c.edgeCount == graph.edgeFrom.count {
                    return c
                }
                let c = CompiledTaskGraph(graph)
                cached = c
                return c
            }
        }
    }
}
