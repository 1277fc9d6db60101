import Dispatch
import Synchronization

/// The shared state of an `Executor`: one deque and one context per worker slot, the
/// sleep/wake notifier, the overflow list and the worker loops' lifecycle.
///
/// Slot 0 belongs to whichever thread is inside `Executor.run` from outside (callers
/// take turns through `callerSlot`); slots `1..<workerCount` are background workers.
/// So `workers: N` means at most N threads run tasks of this executor at once, and
/// `workers: 1` starts no thread at all: the caller runs every task.
final class ExecutorCore: Sendable {
    let id: Int
    let workerCount: Int
    let deques: [WorkStealingDeque]
    let contexts: [WorkerContext]
    let notifier: Notifier
    /// Workers currently looking for work to steal.
    let searching = Atomic<Int>(0)
    /// Runs in progress (a heuristic for thieves: while one is, work may appear at any
    /// moment, so the only thief keeps looking instead of sleeping; see `search`).
    let activeRuns = Atomic<Int>(0)
    /// Items that did not fit in a full deque (rare; see `WorkStealingDeque`).
    let overflow = Lock<[WorkItem]>([])
    let overflowCount = Atomic<Int>(0)
    private let state = Atomic<Int>(State.running.rawValue)
    /// Compiled arrays and join counters kept between graphs (see `StorageRecycler`).
    let recycler = StorageRecycler()
    /// Owned by the external thread currently running a graph as slot 0.
    let callerSlot = DispatchSemaphore(value: 1)

    /// The executor's lifecycle; workers leave their loop once it is `.stopping`.
    enum State: Int {
        case running = 0
        case stopping = 1
    }

    private static let nextID = Atomic<Int>(1)

    init(workers: Int) {
        precondition(workers >= 1, "an executor needs at least one worker, got \(workers)")
        precondition(workers < 4096, "\(workers) workers is more than this executor supports (4095)")
        let id = ExecutorCore.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.id = id
        workerCount = workers
        let deques = (0..<workers).map { _ in WorkStealingDeque() }
        self.deques = deques
        contexts = (0..<workers).map { WorkerContext(slot: $0, coreID: id, deque: deques[$0]) }
        notifier = Notifier(slots: workers)
    }

    var isStopping: Bool {
        state.load(ordering: .sequentiallyConsistent) == State.stopping.rawValue
    }

    /// Starts the background workers, slots `1..<workerCount`.
    ///
    /// Hosting: each worker is one long-lived loop submitted to its own serial
    /// `DispatchQueue`. A serial queue made with `DispatchQueue(label:)` targets
    /// Dispatch's *overcommit* root queue, so the loop gets a thread of its own that is
    /// not counted against the width of the global concurrent queues: a blocked or
    /// sleeping worker never starves other Dispatch users (such as the bench's
    /// `DispatchGroup` baseline), and nothing is enqueued per task. The loop captures
    /// the core strongly and drops it when `shutdown()` makes it return.
    func startWorkers() {
        for slot in 1..<workerCount {
            let queue = DispatchQueue(label: "Dataflow.Executor\(id).worker\(slot)")
            queue.async { [self] in
                let ctx = contexts[slot]
                ctx.setOwner(WorkerContext.currentThread)
                WorkerContext.$current.withValue(ctx) {
                    help(ctx) { isStopping }
                }
            }
        }
    }

    /// Asks the worker loops to return once idle and wakes them. Called by the
    /// `Executor`'s deinit; no run can be in progress then (a run holds the executor).
    func shutdown() {
        let old = state.exchange(State.stopping.rawValue, ordering: .sequentiallyConsistent)
        precondition(old == State.running.rawValue, "executor shut down twice")
        notifier.notifyAll()
    }

    /// Runs `graph` to completion with `ctx`'s thread helping, then reports its outcome.
    func run(_ graph: CompiledTaskGraph, observer: (any TaskObserver)?, token: CancellationToken?, ctx: WorkerContext) throws {
        let run = RunState(graph: graph, observer: observer, token: token, waiterSlot: ctx.slot, workerCount: workerCount)
        if let observer { observer.runStarted(taskCount: graph.count, at: DispatchTime.now().uptimeNanoseconds) }
        // The caller starts on the roots itself: no push, no wake-up for a small graph
        // whose first root runs a chain inline.
        // Workers reach `run` through unretained pointers while it has tasks left, so it
        // must outlive the wait explicitly, not only until its last use in this scope.
        activeRuns.wrappingAdd(1, ordering: .relaxed)
        // A worker asleep since the last run (the gap was longer than its spin) is woken
        // now, while the caller runs the first root, rather than at the first push: the
        // futex wake-up then overlaps the root's work instead of delaying the branch it
        // should steal. Not for a graph with no parallelism (a chain), which no thief helps.
        if workerCount > 1 && (run.roots.count > 1 || run.successors.count >= graph.count) {
            notifier.notifyOne()
        }
        withExtendedLifetime(run) {
            execute(run.item(rootsFrom: 0, to: run.roots.count), ctx)
            help(ctx) { run.remaining.load(ordering: .sequentiallyConsistent) == 0 }
        }
        activeRuns.wrappingSubtract(1, ordering: .relaxed)
        if let observer { observer.runFinished(at: DispatchTime.now().uptimeNanoseconds) }
        run.recycle()
        if let error = run.firstError.withLock({ $0 }) { throw error }
        if run.cancelledFromOutside.load(ordering: .relaxed) { throw SchedulerError.cancelled }
    }
}
