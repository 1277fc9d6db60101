import Dispatch
import Synchronization

/// Runs a `TaskGraph` the naive way, as a baseline for the executor: one
/// `DispatchQueue.async` per task; a finished task dispatches the successors it made
/// ready (atomic join counters), and a `DispatchGroup` waits for all.
///
/// Nodes refer to their successors by index into one table, never by reference, so
/// releasing a run's nodes is one flat loop over an array whatever the graph's depth.
/// (An earlier version held successors strongly: the last closure to finish released
/// the head of a million-node chain, whose deinit released the next node, and so on,
/// recursively on a Dispatch thread's 512 KiB stack: SIGSEGV in about half the runs.)
///
/// ```swift
/// let graph = BenchmarkShape.chain.build(size: 1000) {}
/// let seconds = DispatchGroupBaseline(graph).run(workers: 2)
/// ```
public final class DispatchGroupBaseline: Sendable {
    let bodies: [TaskBody]
    let successorStart: [Int32]
    let successors: [Int32]
    let inDegree: [Int32]

    /// Prepares `graph` for baseline runs.
    /// - Precondition: `graph` is valid (see `TaskGraph.validate()`).
    public init(_ graph: TaskGraph) {
        let c = graph.structure()
        precondition(c.error == nil, "cannot run an invalid graph: \(c.error!.message)")
        bodies = c.bodies
        successorStart = c.successorStart
        successors = c.successors
        inDegree = c.inDegree
    }

    /// Runs every task once, on a serial queue for `workers == 1`, else on the global
    /// concurrent queue, and returns the seconds from the first `async` to the end of
    /// the wait (excluding the set-up of the join counters and their release).
    ///
    /// - Returns: Elapsed seconds. Errors thrown by task bodies are ignored.
    @discardableResult
    public func run(workers: Int) -> Double {
        let queue = workers == 1 ? DispatchQueue(label: "Dataflow.DispatchGroupBaseline") : DispatchQueue.global()
        let state = State(self, queue: queue)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for i in 0..<bodies.count where inDegree[i] == 0 { state.schedule(i) }
        state.group.wait()
        let t1 = DispatchTime.now().uptimeNanoseconds
        // The closures are done with `state`; it is released here, by this thread.
        withExtendedLifetime(state) {}
        return Double(t1 - t0) / 1e9
    }

    /// One run: the join counters, the queue and the group.
    final class State: Sendable {
        let graph: DispatchGroupBaseline
        let joins: [JoinCounter]
        let queue: DispatchQueue
        let group = DispatchGroup()

        init(_ graph: DispatchGroupBaseline, queue: DispatchQueue) {
            self.graph = graph
            self.queue = queue
            joins = graph.inDegree.map { JoinCounter(Int($0)) }
        }

        func schedule(_ task: Int) {
            queue.async(group: group) { [self] in
                _ = try? graph.bodies[task].run()
                for k in Int(graph.successorStart[task])..<Int(graph.successorStart[task + 1]) {
                    let s = Int(graph.successors[k])
                    // acq_rel: publishes this task's writes to whoever runs the successor.
                    if joins[s].value.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                        schedule(s)
                    }
                }
            }
        }
    }
}

/// An atomic in a class of its own, so an array can hold one per task (`Atomic` is not
/// copyable). One allocation per task is part of what the baseline is meant to pay.
final class JoinCounter: Sendable {
    let value: Atomic<Int>
    init(_ initial: Int) { value = Atomic(initial) }
}
