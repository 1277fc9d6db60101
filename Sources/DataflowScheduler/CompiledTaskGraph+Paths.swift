extension CompiledTaskGraph {
    /// The tasks in an order where every task follows its predecessors (Kahn), or
    /// fewer than `count` tasks if there is a cycle.
    func topologicalOrder() -> [Int] {
        var remaining = inDegree
        var order: [Int] = []
        order.reserveCapacity(count)
        for i in 0..<count where remaining[i] == 0 { order.append(i) }
        var head = 0
        while head < order.count {
            let t = order[head]
            head += 1
            for k in Int(successorStart[t])..<Int(successorStart[t + 1]) {
                let s = Int(successors[k])
                remaining[s] -= 1
                if remaining[s] == 0 { order.append(s) }
            }
        }
        return order
    }

    /// The longest path through the DAG with `weights[i]` on task i.
    func longestPath(_ weights: [Double]) -> Double {
        var finish = [Double](repeating: 0, count: count)
        var best = 0.0
        for t in topologicalOrder() {
            var start = 0.0
            for k in Int(predecessorStart[t])..<Int(predecessorStart[t + 1]) {
                start = max(start, finish[Int(predecessors[k])])
            }
            finish[t] = start + weights[t]
            best = max(best, finish[t])
        }
        return best
    }
}
