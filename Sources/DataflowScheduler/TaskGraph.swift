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
    @usableFromInline var storage: Storage

    /// Makes an empty graph.
    public init() { storage = Storage() }

    /// The number of tasks.
    public var count: Int { storage.names.count }

    /// The number of dependency edges added (duplicates included).
    public var dependencyCount: Int { storage.edgeFrom.count }

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
        makeUnique()
        let id = TaskID(index: storage.names.count)
        storage.names.append(name)
        storage.priorities.append(priority)
        storage.costs.append(cost)
        storage.kinds.append(kind)
        storage.bodies.append(body)
        return id
    }

    /// Makes `after` run only once `before` has finished.
    ///
    /// Ids are checked by `validate()` (and by `Executor.run`), not here, so that a bad
    /// id produces a thrown error rather than a trap. Duplicate edges are allowed.
    /// - Complexity: Amortised O(1).
    public mutating func addDependency(_ before: TaskID, _ after: TaskID) {
        makeUnique()
        storage.edgeFrom.append(before.index)
        storage.edgeTo.append(after.index)
    }

    /// The name given to `task`.
    public func name(of task: TaskID) -> String { storage.names[checked(task)] }
    /// The priority given to `task`.
    public func priority(of task: TaskID) -> Int { storage.priorities[checked(task)] }
    /// The kind tag given to `task`.
    public func kind(of task: TaskID) -> Int { storage.kinds[checked(task)] }
    /// The cost hint given to `task`.
    public func cost(of task: TaskID) -> Double { storage.costs[checked(task)] }

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

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy()
        }
    }

    /// The flat arrays for this version of the graph, built on first use and cached.
    func structure() -> CompiledTaskGraph {
        storage.compiled()
    }
}

extension TaskGraph {
    /// The copy-on-write storage: plain arrays, mutated only while uniquely referenced,
    /// plus the cache of the compiled form.
    @usableFromInline
    final class Storage: @unchecked Sendable {
        // @unchecked: the arrays are mutated only through `TaskGraph`'s mutating methods,
        // after `isKnownUniquelyReferenced` proved no other value (hence no other thread)
        // can see this object; shared instances are only read. The cache has its own lock.
        var names: [String] = []
        var priorities: [Int] = []
        var costs: [Double] = []
        var kinds: [Int] = []
        var bodies: [@Sendable () throws -> Void] = []
        var edgeFrom: [Int] = []
        var edgeTo: [Int] = []
        /// Keyed by (task count, edge count): the graph only grows, so the pair names a
        /// version exactly and mutation never needs to invalidate it.
        private let cache = Mutex<CompiledTaskGraph?>(nil)

        init() {}

        func copy() -> Storage {
            let s = Storage()
            s.names = names
            s.priorities = priorities
            s.costs = costs
            s.kinds = kinds
            s.bodies = bodies
            s.edgeFrom = edgeFrom
            s.edgeTo = edgeTo
            return s
        }

        func compiled() -> CompiledTaskGraph {
            cache.withLock { cached in
                if let c = cached, c.count == names.count, c.edgeCount == edgeFrom.count {
                    return c
                }
                let c = CompiledTaskGraph(self)
                cached = c
                return c
            }
        }
    }
}
