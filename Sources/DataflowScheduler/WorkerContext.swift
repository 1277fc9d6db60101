import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-slot state of a worker: its deque index, stealing state and the batch of
/// finished tasks not yet subtracted from their run's `remaining`.
///
/// Used only by the thread that owns the slot: a background worker's own thread, or
/// for slot 0 the external caller currently holding the slot (callers take turns
/// through `ExecutorCore.callerSlot`). The fields are relaxed atomics although no other
/// thread touches them: a class's `var` costs a runtime exclusivity check on every
/// access (two calls and a thread-local lookup, measured at ~15% of a chain's time),
/// while a relaxed atomic load or store is a plain move.
final class WorkerContext: Sendable {
    // Contexts are allocated one after another, and `batchCountValue` is written after
    // every task: 64 bytes of padding on both sides keep each worker's hot fields off its
    // neighbours' cache lines (Swift lays out a class's stored properties in order).
    private let leadingPadding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    let slot: Int
    /// Identifies the executor this context belongs to.
    let coreID: Int
    /// This slot's deque, held here so the hot path does not index (and retain) an
    /// element of the executor's deque array.
    let deque: WorkStealingDeque
    private let victim: Atomic<Int>
    private let randomState: Atomic<UInt64>
    /// The run whose finished tasks are being counted (unretained bits, see `RunState`).
    private let batchRunBits = Atomic<Int>(0)
    private let batchCountValue = Atomic<Int>(0)
    /// The thread that owns the slot now (0: none). Checked on top of the task-local,
    /// because an unstructured `Task` started inside a task body inherits task-locals
    /// and would otherwise act as this worker from another thread.
    private let owner = Atomic<UInt>(0)
    private let trailingPadding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)

    init(slot: Int, coreID: Int, deque: WorkStealingDeque) {
        self.slot = slot
        self.deque = deque
        self.coreID = coreID
        victim = Atomic(slot)
        randomState = Atomic(0x9E37_79B9_7F4A_7C15 &* UInt64(slot + 1))
    }

    var lastVictim: Int {
        @inline(__always) get { victim.load(ordering: .relaxed) }
        @inline(__always) set { victim.store(newValue, ordering: .relaxed) }
    }

    var batchRun: Int {
        @inline(__always) get { batchRunBits.load(ordering: .relaxed) }
        @inline(__always) set { batchRunBits.store(newValue, ordering: .relaxed) }
    }

    var batchCount: Int {
        @inline(__always) get { batchCountValue.load(ordering: .relaxed) }
        @inline(__always) set { batchCountValue.store(newValue, ordering: .relaxed) }
    }

    /// Marks the calling thread as the slot's owner, or no thread with `nil`.
    func setOwner(_ thread: UInt?) {
        owner.store(thread ?? 0, ordering: .relaxed)
    }

    /// Whether the calling thread owns this slot.
    var isOwnedByCurrentThread: Bool {
        owner.load(ordering: .relaxed) == WorkerContext.currentThread
    }

    /// An identity for the calling thread.
    static var currentThread: UInt {
        #if canImport(Darwin)
        return UInt(bitPattern: pthread_self())
        #else
        return UInt(pthread_self())
        #endif
    }

    /// A xorshift64 step: a victim choice that costs nothing and shares no state.
    @inline(__always)
    func nextRandom() -> Int {
        var r = randomState.load(ordering: .relaxed)
        r ^= r << 13
        r ^= r >> 7
        r ^= r << 17
        randomState.store(r, ordering: .relaxed)
        return Int(truncatingIfNeeded: r >> 1)
    }

    /// The context of the worker running the current thread, if it is one. Bound by
    /// the worker loops for their lifetime and by `Executor.run` for an external caller,
    /// so a task that calls `run` again is recognised as a worker (nested run).
    @TaskLocal static var current: WorkerContext?
}
