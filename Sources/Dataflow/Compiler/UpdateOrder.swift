/// Orders a program's parameter updates (docs/ARCHITECTURE.md, "Updates").
///
/// Update `u` has an edge to `w` when `u` reads `w`'s parameter while it runs: `u`
/// must run before `w` overwrites it. Updates on a cycle of such edges cannot all run
/// in place; they are staged (computed into a private buffer, committed afterwards).
enum UpdateOrder {
    /// For each update, whether it lies on a cycle (Tarjan's strongly connected
    /// components, iterative; a self-edge counts as a cycle).
    /// - Complexity: O(updates + edges).
    static func onCycles(_ successors: [[Int]]) -> [Bool] {
        let n = successors.count
        var index = [Int](repeating: -1, count: n), low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n), result = [Bool](repeating: false, count: n)
        var stack: [Int] = [], next = 0
        for start in 0..<n where index[start] < 0 {
            var work: [(node: Int, edge: Int)] = [(start, 0)]
            index[start] = next; low[start] = next; next += 1
            stack.append(start); onStack[start] = true
            while let (v, e) = work.last {
                if e < successors[v].count {
                    work[work.count - 1].edge += 1
                    let w = successors[v][e]
                    if index[w] < 0 {
                        index[w] = next; low[w] = next; next += 1
                        stack.append(w); onStack[w] = true
                        work.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.node { low[parent] = min(low[parent], low[v]) }
                guard low[v] == index[v] else { continue }
                var component: [Int] = []
                while let w = stack.popLast() {
                    onStack[w] = false
                    component.append(w)
                    if w == v { break }
                }
                let cyclic = component.count > 1 || successors[v].contains(v)
                for w in component { result[w] = cyclic }
            }
        }
        return result
    }

    /// The updates not in `skipping`, in an order where `u` comes before `w` whenever
    /// `u → w` (Kahn's algorithm, smallest index first, so the order is deterministic).
    static func topological(_ successors: [[Int]], skipping: [Bool]) throws -> [Int] {
        let n = successors.count
        var indegree = [Int](repeating: 0, count: n)
        for u in 0..<n where !skipping[u] {
            for w in successors[u] where !skipping[w] { indegree[w] += 1 }
        }
        var ready = (0..<n).filter { !skipping[$0] && indegree[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        while let u = ready.popLast() {
            order.append(u)
            for w in successors[u] where !skipping[w] {
                indegree[w] -= 1
                if indegree[w] == 0 {
                    ready.append(w)
                    ready.sort(by: >)
                }
            }
        }
        guard order.count == skipping.filter({ !$0 }).count else {
            // Unreachable: every cycle was staged. A compiler bug, reported rather than trapped.
            throw CompileError(message: "internal error: parameter updates left a cycle after staging", kind: .other)
        }
        return order
    }
}
