import Dispatch
import Synchronization

/// Puts idle workers to sleep and wakes them without lost wake-ups: a two-phase
/// "event count" in the style of Eigen's `EventCount` and Taskflow's `Notifier`.
///
/// A worker about to sleep calls `prepareWait()`, re-checks every place work or its
/// completion could appear, then either `cancelWait()` or `commitWait(_:)`. A producer
/// publishes its work and then calls `notifyOne()` (or `wake(slot:)`).
///
/// Why nothing is lost: `prepareWait` and the producer's check are sequentially
/// consistent with the producer's publication and the waiter's re-check (Dekker's
/// pattern), so either the waiter's re-check sees the work, or the producer sees the
/// waiter and bumps the epoch. `commitWait` compares the epoch under the sleeper lock,
/// so a bump between the re-check and the commit cancels the sleep, and a bump after
/// the commit finds the waiter on the sleeper list and signals it.
///
/// Simpler than Eigen's (a lock-free stack of waiters): the sleeper list is a `Lock`,
/// taken only when someone is actually going to sleep or being woken, which is the
/// slow path anyway (a futex call costs microseconds).
final class Notifier: Sendable {
    /// High 32 bits: epoch, bumped by every notification. Low 32 bits: the number of
    /// workers between `prepareWait` and the end of their wait.
    private let state = Atomic<UInt64>(0)
    private let sleepers: Lock<[Int]>
    private let semaphores: [DispatchSemaphore]

    init(slots: Int) {
        sleepers = Lock([])
        semaphores = (0..<slots).map { _ in DispatchSemaphore(value: 0) }
    }

    /// Announces that the caller may sleep; returns the epoch to pass to `commitWait`.
    @inline(__always)
    func prepareWait() -> UInt32 {
        UInt32(truncatingIfNeeded: state.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue >> 32)
    }

    /// The re-check found work: not sleeping after all.
    @inline(__always)
    func cancelWait() {
        state.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }

    /// Sleeps until notified, unless a notification came after `prepareWait`.
    func commitWait(slot: Int, epoch: UInt32) {
        let sleep = sleepers.withLock { list -> Bool in
            let now = UInt32(truncatingIfNeeded: state.load(ordering: .sequentiallyConsistent) >> 32)
            if now != epoch { return false }
            list.append(slot)
            return true
        }
        if sleep { semaphores[slot].wait() }
        state.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }

    /// Whether anyone is preparing to sleep or sleeping. The caller must have published
    /// its work with a sequentially consistent operation or fence before asking.
    @inline(__always)
    var hasWaiters: Bool {
        state.load(ordering: .sequentiallyConsistent) & 0xFFFF_FFFF != 0
    }

    /// Wakes one sleeping worker, if any is waiting. Call after publishing work.
    @inline(__always)
    func notifyOne() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if !hasWaiters { return }
        notifySlow(all: false)
    }

    /// Wakes every sleeping worker (shutdown).
    func notifyAll() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        notifySlow(all: true)
    }

    /// Wakes the worker of `slot` if it is sleeping, and makes every worker that is
    /// between `prepareWait` and `commitWait` re-check (used when a run completes, to
    /// wake the thread waiting for it). The caller must have published the completion
    /// with a sequentially consistent operation.
    func wake(slot: Int) {
        if !hasWaiters { return }
        state.wrappingAdd(1 << 32, ordering: .sequentiallyConsistent)
        let found = sleepers.withLock { list -> Bool in
            guard let i = list.firstIndex(of: slot) else { return false }
            list.remove(at: i)
            return true
        }
        if found { semaphores[slot].signal() }
    }

    @inline(never)
    private func notifySlow(all: Bool) {
        state.wrappingAdd(1 << 32, ordering: .sequentiallyConsistent)
        let woken: [Int] = sleepers.withLock { list in
            if all { defer { list.removeAll() }; return list }
            guard let last = list.popLast() else { return [] }
            return [last]
        }
        for slot in woken { semaphores[slot].signal() }
    }
}
