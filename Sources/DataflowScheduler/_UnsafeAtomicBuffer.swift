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

/// A fixed-size buffer of `Atomic<Int32>`: the join counters of a run (a task has fewer
/// than 2³¹ predecessors), half the memory of `_UnsafeAtomicBuffer`. Same rules: one
/// owned allocation, the pointer never escapes, indices checked in debug builds.
final class _UnsafeAtomicInt32Buffer: @unchecked Sendable {
    // @unchecked: the pointee is only ever touched through `Atomic` operations.
    private let base: UnsafeMutablePointer<Atomic<Int32>>
    let count: Int

    /// Allocates `count` atomics, each holding 0.
    init(count: Int) {
        precondition(count >= 0, "negative atomic buffer size \(count)")
        self.count = count
        base = UnsafeMutablePointer<Atomic<Int32>>.allocate(capacity: max(count, 1))
        for i in 0..<count {
            (base + i).initialize(to: Atomic(0))
        }
    }

    /// Allocates one atomic per task, holding its in-degree
    /// `predecessorStart[i + 1] − predecessorStart[i]`: one pass.
    init(inDegreesFrom predecessorStart: [Int32]) {
        count = max(0, predecessorStart.count - 1)
        base = UnsafeMutablePointer<Atomic<Int32>>.allocate(capacity: max(count, 1))
        for i in 0..<count {
            (base + i).initialize(to: Atomic(predecessorStart[i + 1] &- predecessorStart[i]))
        }
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Stores every task's in-degree into counters `0..<predecessorStart.count − 1`.
    func storeInDegreesRelaxed(from predecessorStart: [Int32]) {
        let n = predecessorStart.count - 1
        precondition(n <= count, "\(n) counters needed, \(count) held")
        for i in 0..<n {
            base[i].store(predecessorStart[i + 1] &- predecessorStart[i], ordering: .relaxed)
        }
    }

    @inline(__always)
    func loadRelaxed(_ i: Int) -> Int32 {
        assert(i >= 0 && i < count, "atomic buffer index \(i) out of 0..<\(count)")
        return base[i].load(ordering: .relaxed)
    }

    /// Subtracts one with acquire-release ordering and returns the new value.
    @inline(__always)
    func decrementAcquiringAndReleasing(_ i: Int) -> Int32 {
        assert(i >= 0 && i < count, "atomic buffer index \(i) out of 0..<\(count)")
        return base[i].wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue
    }
}
