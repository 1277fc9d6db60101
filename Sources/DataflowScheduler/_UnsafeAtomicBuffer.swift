import Synchronization

/// A fixed-size buffer of `Atomic<Int>`: the join counters of a run and the slots of a
/// work-stealing deque.
///
/// Why a raw allocation here, outside the kernels module (the one place DESIGN.md keeps
/// for unsafe pointers): `Atomic` is `~Copyable`, so Swift has no `Array` of atomics, and
/// `Synchronization` offers no dynamically sized atomic storage. The safe alternatives
/// cost on the hot path: a class per slot is one allocation per task and a dependent
/// pointer load per access; a `Mutex` per slot is a lock per task. This type owns its one
/// allocation, never lets the pointer escape, and checks every index in debug builds.
final class _UnsafeAtomicBuffer: @unchecked Sendable {
    // @unchecked: the pointee is only ever touched through `Atomic` operations, which
    // are thread-safe; `base` and `count` never change after init.
    private let base: UnsafeMutablePointer<Atomic<Int>>
    let count: Int

    /// Allocates `count` atomics, each holding `initialValue`.
    init(count: Int, initialValue: Int = 0) {
        precondition(count >= 0, "negative atomic buffer size \(count)")
        self.count = count
        base = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: max(count, 1))
        for i in 0..<count {
            (base + i).initialize(to: Atomic(initialValue))
        }
    }

    /// Allocates one atomic per element of `values`, holding that element: one pass,
    /// where `init(count:)` followed by stores would write every slot twice.
    init(values: [Int32]) {
        count = values.count
        base = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: max(count, 1))
        for i in 0..<count {
            (base + i).initialize(to: Atomic(Int(values[i])))
        }
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    @inline(__always)
    func loadRelaxed(_ i: Int) -> Int {
        assert(i >= 0 && i < count, "atomic buffer index \(i) out of 0..<\(count)")
        return base[i].load(ordering: .relaxed)
    }

    @inline(__always)
    func storeRelaxed(_ value: Int, at i: Int) {
        assert(i >= 0 && i < count, "atomic buffer index \(i) out of 0..<\(count)")
        base[i].store(value, ordering: .relaxed)
    }

    /// Subtracts one with acquire-release ordering and returns the new value.
    @inline(__always)
    func decrementAcquiringAndReleasing(_ i: Int) -> Int {
        assert(i >= 0 && i < count, "atomic buffer index \(i) out of 0..<\(count)")
        return base[i].wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue
    }
}
