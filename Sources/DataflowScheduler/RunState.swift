import Dispatch
import Synchronization

/// The mutable state of one run of a graph: join counters, completion count, the
/// first error and cancellation.
///
/// Referenced unretained from deque items (`WorkItem.run`); the thread waiting for the
/// run holds the only strong reference and releases it only after `remaining` reached
/// zero, i.e. after the last item of the run was taken and executed.
final class RunState: Sendable {
    let graph: CompiledTaskGraph
    /// The same arrays as `graph`'s, held directly so the hot path loads one pointer less.
    let bodies: [TaskBody]
    let successorStart: [Int32]
    let successors: [Int32]
    let roots: [Int32]
    /// Per task: predecessors not yet finished in this run (at least `graph.count`
    /// counters; a recycled buffer may hold more).
    let join: _UnsafeAtomicInt32Buffer
    /// Tasks not yet finished (run or skipped), counted down in per-worker batches.
    let remaining: Atomic<Int>
    /// Set by the first failure or by the token: tasks not yet started are skipped.
    let cancelled = Atomic<Bool>(false)
    let cancelledFromOutside = Atomic<Bool>(false)
    let firstError = Lock<(any Error)?>(nil)
    let observer: (any TaskObserver)?
    let token: CancellationToken?
    /// The slot of the thread waiting for this run (woken when `remaining` hits zero).
    let waiterSlot: Int
    /// Root ranges longer than this are split in halves, so thieves can take one.
    let grain: Int

    init(graph: CompiledTaskGraph, observer: (any TaskObserver)?, token: CancellationToken?, waiterSlot: Int, workerCount: Int) {
        self.graph = graph
        bodies = graph.bodies
        successorStart = graph.successorStart
        successors = graph.successors
        roots = graph.roots
        let n = graph.count
        if let counters = graph.spareCounters.take() ?? graph.recycler?.takeCounters(atLeast: n) {
            counters.storeInDegreesRelaxed(from: graph.predecessorStart)
            join = counters
        } else {
            join = _UnsafeAtomicInt32Buffer(inDegreesFrom: graph.predecessorStart)
        }
        remaining = Atomic(n)
        self.observer = observer
        self.token = token
        self.waiterSlot = waiterSlot
        // One worker: never split (a split only helps a thief). Several: pieces of at most
        // 256 roots and at least 8 pieces per worker, so an uneven finish costs little.
        grain = workerCount == 1 ? Int.max : max(1, min(256, roots.count / (8 * workerCount)))
    }

    /// Returns the counters to the graph's spare slot once the run is over.
    func recycle() {
        graph.spareCounters.give(join)
    }

    /// Whether the next task should be skipped rather than run.
    @inline(__always)
    func shouldSkip() -> Bool {
        if cancelled.load(ordering: .relaxed) { return true }
        if let token, token.isCancelledRelaxed {
            cancelledFromOutside.store(true, ordering: .relaxed)
            cancelled.store(true, ordering: .relaxed)
            return true
        }
        return false
    }

    /// Records `error` if it is the first one and cancels the rest of the run.
    func fail(_ error: any Error) {
        firstError.withLock { first in
            if first == nil { first = error }
        }
        cancelled.store(true, ordering: .relaxed)
    }

    /// Encodes root positions `start..<end` as a `WorkItem.code`.
    @inline(__always)
    static func rootRange(_ start: Int, _ end: Int) -> Int {
        ~(start << 32 | end)
    }

    /// The work item that stands for `start..<end` of this run's roots.
    @inline(__always)
    func item(rootsFrom start: Int, to end: Int) -> WorkItem {
        WorkItem(run: Int(bitPattern: Unmanaged.passUnretained(self).toOpaque()), code: RunState.rootRange(start, end))
    }
}
