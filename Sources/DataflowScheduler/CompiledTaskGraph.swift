import Synchronization

/// The executor's view of one version of a `TaskGraph`: flat, immutable arrays.
///
/// Goals, in order: (1) detect cycles and bad ids once, not per run; (2) make a run
/// touch only contiguous `Int32` arrays (successors in CSR form, predecessor offsets,
/// the root list); (3) encode the priority policy in the order of those arrays so the
/// hot path never sorts: each successor list is sorted by ascending (priority, −id), so
/// the last successor to become ready is the best one and is the one run inline; the
/// roots are sorted by descending (priority, −id), so they are taken best first.
///
/// Compiled for an executor, the arrays come from and go back to its
/// `StorageRecycler`, so building and running one fresh graph after another reuses
/// memory that is already mapped instead of faulting in new pages each time.
final class CompiledTaskGraph: Sendable {
    let count: Int
    let edgeCount: Int
    let bodies: [TaskBody]
    /// The graph's edge array, kept so that `key` names this version exactly (see
    /// `TaskGraph.VersionKey`); `bodies` is the graph's task array.
    let edges: [TaskGraph.Edge]
    /// The version of the graph this was compiled from.
    var key: TaskGraph.VersionKey { TaskGraph.VersionKey(bodies: bodies, edges: edges) }
    /// `successors[successorStart[i]..<successorStart[i+1]]` are task i's successors.
    let successorStart: [Int32]
    let successors: [Int32]
    /// `predecessors[predecessorStart[i]..<predecessorStart[i+1]]` are task i's
    /// predecessors; the difference of two neighbours is a task's in-degree.
    let predecessorStart: [Int32]
    let predecessors: [Int32]
    /// Tasks with no predecessors, best first.
    let roots: [Int32]
    /// Why the graph cannot run (a cycle or a bad id), found once.
    let error: SchedulerError?
    /// A spare join-counter buffer, reused by the next run when no run holds it.
    let spareCounters = SpareCounters()
    /// Where the arrays came from and go back to on deinit (nil: plain allocation).
    let recycler: StorageRecycler?

    /// Per task: the number of predecessors (computed; the run uses `predecessorStart`).
    var inDegree: [Int32] {
        (0..<count).map { predecessorStart[$0 + 1] &- predecessorStart[$0] }
    }

