// TEMPORARY: the scheduler contract's signatures, deleted when the sched branch lands.
import Foundation
public struct TaskID: Hashable, Sendable, Comparable { public let index: Int; public static func < (a: TaskID, b: TaskID) -> Bool { a.index < b.index } }
public struct SchedulerError: Error, CustomStringConvertible, Sendable { public let message: String; public var description: String { message } }
public struct TaskGraph: Sendable {
    public init() {}
    public var count: Int { 0 }
    @discardableResult
    public mutating func addTask(_ name: String, priority: Int = 0, cost: Double = 0, kind: Int = 0, _ body: @escaping @Sendable () throws -> Void) -> TaskID { TaskID(index: 0) }
    public mutating func addDependency(_ before: TaskID, _ after: TaskID) {}
    public func validate() throws(SchedulerError) {}
}
public final class Executor: Sendable {
    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount) { workerCount = workers }
    public let workerCount: Int
    public func run(_ graph: TaskGraph, observer: TraceRecorder? = nil, cancellation: CancellationToken? = nil) throws {}
}
public final class CancellationToken: Sendable { public init() {} }
public final class TraceRecorder: Sendable { public init() {} }
