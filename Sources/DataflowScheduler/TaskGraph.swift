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
    /// Names as runs: `nameTable[r]` names tasks `nameStarts[r]..<nameStarts[r + 1]` (the
    /// last run extends to `count`). Consecutive tasks with the same name share one
    /// run, so a graph of like-named tasks stores nothing per task for names, and its
    /// release has no string to destroy per task; `name(of:)` is a binary search.
    var nameStarts: [Int32] = []
    var nameTable: [String] = []
    /// The number of tasks (kept apart: `bodies.count` would cost a load through the
    /// array's buffer on every append).
    private(set) var taskCount = 0
    var bodies: [TaskBody] = []
    // Optional attributes are stored sparsely: an array stays empty while every task
    // has the default (0) and holds one value per task from the first task that does
    // not. Graphs of plain tasks then write 32 bytes per task instead of 72, and a
    // uniform priority is known without a scan (`priorities.isEmpty`).
    var priorities: [Int] = []
    var costs: [Double] = []
    var byteCounts: [Int] = []
    var kinds: [Int] = []
    /// Dependencies as pairs of 32-bit ids in one array (a graph holds fewer than 2³¹ − 1
    /// tasks; one append per edge instead of two: each append of a Swift array checks
    /// that its buffer is unique); an id that can never be valid (negative or too large)
    /// is stored as −1 and kept in `edges.firstUnrepresentable` for the error message.
    var edgeList: [Edge] = []
    /// What the edges added so far look like, so compiling can take a fast path.
    var edges = EdgeSummary()
    /// The compiled form of the last version compiled, shared by copies. Mutations do not
    /// touch it (a uniqueness check per `addTask`/`addDependency` cost about half of
    /// building a graph); instead the cached form is used only for the exact version it
    /// was compiled from (see `VersionKey`).
    private var cache = CompiledCache()

    /// Makes an empty graph.
    public init() {}

    /// The number of tasks.
    public var count: Int { taskCount }

    /// The number of dependency edges added (duplicates included).
    public var dependencyCount: Int { edgeList.count }

    /// Every task id, in insertion order.
    public var tasks: [TaskID] { (0..<count).map(TaskID.init(index:)) }

    /// Adds a task and returns its id (the next dense index).
    ///
    /// ```swift
    /// var graph = TaskGraph()
    /// let tile = graph.addTask("tile 0", priority: 3, cost: 2e-4, bytes: 1 << 20) { /* … */ }
    /// ```
    /// - Parameters:
    ///   - name: A readable name, used in errors and traces.
    ///   - priority: Higher runs first among ready tasks (the compiler passes
    ///     critical-path ranks). Ties go to the lower id.
    ///   - cost: A duration hint in seconds, used by `ScheduleSimulator` when no
    ///     measurement exists.
    ///   - bytes: An estimate of the bytes the task moves to and from main memory (reads
    ///     plus writes that miss the caches), used by `ScheduleSimulator`'s bandwidth
    ///     model; 0 (the default) means "no memory traffic worth modelling".
    ///   - kind: A small user tag, e.g. to colour traces.
    ///   - body: The work. A thrown error cancels the rest of the run and is rethrown by
    ///     `Executor.run`.
    /// - Returns: The new task's id.
    /// - Complexity: Amortised O(1).
    @discardableResult
    public mutating func addTask(
        _ name: String, priority: Int = 0, cost: Double = 0, bytes: Int = 0, kind: Int = 0,
        _ body: @escaping @Sendable () throws -> Void
    ) -> TaskID {
        let index = taskCount
        if nameTable.isEmpty || nameTable[nameTable.count - 1] != name { appendNameRun(name, at: index) }
        bodies.append(TaskBody(run: body))
        taskCount = index + 1
        if priority != 0 || !priorities.isEmpty { TaskGraph.appendSparse(priority, to: &priorities, index: index) }
        if cost != 0 || !costs.isEmpty { TaskGraph.appendSparse(cost, to: &costs, index: index) }
        if bytes != 0 || !byteCounts.isEmpty { TaskGraph.appendSparse(bytes, to: &byteCounts, index: index) }
        if kind != 0 || !kinds.isEmpty { TaskGraph.appendSparse(kind, to: &kinds, index: index) }
        return TaskID(index: index)
    }

    @inline(never)
    private mutating func appendNameRun(_ name: String, at index: Int) {
        nameTable.append(name)
        nameStarts.append(Int32(truncatingIfNeeded: index))
    }

    /// Appends task `index`'s value to a sparse attribute, first filling in the default
    /// for the tasks before it if the attribute was still empty.
    @inline(never)
    private static func appendSparse<T: Numeric>(_ value: T, to array: inout [T], index: Int) {
        if array.isEmpty {
            array.reserveCapacity(Swift.max(index + 1, 2 * index))
            array.append(contentsOf: repeatElement(0, count: index))
        }
        array.append(value)
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
        bodies.reserveCapacity(tasks)
        edgeList.reserveCapacity(dependencies)
    }

    /// Removes every task and dependency, keeping the storage for the next graph when
    /// `keepingCapacity` is true: a program that builds a fresh graph every step (a
    /// dynamic graph) then appends into memory it already touched instead of faulting
    /// in new pages.
    ///
    /// ```swift
    /// var graph = TaskGraph()
    /// for step in steps {
    ///     graph.removeAll(keepingCapacity: true)
    ///     for op in step.ops { graph.addTask(op.name, op.run) }
    ///     try executor.run(graph)
    /// }
    /// ```
    /// The compiled form of the old graph is dropped first, so the arrays it shared
    /// with this value are unique again and are reused in place (copies of the graph made
    /// earlier keep their own tasks). The executor keeps its run-time arrays separately
    /// (see `Executor`).
    /// - Complexity: O(tasks) (the closures are released).
    public mutating func removeAll(keepingCapacity: Bool = false) {
        cache = CompiledCache()
        nameStarts.removeAll(keepingCapacity: keepingCapacity)
        nameTable.removeAll(keepingCapacity: keepingCapacity)
        bodies.removeAll(keepingCapacity: keepingCapacity)
        priorities.removeAll(keepingCapacity: keepingCapacity)
        costs.removeAll(keepingCapacity: keepingCapacity)
        byteCounts.removeAll(keepingCapacity: keepingCapacity)
        kinds.removeAll(keepingCapacity: keepingCapacity)
        edgeList.removeAll(keepingCapacity: keepingCapacity)
        edges = EdgeSummary()
        taskCount = 0
    }

    /// Makes `after` run only once `before` has finished.
    ///
    /// Ids are checked by `validate()` (and by `Executor.run`), not here, so that a bad
    /// id produces a thrown error rather than a trap. Duplicate edges are allowed.
    /// - Complexity: Amortised O(1).
    public mutating func addDependency(_ before: TaskID, _ after: TaskID) {
        let f = before.index, t = after.index
        if f >= 0 && f < Int(Int32.max) && t >= 0 && t < Int(Int32.max) {
            let f32 = Int32(truncatingIfNeeded: f), t32 = Int32(truncatingIfNeeded: t)
            edges.note(from: f32, to: t32)
            edgeList.append(Edge(from: f32, to: t32))
        } else {
            if edges.firstUnrepresentable == nil { edges.firstUnrepresentable = (edgeList.count, f, t) }
            edges.note(from: -1, to: -1)
            edgeList.append(Edge(from: -1, to: -1))
        }
    }

    /// The name given to `task`.
    public func name(of task: TaskID) -> String {
        let i = Int32(truncatingIfNeeded: checked(task))
        // The last run starting at or before i.
        var lo = 0, hi = nameStarts.count
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if nameStarts[mid] <= i { lo = mid } else { hi = mid }
        }
        return nameTable[lo]
    }

    /// Every task's name, indexed by `TaskID.index`.
    var names: [String] {
        var out: [String] = []
        out.reserveCapacity(count)
        for r in nameTable.indices {
            let end = r + 1 < nameStarts.count ? Int(nameStarts[r + 1]) : count
            out.append(contentsOf: repeatElement(nameTable[r], count: end - Int(nameStarts[r])))
        }
        return out
    }
    /// The priority given to `task`.
    public func priority(of task: TaskID) -> Int { let i = checked(task); return priorities.isEmpty ? 0 : priorities[i] }
    /// The kind tag given to `task`.
    public func kind(of task: TaskID) -> Int { let i = checked(task); return kinds.isEmpty ? 0 : kinds[i] }
    /// The cost hint given to `task`, in seconds.
    public func cost(of task: TaskID) -> Double { let i = checked(task); return costs.isEmpty ? 0 : costs[i] }
    /// The estimate of bytes moved to and from main memory given to `task`.
    public func bytes(of task: TaskID) -> Int { let i = checked(task); return byteCounts.isEmpty ? 0 : byteCounts[i] }

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

    /// The flat arrays for this version of the graph, built on first use and cached.
    func structure() -> CompiledTaskGraph {
        cache.compiled(for: self, recycler: nil)
    }

    /// The same, compiled (if not yet) into arrays recycled from `recycler`.
    func structure(recycler: StorageRecycler) -> CompiledTaskGraph {
        cache.compiled(for: self, recycler: recycler)
    }
}

