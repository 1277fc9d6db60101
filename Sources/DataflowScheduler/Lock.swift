import Synchronization

/// A `Mutex` that ThreadSanitizer can see.
///
/// On Linux, `Synchronization.Mutex` is built on a raw futex, which TSan does not
/// intercept, so every critical section looks like a data race to
/// `swift test --sanitize=thread` (issue 7 requires that run to be clean). Each
/// critical section here also acquires and releases an atomic epoch: redundant with
/// the mutex for real memory ordering, but it gives TSan the happens-before edge.
/// Used only off the per-task hot path (sleeping, overflow, first error, tracing), and
/// by `Dataflow` (package access) for its graph, run and cache locks.
package struct Lock<Value: ~Copyable>: ~Copyable, Sendable {
    private let mutex: Mutex<Value>
    private let epoch = Atomic<Int>(0)

    package init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    @inline(__always)
    package borrowing func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            _ = epoch.load(ordering: .acquiring)
            defer { epoch.wrappingAdd(1, ordering: .releasing) }
            return try body(&value)
        }
    }
}
