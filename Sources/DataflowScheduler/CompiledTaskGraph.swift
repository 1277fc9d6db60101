import Synchronization

/// The executor's view of one version of a `TaskGraph`: flat, immutable arrays.
///
/// Goals, in order: (1) detect cycles and bad ids once, not per run; (2) make a run
/// touch only contiguous `Int32`/`Int` arrays (successors in CSR form, in-degrees, the
/// root list); (3) encode the priority policy in the order of those arrays so the hot
/// path never sorts: each successor list is sorted by ascending (priority, −id), so the
/// last successor to become ready is the best one and is the one run inline; the roots
/// are sorted by descending (priority, −id), so they are taken best first.
final class CompiledTaskGraph: Sendable {
    let count: Int
    let edgeCount: Int
    let bodies: [TaskBody]
    /// `successors[successorStart[i]..<successorStart[i+1]]` are task i's successors.
    let successorStart: [Int32]
    let successors: [Int32]
    let predecessorStart: [Int32]
    let predecessors: [Int32]
    let inDegree: [Int32]
    /// Tasks with no predecessors, best first.
    let roots: [Int32]
    /// Why the graph cannot run (a cycle or a bad id), found once.
    let error: SchedulerError?
    /// A spare join-counter buffer, reused by the next run when no run holds it.
    let spareCounters = SpareCounters()

    init(_ s: TaskGraph) {
        let n = s.names.count
        precondition(n < Int(Int32.max), "a task graph holds at most \(Int32.max - 1) tasks")
        count = n
        edgeCount = s.edgeFrom.count
        bodies = s.bodies

        // Bad ids first: they are reported, and the edges are left out of the structure.
        var badEdge: Int? = nil
        for e in 0..<edgeCount where !(0..<n).contains(s.edgeFrom[e]) || !(0..<n).contains(s.edgeTo[e]) {
            badEdge = e
            break
        }

        // The order in which a successor list should be filled: ascending (priority, −id).
        let priorities = s.priorities
        let allEqual = priorities.allSatisfy { $0 == priorities.first }
        var order: [Int32]
        if allEqual {
            order = (0..<Int32(n)).reversed()
        } else {
            order = Array(0..<Int32(n))
            order.sort { a, b in
                let pa = priorities[Int(a)], pb = priorities[Int(b)]
                return pa != pb ? pa < pb : a > b
            }
        }

        // Predecessor CSR (counting sort by target), then successor CSR filled by walking
        // targets in `order`, which sorts each successor list by the policy.
        var inDeg = [Int32](repeating: 0, count: n)
        var outDeg = [Int32](repeating: 0, count: n)
        for e in 0..<edgeCount {
            let f = s.edgeFrom[e], t = s.edgeTo[e]
            guard (0..<n).contains(f), (0..<n).contains(t) else { continue }
            inDeg[t] += 1
            outDeg[f] += 1
        }
        var predStart = [Int32](repeating: 0, count: n + 1)
        var succStart = [Int32](repeating: 0, count: n + 1)
        for i in 0..<n {
            predStart[i + 1] = predStart[i] + inDeg[i]
            succStart[i + 1] = succStart[i] + outDeg[i]
        }
        let validEdges = Int(predStart[n])
        var preds = [Int32](repeating: 0, count: validEdges)
        var fill = Array(predStart.dropLast())
        for e in 0..<edgeCount {
            let f = s.edgeFrom[e], t = s.edgeTo[e]
            guard (0..<n).contains(f), (0..<n).contains(t) else { continue }
            preds[Int(fill[t])] = Int32(f)
            fill[t] += 1
        }
        var succs = [Int32](repeating: 0, count: validEdges)
        fill = Array(succStart.dropLast())
        for t in order {
            for k in Int(predStart[Int(t)])..<Int(predStart[Int(t) + 1]) {
                let f = Int(preds[k])
                succs[Int(fill[f])] = t
                fill[f] += 1
            }
        }
        var roots: [Int32] = []
        for t in order.reversed() where inDeg[Int(t)] == 0 { roots.append(t) }

        successorStart = succStart
        successors = succs
        predecessorStart = predStart
        predecessors = preds
        inDegree = inDeg
        self.roots = roots

        if let e = badEdge {
            let f = s.edgeFrom[e], t = s.edgeTo[e]
            let which = (0..<n).contains(f) ? t : f
            error = SchedulerError(.invalidTaskID, "dependency #\(e) (\(f) → \(t)) refers to task #\(which), but the graph has \(n) tasks (ids 0..<\(n))")
        } else {
            error = CompiledTaskGraph.findCycle(names: s.names, inDegree: inDeg, successorStart: succStart, successors: succs, predecessorStart: predStart, predecessors: preds)
        }
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
        private let slot = Lock<_UnsafeAtomicBuffer?>(nil)

        func take() -> _UnsafeAtomicBuffer? { slot.withLock { s in let b = s; s = nil; return b } }

        func give(_ buffer: _UnsafeAtomicBuffer) { slot.withLock { s in if s == nil { s = buffer } } }
    }
}