extension TaskGraph {
    /// Facts about the edges, kept up to date by `addDependency` at the cost of a few
    /// compares, that let `CompiledTaskGraph` skip work for the common way graphs are
    /// built (each task's dependencies added when the task is, on earlier tasks).
    struct EdgeSummary: Sendable {
        /// Every edge goes from a lower id to a higher one: no cycle is possible.
        var forward = true
        /// Edge targets never decrease in insertion order: the edge list is already
        /// sorted by target, i.e. it is the predecessor lists back to back.
        var targetsSorted = true
        /// The largest target so far (−1: none).
        var lastTarget: Int32 = -1
        /// The largest id named by any edge (−1: none).
        var maxID: Int32 = -1
        /// The first edge naming an id that does not fit in 32 bits or is negative.
        var firstUnrepresentable: (edge: Int, from: Int, to: Int)? = nil

        @inline(__always)
        mutating func note(from f: Int32, to t: Int32) {
            if f >= t { forward = false }
            if t < lastTarget { targetsSorted = false } else { lastTarget = t }
            maxID = Swift.max(maxID, Swift.max(f, t))
        }
    }

    /// One dependency: `to` runs after `from`.
    struct Edge: Sendable {
        var from: Int32
        var to: Int32
    }

    /// Names one version of a graph's contents without looking at them: the task and
    /// edge counts and the addresses of the arrays that hold the tasks and the edges.
    ///
    /// Why it is exact: the compiled form keeps these two arrays alive, so while it is
    /// cached their buffers can be neither freed (no other buffer takes their address)
    /// nor mutated in place (a shared array copies on its next append). A graph whose
    /// arrays have those addresses and counts therefore holds exactly the tasks and edges
    /// that were compiled; every mutation either appends to one of these arrays (which
    /// then gets a new buffer) or is `removeAll`, which replaces the cache. Two copies
    /// that diverged after sharing the cache thus never take each other's compiled form
    /// (they may take turns recompiling, which is correct, only slower).
    struct VersionKey: Equatable, Sendable {
        var count: Int
        var edgeCount: Int
        var bodies: UInt
        var edges: UInt

        init(_ g: TaskGraph) {
            count = g.taskCount
            edgeCount = g.edgeList.count
            bodies = VersionKey.address(g.bodies)
            edges = VersionKey.address(g.edgeList)
        }

        init(bodies b: [TaskBody], edges e: [Edge]) {
            count = b.count
            edgeCount = e.count
            bodies = VersionKey.address(b)
            edges = VersionKey.address(e)
        }

        @inline(__always)
        static func address<T>(_ a: [T]) -> UInt {
            a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        }
    }

    /// Holds the compiled form of one graph version.
    final class CompiledCache: Sendable {
        private let slot = Lock<CompiledTaskGraph?>(nil)

        func compiled(for graph: TaskGraph, recycler: StorageRecycler?) -> CompiledTaskGraph {
            let key = VersionKey(graph)
            return slot.withLock { cached in
                if let c = cached, c.key == key {
                    return c
                }
                // Drop the old version first, so its arrays can go back to its recycler.
                cached = nil
                let c = CompiledTaskGraph(graph, recycler: recycler)
                cached = c
                return c
            }
        }
    }
}