    init(_ s: TaskGraph, recycler: StorageRecycler? = nil) {
        let n = s.count
        precondition(n < Int(Int32.max), "a task graph holds at most \(Int32.max - 1) tasks")
        self.recycler = recycler
        var spare = recycler?.take() ?? StorageRecycler.Arrays()
        count = n
        edgeCount = s.edgeList.count
        bodies = s.bodies
        let edges = s.edgeList
        self.edges = edges

        // Bad ids first: they are reported, and the edges are left out of the structure.
        // Only scanned for when the running summary says some id is out of range.
        var badEdge: Int? = nil
        if s.edges.firstUnrepresentable != nil || Int(s.edges.maxID) >= n {
            for e in 0..<edgeCount where !(0..<Int32(n)).contains(edges[e].from) || !(0..<Int32(n)).contains(edges[e].to) {
                badEdge = e
                break
            }
        }
        let priorities = s.priorities
        let uniform = priorities.isEmpty || priorities.allSatisfy { $0 == priorities[0] }

        // Degrees: out-degrees counted into succStart[i], in-degrees into predStart[i + 1]
        // (prefix-summed below).
        var succStart = spare.successorStart
        var predStart = spare.predecessorStart
        StorageRecycler.zero(&succStart, count: n + 1)
        StorageRecycler.zero(&predStart, count: n + 1)
        // The hot loops write through spans: bounds-checked like the arrays, but a
        // `var` array subscripted in a loop costs a runtime uniqueness check per write
        // (measured: two calls per edge here, most of the compile), a span one per loop.
        if badEdge == nil {
            var p = predStart.mutableSpan, q = succStart.mutableSpan
            let es = edges.span
            for e in 0..<es.count {
                let edge = es[e]
                p[Int(edge.to) + 1] &+= 1
                q[Int(edge.from)] &+= 1
            }
        } else {
            for e in 0..<edgeCount where (0..<Int32(n)).contains(edges[e].from) && (0..<Int32(n)).contains(edges[e].to) {
                predStart[Int(edges[e].to) + 1] &+= 1
                succStart[Int(edges[e].from)] &+= 1
            }
        }
        var roots = spare.roots
        roots.removeAll(keepingCapacity: true)
        let sortedFastPath = uniform && s.edges.targetsSorted && badEdge == nil
        // Roots in id order for the fast path, found during the prefix sum.
        do {
            var p = predStart.mutableSpan
            for i in 0..<n {
                let d = p[i + 1]
                if sortedFastPath && d == 0 { roots.append(Int32(truncatingIfNeeded: i)) }
                p[i + 1] = p[i] &+ d
            }
        }
        let validEdges = Int(predStart[n])

        var preds = spare.predecessors
        var succs = spare.successors
        StorageRecycler.resize(&succs, count: validEdges)
        spare = StorageRecycler.Arrays()
        if sortedFastPath {
            // The common case (every task's dependencies added with it, one priority):
            // the sources of the edge list sorted by target *are* the predecessor CSR
            // (copied out in the same pass), and filling each successor list from its
            // end, in edge order, leaves it in descending id order, which is ascending
            // (priority, −id) for equal priorities.
            StorageRecycler.resize(&preds, count: edgeCount)
            var q = succStart.mutableSpan, out = succs.mutableSpan, pr = preds.mutableSpan
            let es = edges.span
            var end: Int32 = 0
            for i in 0..<n {
                end &+= q[i]
                q[i] = end
            }
            q[n] = end
            for e in 0..<es.count {
                let edge = es[e]
                let f = Int(edge.from)
                pr[e] = edge.from
                q[f] &-= 1
                out[Int(q[f])] = edge.to
            }
        } else {
            // The order in which a successor list should be filled: ascending (priority, −id).
            var order: [Int32]
            if uniform {
                order = (0..<Int32(n)).reversed()
            } else {
                order = Array(0..<Int32(n))
                order.sort { a, b in
                    let pa = priorities[Int(a)], pb = priorities[Int(b)]
                    return pa != pb ? pa < pb : a > b
                }
            }
            // Predecessor CSR (counting sort by target), then successor CSR filled by
            // walking targets in `order`, which sorts each successor list by the policy.
            var outStart = [Int32](repeating: 0, count: n + 1)
            for i in 0..<n { outStart[i + 1] = outStart[i] &+ succStart[i] }
            succStart = outStart
            StorageRecycler.resize(&preds, count: validEdges)
            var fill = Array(predStart.dropLast())
            for e in 0..<edgeCount {
                let f = edges[e].from, t = edges[e].to
                guard (0..<Int32(n)).contains(f), (0..<Int32(n)).contains(t) else { continue }
                preds[Int(fill[Int(t)])] = f
                fill[Int(t)] += 1
            }
            fill = Array(succStart.dropLast())
            for t in order {
                for k in Int(predStart[Int(t)])..<Int(predStart[Int(t) + 1]) {
                    let f = Int(preds[k])
                    succs[Int(fill[f])] = t
                    fill[f] += 1
                }
            }
            for t in order.reversed() where predStart[Int(t) + 1] == predStart[Int(t)] { roots.append(t) }
        }

        successorStart = succStart
        successors = succs
        predecessorStart = predStart
        predecessors = preds
        self.roots = roots

        if let e = badEdge {
            var f = Int(edges[e].from), t = Int(edges[e].to)
            if let u = s.edges.firstUnrepresentable, u.edge == e { (f, t) = (u.from, u.to) }
            let which = (0..<n).contains(f) ? t : f
            error = SchedulerError(.invalidTaskID,
                                   "dependency #\(e) (\(f) → \(t)) refers to task #\(which), but the graph has \(n) tasks (ids 0..<\(n))")
        } else if s.edges.forward {
            error = nil  // every edge goes from a lower id to a higher one: no cycle
        } else {
            let inDeg = (0..<n).map { predStart[$0 + 1] &- predStart[$0] }
            error = CompiledTaskGraph.findCycle(names: s.names, inDegree: inDeg, successorStart: succStart, successors: succs,
                                                predecessorStart: predStart, predecessors: preds)
        }
    }

    deinit {
        guard let recycler else { return }
        recycler.give(StorageRecycler.Arrays(successorStart: successorStart, predecessorStart: predecessorStart,
                                             successors: successors, predecessors: predecessors, roots: roots,
                                             counters: spareCounters.take()))
    }

    func successorIDs(of i: Int) -> [Int] {
        (Int(successorStart[i])..<Int(successorStart[i + 1])).map { Int(successors[$0]) }.sorted()
    }

    func predecessorIDs(of i: Int) -> [Int] {
        (Int(predecessorStart[i])..<Int(predecessorStart[i + 1])).map { Int(predecessors[$0]) }
    }
}

extension CompiledTaskGraph {
    /// Holds at most one join-counter buffer between runs, so back-to-back re-runs of a
    /// graph allocate nothing; concurrent runs of the same graph allocate their own.
    final class SpareCounters: Sendable {
        private let slot = Lock<_UnsafeAtomicInt32Buffer?>(nil)

        func take() -> _UnsafeAtomicInt32Buffer? { slot.withLock { s in let b = s; s = nil; return b } }

        func give(_ buffer: _UnsafeAtomicInt32Buffer) { slot.withLock { s in if s == nil { s = buffer } } }
    }
}
