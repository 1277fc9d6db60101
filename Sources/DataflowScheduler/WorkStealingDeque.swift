import Synchronization

/// One unit of work in a deque: a run and either one task or a range of that run's roots.
///
/// `run` is the bit pattern of an unretained `RunState` reference: every item belongs to
/// an unfinished run, and the thread waiting for that run keeps it alive until the run's
/// last task is done, so the reference is valid whenever an item is taken.
/// `code >= 0` is a task index; `code < 0` is `~(start << 32 | end)`, the root positions
/// `start..<end` (see `RunState.rootRange`).
struct WorkItem {
    var run: Int
    var code: Int
}

/// A bounded Chase–Lev work-stealing deque, after Lê, Pop, Cohen and Zappa Nardelli,
/// "Correct and Efficient Work-Stealing for Weak Memory Models", PPoPP 2013 (Fig. 1,
/// the C11 version), which Taskflow's `wsq.hpp` also follows.
///
/// The owner pushes and pops at the bottom (LIFO); thieves steal at the top (FIFO).
///
/// Departures from the paper:
/// - Fixed capacity instead of growing: `push` returns `false` when full and the
///   executor puts the item on its shared overflow list. Growing would need the old
///   buffers kept alive for racing thieves (Taskflow keeps a garbage list); the
///   executor's item sources (one root range per run, ≤ out-degree − 1 successors per
///   task) keep deques shallow, so overflow is rare and cheap enough.
/// - A slot is two atomic words (run, code) instead of one. A thief may read a torn pair
///   only when the owner has reused the slot, which requires `top` to have moved past
///   it, so the thief's CAS on `top` then fails and the torn value is discarded.
final class WorkStealingDeque: Sendable {
    // Padding at both ends as well as between `top` and `bottom`: deques are allocated
    // one after another and must not share cache lines with each other either.
    private let leadingPadding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    private let top = Atomic<Int>(0)
    // Keeps `top` (written by thieves) and `bottom` (written by the owner) on separate
    // cache lines; Swift lays out a class's stored properties in declaration order.
    private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    private let bottom = Atomic<Int>(0)
    private let slots: _UnsafeAtomicBuffer
    private let mask: Int
    private let trailingPadding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)

    /// Makes an empty deque holding up to `capacity` items (a power of two).
    init(capacity: Int = 4096) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "deque capacity \(capacity) is not a power of two")
        mask = capacity - 1
        slots = _UnsafeAtomicBuffer(count: 2 * capacity)
    }

    /// Owner only: adds `item` at the bottom; `false` if the deque is full.
    @inline(__always)
    func push(_ item: WorkItem) -> Bool {
        let b = bottom.load(ordering: .relaxed)
        let t = top.load(ordering: .acquiring)
        if b - t > mask { return false }
        let i = (b & mask) << 1
        slots.storeRelaxed(item.run, at: i)
        slots.storeRelaxed(item.code, at: i + 1)
        // Release publishes the slot to a thief that acquires `bottom` (paper: fence
        // release + relaxed store; a release store is the same on every target we run on).
        bottom.store(b + 1, ordering: .releasing)
        return true
    }

    /// Owner only: takes the most recently pushed item.
    @inline(__always)
    func pop() -> WorkItem? {
        let b = bottom.load(ordering: .relaxed) - 1
        bottom.store(b, ordering: .relaxed)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let t = top.load(ordering: .relaxed)
        if t > b {
            bottom.store(b + 1, ordering: .relaxed)
            return nil
        }
        let i = (b & mask) << 1
        let item = WorkItem(run: slots.loadRelaxed(i), code: slots.loadRelaxed(i + 1))
        if t == b {
            // The last item: race the thieves for it.
            let won = top.compareExchange(
                expected: t, desired: t + 1,
                successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed
            ).exchanged
            bottom.store(b + 1, ordering: .relaxed)
            return won ? item : nil
        }
        return item
    }

    /// Any thread: takes the oldest item, or `nil` if empty or a race was lost.
    @inline(__always)
    func steal() -> WorkItem? {
        let t = top.load(ordering: .acquiring)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let b = bottom.load(ordering: .acquiring)
        if t >= b { return nil }
        let i = (t & mask) << 1
        let item = WorkItem(run: slots.loadRelaxed(i), code: slots.loadRelaxed(i + 1))
        let won = top.compareExchange(
            expected: t, desired: t + 1,
            successOrdering: .sequentiallyConsistent, failureOrdering: .relaxed
        ).exchanged
        return won ? item : nil
    }

    /// A racy emptiness check for thieves deciding where to look (may be stale).
    @inline(__always)
    var seemsEmpty: Bool {
        bottom.load(ordering: .relaxed) <= top.load(ordering: .relaxed)
    }
}
