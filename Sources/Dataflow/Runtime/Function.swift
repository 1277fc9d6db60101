import DataflowKernels
import DataflowScheduler
import Foundation

/// A compiled program: call it with feeds, get the outputs; parameter updates are
/// applied in place.
///
/// ```swift
/// let f = try compile(inputs: [x, y], outputs: [loss])
/// let (lossValue) = try f(["x": xs, "y": ys])[0]
/// ```
///
/// Feeds are checked at every call (names, element types, ranks, the dimensions the
/// graph fixes). The program is specialised for the concrete input shapes at the
/// first call with those shapes and cached, so a new batch size just works.
///
/// Outputs are returned in buffers the function keeps and reuses at the next call
/// when the caller no longer holds them, so a training loop allocates nothing; a
/// result the caller keeps is never overwritten (the next call allocates anew).
///
/// Thread safety: calls from several threads are serialised by a lock (each call
/// runs on every worker; two calls at once would only compete for the cores).
public final class Function: @unchecked Sendable {
    public let graph: Graph
    public let inputs: [Tensor]
    public let outputs: [Tensor]
    public let options: CompileOptions
    let symbolic: SymbolicProgram
    let executor: Executor
    private let lock = NSLock()
    private var cache: [[[Int]]: Program] = [:]
    /// Placeholder name → (dtype, static shape), for feed checks.
    private let expected: [(name: String, dtype: DType, shape: Shape)]

    init(graph: Graph, inputs: [Tensor], outputs: [Tensor], updates: [ParameterUpdate], options: CompileOptions) throws {
        self.graph = graph
        self.inputs = inputs
        self.outputs = outputs
        self.options = options
        symbolic = try SymbolicProgram(graph: graph, inputs: inputs, outputs: outputs, updates: updates, options: options)
        let workers = options.checkNumerics ? 1 : (options.workers ?? ProcessInfo.processInfo.activeProcessorCount)
        guard workers >= 1 else { throw CompileError(message: "compile: workers must be at least 1, got \(workers)") }
        executor = ExecutorPool.shared(workers: workers)
        var seen = Set<String>()
        var exp: [(String, DType, Shape)] = []
        for t in inputs {
            let node = graph.node(t.id)
            guard case .placeholder(let name) = node.op else { continue }
            guard seen.insert(name).inserted else {
                throw CompileError(message: "compile: placeholder name '\(name)' is given twice among the inputs")
            }
            exp.append((name, node.dtype, node.shape))
        }
        expected = exp
    }

    /// Runs the program.
    ///
    /// - Parameter feeds: a value for every input placeholder, by name.
    /// - Returns: the outputs, in the order given to `compile`.
    /// - Throws: `RuntimeError` for a missing, unknown, mistyped or misshaped feed, a
    ///   label out of range, or (guard mode) a NaN/Inf, naming the tensor.
    public func callAsFunction(_ feeds: [String: TensorValue]) throws -> [TensorValue] {
        try run(feeds, recorder: nil)
    }

    /// Runs the program, recording each task's start, end and worker in `recorder`.
    public func run(_ feeds: [String: TensorValue], recorder: (any TaskObserver)?, cancellation: CancellationToken? = nil) throws -> [TensorValue] {
        lock.lock()
        defer { lock.unlock() }
        let program = try programLocked(feeds)
        try program.bind(feeds: feeds, graph: graph)
        try executor.run(program.taskGraph, observer: recorder, cancellation: cancellation)
        return program.collectOutputs()
    }

    /// The compiled program for these feeds' shapes (compiling it if needed): its
    /// task graph, task count, flops and peak intermediate memory.
    public func program(for feeds: [String: TensorValue]) throws -> Program {
        lock.lock()
        defer { lock.unlock() }
        return try programLocked(feeds)
    }

    private func programLocked(_ feeds: [String: TensorValue]) throws -> Program {
        let shapes = try checkFeeds(feeds)
        if let p = cache[shapes] { return p }
        var feedShapes: [String: [Int]] = [:]
        for (k, e) in expected.enumerated() { feedShapes[e.name] = shapes[k] }
        let p = try Program(symbolic: symbolic, graph: graph, feedShapes: feedShapes, outputs: symbolic.ir.outputs,
                            options: options, workers: executor.workerCount)
        cache[shapes] = p
        return p
    }

    private func checkFeeds(_ feeds: [String: TensorValue]) throws -> [[Int]] {
        let names = Set(expected.map(\.name))
        for name in feeds.keys.sorted() where !names.contains(name) {
            throw RuntimeError(message: "unknown feed '\(name)': the inputs are \(expected.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        var shapes: [[Int]] = []
        for e in expected {
            guard let value = feeds[e.name] else {
                throw RuntimeError(message: "missing feed for placeholder '\(e.name)' (\(e.dtype) \(e.shape))")
            }
            guard value.dtype == e.dtype else {
                throw RuntimeError(message: "feed '\(e.name)': expected element type \(e.dtype), got \(value.dtype)")
            }
            guard value.shape.count == e.shape.rank else {
                throw RuntimeError(message: "feed '\(e.name)': expected rank \(e.shape.rank) \(e.shape), got rank \(value.shape.count) \(value.shape)")
            }
            for (d, c) in zip(e.shape.dims, value.shape) {
                if let d, d != c {
                    throw RuntimeError(message: "feed '\(e.name)': expected shape \(e.shape), got \(value.shape)")
                }
            }
            if value.shape.contains(0) {
                throw RuntimeError(message: "feed '\(e.name)': shape \(value.shape) has a zero-sized dimension; compiled programs refuse empty tensors (an empty batch has no mean loss); the Interpreter follows numpy and returns NaN")
            }
            shapes.append(value.shape)
        }
        return shapes
    }
}

/// Executors shared by functions with the same worker count, so that compiling many
/// functions does not start many threads.
enum ExecutorPool {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var executors: [Int: Executor] = [:]

    static func shared(workers: Int) -> Executor {
        lock.lock()
        defer { lock.unlock() }
        if let e = executors[workers] { return e }
        let e = Executor(workers: workers)
        executors[workers] = e
        return e
    }
}
