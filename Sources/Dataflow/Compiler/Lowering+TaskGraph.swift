import DataflowKernels
import DataflowScheduler

extension Lowering {
    // MARK: - Priorities and the task graph

    /// Builds the scheduler's task graph with bottom-level priorities.
    func makeTaskGraph() -> TaskGraph {
        var successors = [[Int]](repeating: [], count: tasks.count)
        for (t, task) in tasks.enumerated() {
            for d in task.dependencies { successors[d].append(t) }
        }
        // Tasks are created in topological order (dependencies point backwards).
        var bottom = [Double](repeating: 0, count: tasks.count)
        for t in stride(from: tasks.count - 1, through: 0, by: -1) {
            bottom[t] = tasks[t].cost + (successors[t].map { bottom[$0] }.max() ?? 0)
        }
        var graph = TaskGraph()
        var ids: [TaskID] = []
        ids.reserveCapacity(tasks.count)
        for (t, task) in tasks.enumerated() {
            let priority = Int(min(bottom[t] * 1e9, Double(Int.max / 2)))
            ids.append(graph.addTask(task.name, priority: priority, cost: task.cost, bytes: task.bytes, kind: task.kind.rawValue,
                                     task.body))
        }
        for (t, task) in tasks.enumerated() {
            for d in Set(task.dependencies) { graph.addDependency(ids[d], ids[t]) }
        }
        return graph
    }
}
