/// Arrays of compiled graphs and join counters kept by an `Executor` between graphs.
///
/// A program that builds a fresh graph for every step (and the `build+run` benchmark)
/// would otherwise allocate the compiled arrays anew each time; large allocations come
/// straight from the OS and go back to it when freed, so each build faults in and zeroes
/// fresh pages, which at a million tasks costs more than the scheduling itself. The
/// recycler holds one set: the arrays of the last compiled graph that was released.
/// A compile takes them (and reuses their capacity), a released `CompiledTaskGraph`
/// gives its arrays back.
///
/// Memory: at most one graph's compiled arrays (about 12 bytes per task plus 8 per
/// edge) and one join-counter buffer (4 bytes per task), kept until the executor is
/// released.
final class StorageRecycler: Sendable {
    struct Arrays: Sendable {
        var successorStart: [Int32] = []
        var predecessorStart: [Int32] = []
        var successors: [Int32] = []
        var predecessors: [Int32] = []
        var roots: [Int32] = []
        var counters: _UnsafeAtomicInt32Buffer? = nil
    }

    private let slot = Lock<Arrays?>(nil)

    /// The kept arrays (each possibly empty) without the counters, which stay for the
    /// next run (`takeCounters`).
    func take() -> Arrays? {
        slot.withLock { s in
            guard var a = s else { return nil }
            s = a.counters.map { Arrays(counters: $0) }
            a.counters = nil
            return a
        }
    }

    /// Keeps `arrays` unless this recycler holds some already (the first given back
    /// wins); its counters are kept unless a buffer at least as large is.
    func give(_ arrays: Arrays) {
        var arrays = arrays
        let counters = arrays.counters
        arrays.counters = nil
        slot.withLock { s in
            if s == nil {
                s = arrays
            } else if s!.successorStart.capacity == 0 && s!.successors.capacity == 0 {
                let kept = s!.counters
                s = arrays
                s!.counters = kept
            }
        }
        if let counters { giveCounters(counters) }
    }

    /// A join-counter buffer of at least `count` counters, if one is kept; it leaves the
    /// recycler.
    func takeCounters(atLeast count: Int) -> _UnsafeAtomicInt32Buffer? {
        slot.withLock { s in
            guard let c = s?.counters, c.count >= count else { return nil }
            s?.counters = nil
            return c
        }
    }

    /// Keeps `counters` unless a buffer at least as large is kept already.
    func giveCounters(_ counters: _UnsafeAtomicInt32Buffer) {
        slot.withLock { s in
            if s == nil { s = Arrays() }
            if let kept = s?.counters, kept.count >= counters.count { return }
            s?.counters = counters
        }
    }

    /// Makes `array` hold `count` zeros, reusing its capacity.
    static func zero(_ array: inout [Int32], count: Int) {
        array.removeAll(keepingCapacity: true)
        array.append(contentsOf: repeatElement(0, count: count))
    }

    /// Makes `array` hold `count` elements, reusing its capacity; the values are
    /// unspecified (the caller overwrites every one).
    static func resize(_ array: inout [Int32], count: Int) {
        if array.count > count {
            array.removeLast(array.count - count)
        } else if array.count < count {
            array.append(contentsOf: repeatElement(0, count: count - array.count))
        }
    }
}
