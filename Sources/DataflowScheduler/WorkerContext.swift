/// The per-slot state of a worker: its deque index, stealing state and the batch of
/// finished tasks not yet subtracted from their run's `remaining`.
///
/// Confined to the thread that owns the slot: a background worker's own thread, or for
/// slot 0 the external caller currently holding the slot (callers take turns through
/// `ExecutorCore.callerSlot`). Found again from inside a task through `current`.
final class WorkerContext: @unchecked Sendable {
    // @unchecked: every mutable field is touched only by the slot's current owner thread;
    // handing slot 0 from one caller to the next goes through a semaphore, which orders it.
    let slot: Int
    /// Identifies the executor this context belongs to.
    let coreID: Int
    var lastVictim: Int
    var random: UInt64
    /// The run whose finished tasks are being counted, unretained (see `RunState`).
    var batchRun: Int = 0
    var batchCount: Int = 0

    init(slot: Int, coreID: Int) {
        self.slot = slot
        self.coreID = coreID
        lastVictim = slot
        random = 0x9E37_79B9_7F4A_7C15 &* UInt64(slot + 1)
    }

    /// A xorshift64 step: a victim choice that costs nothing and shares no state.
    @inline(__always)
    func nextRandom() -> Int {
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return Int(truncatingIfNeeded: random >> 1)
    }

    /// The context of the worker running the current thread, if it is one. Bound by
    /// the worker loops for their lifetime and by `Executor.run` for an external caller,
    /// so a task that calls `run` again is recognised as a worker (nested run).
    @TaskLocal static var current: WorkerContext?
}
