import Dispatch
import Foundation
import Synchronization
import DataflowScheduler

/// A deterministic pseudo-random generator (SplitMix64), so every seed reproduces.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Records, per task, how often it ran and the order in which tasks started and
/// finished, so a test can check "exactly once, after every predecessor".
final class RunLog: Sendable {
    struct State {
        var runs: [Int]
        var finished: [Bool]
        var startedEarly: [Int] = []
        var order: [Int] = []
    }
    let state: Locked<State>
    let count: Int

    init(count: Int) {
        self.count = count
        state = Locked(State(runs: [Int](repeating: 0, count: count), finished: [Bool](repeating: false, count: count)))
    }

    func reset() {
        state.withLock { $0 = State(runs: [Int](repeating: 0, count: count), finished: [Bool](repeating: false, count: count)) }
    }

    /// The body of task `i` with predecessors `preds`.
    func body(_ i: Int, preds: [Int], delay: UInt32 = 0) -> @Sendable () throws -> Void {
        { [self] in
            state.withLock { s in
                if preds.contains(where: { !s.finished[$0] }) { s.startedEarly.append(i) }
            }
            if delay > 0 { spin(microseconds: delay) }
            state.withLock { s in
                s.runs[i] += 1
                s.finished[i] = true
                s.order.append(i)
            }
        }
    }

    /// How many tasks have run (counting repeats).
    var totalRuns: Int { state.withLock { $0.runs.reduce(0, +) } }

    /// Every task ran exactly once, after all its predecessors had finished.
    func violations(_ graph: TaskGraph) -> [String] {
        let s = state.withLock { $0 }
        var problems: [String] = []
        for i in 0..<count where s.runs[i] != 1 { problems.append("task \(i) ran \(s.runs[i]) times") }
        for i in s.startedEarly.prefix(5) { problems.append("task \(i) started before a predecessor finished") }
        return Array(problems.prefix(10))
    }
}

/// Busy-waits about `microseconds` (a delay that keeps the thread, unlike sleep).
func spin(microseconds: UInt32) {
    let end = DispatchTime.now().uptimeNanoseconds + UInt64(microseconds) * 1000
    while DispatchTime.now().uptimeNanoseconds < end {}
}

/// A random DAG: edges only from lower to higher ids, so it is acyclic.
func randomDAG(tasks: Int, edgeProbability: Double, seed: UInt64, log: RunLog, maxDelay: UInt32 = 0, priorities: Bool = true) -> TaskGraph {
    var rng = SeededRandom(seed: seed)
    var preds = [[Int]](repeating: [], count: tasks)
    for j in 0..<tasks {
        for i in max(0, j - 20)..<j where Double.random(in: 0..<1, using: &rng) < edgeProbability {
            preds[j].append(i)
        }
    }
    var graph = TaskGraph()
    for j in 0..<tasks {
        let delay = maxDelay > 0 ? UInt32.random(in: 0...maxDelay, using: &rng) : 0
        let priority = priorities ? Int.random(in: 0..<4, using: &rng) : 0
        graph.addTask("t\(j)", priority: priority, log.body(j, preds: preds[j], delay: delay))
    }
    for j in 0..<tasks { for i in preds[j] { graph.addDependency(TaskID(index: i), TaskID(index: j)) } }
    return graph
}

struct TestFailure: Error, Equatable { let id: Int }

/// Runs `body` on its own thread and waits at most `seconds` for it, so a scheduler bug
/// fails the test instead of hanging the suite.
func bounded<T: Sendable>(_ seconds: Double = 30, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let result = Locked<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        let r = Result { try body() }
        result.withLock { $0 = r }
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    guard done.wait(timeout: .now() + seconds) == .success else { throw TimedOut(seconds: seconds) }
    return try result.withLock { $0! }.get()
}

struct TimedOut: Error, CustomStringConvertible {
    let seconds: Double
    var description: String { "did not finish within \(seconds) s (hang?)" }
}

/// A value behind an `NSLock`. Tests use it instead of `Synchronization.Mutex` because on
/// Linux ThreadSanitizer sees pthread mutexes but not `Mutex`'s raw futex, and issue 7
/// runs these tests under `--sanitize=thread`.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched while `lock` is held.
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
