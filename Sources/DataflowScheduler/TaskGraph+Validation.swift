extension TaskGraph {
    /// Checks that the graph can run: every dependency names tasks of this graph and the
    /// dependencies have no cycle.
    ///
    /// `Executor.run` performs the same check (once per graph version), so calling this is
    /// only needed to get the error early.
    ///
    /// ```swift
    /// var g = TaskGraph()
    /// let a = g.addTask("a") {}, b = g.addTask("b") {}
    /// g.addDependency(a, b); g.addDependency(b, a)
    /// try g.validate()   // throws: cycle through task 'a' (#0) …
    /// ```
    /// - Throws: `SchedulerError` of kind `.invalidTaskID` or `.cycle`; a cycle's message
    ///   names a task on the cycle and lists the cycle.
    /// - Complexity: O(tasks + edges) the first time for a graph version, O(1) after.
    public func validate() throws(SchedulerError) {
        if let error = structure().error { throw error }
    }
}

extension CompiledTaskGraph {
    /// Kahn's algorithm; if some task is never freed, walks predecessors among the
    /// unfreed tasks until one repeats: that task lies on a cycle.
    static func findCycle(
        names: [String], inDegree: [Int32], successorStart: [Int32], successors: [Int32],
        predecessorStart: [Int32], predecessors: [Int32]
    ) -> SchedulerError? {
        let n = names.count
        var remaining = inDegree
        var queue: [Int32] = []
        queue.reserveCapacity(n)
        for i in 0..<n where remaining[i] == 0 { queue.append(Int32(i)) }
        var head = 0
        while head < queue.count {
            let t = Int(queue[head])
            head += 1
            for k in Int(successorStart[t])..<Int(successorStart[t + 1]) {
                let s = Int(successors[k])
                remaining[s] -= 1
                if remaining[s] == 0 { queue.append(Int32(s)) }
            }
        }
        if queue.count == n { return nil }

        // Every unfreed task has an unfreed predecessor, so walking backwards must repeat.
        guard var current = remaining.firstIndex(where: { $0 > 0 }) else { return nil }
        var seenAt = [Int: Int]()
        var path: [Int] = []
        while seenAt[current] == nil {
            seenAt[current] = path.count
            path.append(current)
            var next: Int? = nil
            for k in Int(predecessorStart[current])..<Int(predecessorStart[current + 1]) {
                let p = Int(predecessors[k])
                if remaining[p] > 0 { next = p; break }
            }
            guard let p = next else { break }
            current = p
        }
        let cycle = Array(path[seenAt[current, default: 0]...].reversed())
        let shown = cycle.prefix(8).map { "'\(names[$0])' (#\($0))" }.joined(separator: " → ")
        let more = cycle.count > 8 ? " → … (\(cycle.count) tasks)" : ""
        return SchedulerError(.cycle,
                "cycle: task '\(names[current])' (#\(current)) depends on itself through \(shown)\(more) → '\(names[cycle[0]])'")
    }
}
