import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The worker loop: drain the own deque, flush the finished-task batch, steal (last
/// victim first, then random, bounded), then prepare to sleep, re-check, commit
/// (Taskflow `executor.hpp` `_exploit_task` / `_explore_task` / `_wait_for_task`).
extension ExecutorCore {
    /// How long a worker keeps trying to steal before it goes to sleep when no run is in
    /// progress (or another thief is already looking): long enough to bridge the gap
    /// between back-to-back runs of a small graph, so the next run finds its workers
    /// awake (a futex sleep and wake costs tens of µs here). Measured with
    /// `dataflow-bench gemm --threads 2` on GEMMs of ~0.1 ms split into two tile tasks:
    /// with 10 µs the workers were often asleep when the next run started, and the
    /// three shapes varied between 65 and 250 GFLOP/s from run to run; with 100 µs
    /// they ran at 176–250 every time (one thread: 108–138). An idle executor stops
    /// burning a core 100 µs after a run's end, yielding the CPU after the first 2 µs.
    /// A thread waiting for its own run stops searching as soon as the run is done
    /// (see `search`), so this never delays a run's return.
    static let spinNanoseconds: UInt64 = 100_000
    /// How long the only thief keeps looking while a run is in progress (issue 15). Work
    /// can appear at any moment then (a running task's successors), and a thief that
    /// went to sleep in the middle of a step (a task longer than `spinNanoseconds` on
    /// the other thread) is woken by the next push: the waker pays the futex call, the
    /// sleeper arrives tens of µs later (more from a deep C-state), and the branch it
    /// should have stolen waits or runs serially. Small training steps did that about
    /// once per step, in some processes and not others (bimodal step times, 2 workers
    /// slower than 1). It still yields after `yieldAfterNanoseconds`: spinning without
    /// yielding was measured worse on a loaded 2-core machine (p90 step 1.5–3.6 ms
    /// instead of 0.6, +40% CPU), where the spinner competes with the thread that has work.
    static let activeSpinNanoseconds: UInt64 = 1_000_000
    /// After this long, the search yields the CPU between attempts, so that when the
    /// machine is oversubscribed a thief does not take the core from a worker (or the
    /// caller) that has work.
    static let yieldAfterNanoseconds: UInt64 = 2_000
    /// Steal attempts between two clock reads, and the minimum before sleeping.
    static let attemptsPerCheck = 8
    static let minimumAttempts = 32

    /// Runs work on `ctx`'s thread until `done()` holds. Used by background workers
    /// (done = stopping) and by every thread waiting for a run (done = run finished), so
    /// a waiting thread always helps, which is also what makes nested runs safe.
    func help(_ ctx: WorkerContext, until done: () -> Bool) {
        while true {
            if let item = ctx.deque.pop() {
                execute(item, ctx)
                continue
            }
            flush(ctx)
            if done() { return }
            if let item = search(ctx, until: done) {
                execute(item, ctx)
                continue
            }
            let epoch = notifier.prepareWait()
            if done() {
                notifier.cancelWait()
                return
            }
            if workIsVisible() {
                notifier.cancelWait()
                continue
            }
            notifier.commitWait(slot: ctx.slot, epoch: epoch)
        }
    }

    /// Looks for work outside the own deque: other deques, then the overflow list.
    /// Gives up when `done()` holds: a thread waiting for its run returns as soon as
    /// the run's last task finishes, not after the rest of the spin.
    private func search(_ ctx: WorkerContext, until done: () -> Bool) -> WorkItem? {
        if workerCount == 1 {
            return overflowCount.load(ordering: .relaxed) > 0 ? takeOverflow() : nil
        }
        searching.wrappingAdd(1, ordering: .sequentiallyConsistent)
        var found: WorkItem? = nil
        var attempt = 0
        let firstAttempt = DispatchTime.now().uptimeNanoseconds
        // The base window (spin, then yield, then sleep) starts again whenever this was
        // the only thief of a run in progress, so it counts from the end of that run.
        var start = firstAttempt
        while true {
            if attempt % ExecutorCore.attemptsPerCheck == 0 && attempt >= ExecutorCore.minimumAttempts {
                let t = DispatchTime.now().uptimeNanoseconds
                if activeRuns.load(ordering: .relaxed) > 0 && searching.load(ordering: .relaxed) == 1 {
                    if t &- firstAttempt > ExecutorCore.activeSpinNanoseconds { break }
                    start = t
                    if t &- firstAttempt > ExecutorCore.yieldAfterNanoseconds { sched_yield() }
                } else {
                    let elapsed = t &- start
                    if elapsed > ExecutorCore.spinNanoseconds { break }
                    if elapsed > ExecutorCore.yieldAfterNanoseconds { sched_yield() }
                }
            }
            var victim = ctx.lastVictim
            if victim == ctx.slot || attempt > 0 {
                victim = ctx.nextRandom() % (workerCount - 1)
                if victim >= ctx.slot { victim += 1 }
            }
            if let item = deques[victim].steal() {
                ctx.lastVictim = victim
                found = item
                break
            }
            if overflowCount.load(ordering: .relaxed) > 0, let item = takeOverflow() {
                found = item
                break
            }
            attempt += 1
            if done() { break }
        }
        let before = searching.wrappingSubtract(1, ordering: .sequentiallyConsistent).oldValue
        // The last thief to find work wakes a sleeper, so that while work keeps
        // appearing someone keeps looking for it (Taskflow's rule).
        if found != nil && before == 1 { notifier.notifyOne() }
        return found
    }

    /// The re-check between `prepareWait` and `commitWait`.
    private func workIsVisible() -> Bool {
        if overflowCount.load(ordering: .sequentiallyConsistent) > 0 { return true }
        for deque in deques where !deque.seemsEmpty { return true }
        return false
    }

    private func takeOverflow() -> WorkItem? {
        let item = overflow.withLock { $0.popLast() }
        if item != nil { overflowCount.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
        return item
    }

    @inline(never)
    private func pushOverflow(_ item: WorkItem) {
        overflow.withLock { $0.append(item) }
        overflowCount.wrappingAdd(1, ordering: .sequentiallyConsistent)
    }

    /// Makes `item` available: on the own deque (or the overflow list when full), then
    /// wakes a sleeper if there is one.
    @inline(__always)
    func push(_ item: WorkItem, _ ctx: WorkerContext) {
        if !ctx.deque.push(item) { pushOverflow(item) }
        if workerCount > 1 { notifier.notifyOne() }
    }

    /// Subtracts the batch of finished tasks from its run; wakes the run's waiter if
    /// that finished the run.
    @inline(__always)
    func flush(_ ctx: WorkerContext) {
        let count = ctx.batchCount
        if count == 0 { return }
        ctx.batchCount = 0
        let run = ExecutorCore.runState(ctx.batchRun)
        // Read before the subtraction: once `remaining` is zero the waiter may free the run.
        let waiter = run._withUnsafeGuaranteedRef { $0.waiterSlot }
        let left = run._withUnsafeGuaranteedRef {
            $0.remaining.wrappingSubtract(count, ordering: .sequentiallyConsistent).newValue
        }
        if left == 0 && waiter != ctx.slot { notifier.wake(slot: waiter) }
    }

    @inline(__always)
    static func runState(_ bits: Int) -> Unmanaged<RunState> {
        Unmanaged<RunState>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!)
    }
}
