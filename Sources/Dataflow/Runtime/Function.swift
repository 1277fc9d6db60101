import DataflowKernels
import DataflowScheduler
import Foundation
import Synchronization

/// A compiled program: call it with feeds, get the outputs; parameter updates are
/// applied in place.
///
/// ```swift
/// let f = try compile(inputs: [x, y], outputs: [loss])
/// let lossValue = try f(["x": xs, "y": ys])[0]
/// ```
///
/// Feeds are checked at every call (names, element types, ranks, the dimensions the
/// graph fixes). The program is specialised for the concrete input shapes at the
/// first call with those shapes and cached, so a new batch size just works. The
/// cache is bounded (`CompileOptions.programCacheLimit` programs and
/// `programCacheBytes` bytes, least recently used first out), and the programs of
/// one function share their scratch memory (one arena per element type, as large as
/// the largest program needs), so calling with many shapes does not grow memory
/// without bound.
///
/// Values handed out never change: outputs are returned in buffers the function
/// reuses only when the caller no longer holds them; an output that is a parameter
/// the call updates is the value from before the call; a parameter returned as an
/// output, read with `Graph.value(of:)` or passed to `Graph.parameter` is copied
/// before a later step updates it in place (copy-on-write); feeds are never written.
///
/// Thread safety: calls are serialised per graph (the graph's run lock), so two
/// functions of one graph called from two threads run one after the other, and
/// `Graph.setValue`/`value(of:)` wait for a running call.
public final class Function: Sendable {
    /// The graph the function was compiled from.
    public let graph: Graph
    /// The input placeholders, in the order given to `compile`.
    public let inputs: [Tensor]
    /// The outputs each call returns, in order.
    public let outputs: [Tensor]
    /// The options the function was compiled with (`workers` as given).
    public let options: CompileOptions
    let symbolic: SymbolicProgram
    let executor: Executor
    /// Placeholder name → (dtype, static shape), for feed checks.
    private let expected: [(name: String, dtype: DType, shape: Shape)]
    private let state = Lock(CacheState())

    /// The shape-specialised programs and the arenas they share.
    struct CacheState: ~Copyable {
        var programs: [[[Int]]: (program: Program, lastUse: UInt64)] = [:]
        var clock: UInt64 = 0
        var arenas: [DType: (object: AnyObject, count: Int)] = [:]

        var arenaObjects: [DType: AnyObject] { arenas.mapValues(\.object) }
        var heldBytes: Int {
            programs.values.reduce(0) { $0 + $1.program.heldBytes }
                + arenas.reduce(0) { $0 + $1.value.count * $1.key.byteSize }
        }
    }

    init(graph: Graph, inputs: [Tensor], outputs: [Tensor], updates: [ParameterUpdate], options: CompileOptions) throws {
        self.graph = graph
        self.inputs = inputs
        self.outputs = outputs
        self.options = options
        guard options.programCacheLimit >= 1 else {
            throw CompileError(message: "compile: programCacheLimit must be at least 1, got \(options.programCacheLimit)",
                               kind: .invalidOption)
        }
        let workers = try options.effectiveWorkers()
        symbolic = try SymbolicProgram(graph: graph, inputs: inputs, outputs: outputs, updates: updates, options: options)
        executor = ExecutorPool.shared(workers: workers)
        var seen = Set<String>()
        var exp: [(String, DType, Shape)] = []
        for t in inputs {
            let node = graph.storedNode(t.id)
            guard case .placeholder(let name) = node.op else { continue }
            guard seen.insert(name).inserted else {
                throw CompileError(message: "compile: placeholder name '\(name)' is given twice among the inputs", kind: .invalidInput)
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
    ///   label out of range, or (guard mode) a NaN/Inf, naming the tensor;
    ///   `CompileError` if the program cannot be specialised for these shapes.
    public func callAsFunction(_ feeds: [String: TensorValue]) throws -> [TensorValue] {
        try run(feeds, recorder: nil)
    }

    /// Runs the program, recording each task's start, end and worker in `recorder`.
    ///
    /// The recorder is called on worker threads while the graph's run lock is held: it
    /// must not call back into this graph.
    public func run(_ feeds: [String: TensorValue], recorder: (any TaskObserver)?,
                    cancellation: CancellationToken? = nil) throws -> [TensorValue] {
        try graph.runLock.withLock { _ in
            try state.withLock { cache in
                let program = try programLocked(feeds, &cache)
                program.bind(feeds: feeds, graph: graph)
                do {
                    let runner = program.plan.workers == executor.workerCount ? executor : ExecutorPool.shared(workers: program.plan.workers)
                    try runner.run(program.taskGraph, observer: recorder, cancellation: cancellation)
                } catch {
                    program.unbind()
                    throw error
                }
                return program.collectOutputs(graph: graph)
            }
        }
    }

    /// The compiled program for these feeds' shapes (compiling it if needed): its
    /// task graph, task count, flops and peak intermediate memory.
    /// - Throws: as `callAsFunction`, for the feeds' names, types and shapes.
    public func program(for feeds: [String: TensorValue]) throws -> Program {
        try graph.runLock.withLock { _ in
            try state.withLock { cache in try programLocked(feeds, &cache) }
        }
    }

    /// How many shape-specialised programs the cache holds, and the bytes they and the
    /// shared arenas keep between calls.
    public var cacheUsage: (programs: Int, bytes: Int) {
        state.withLock { ($0.programs.count, $0.heldBytes) }
    }

    private func programLocked(_ feeds: [String: TensorValue], _ cache: inout CacheState) throws -> Program {
        let shapes = try checkFeeds(feeds)
        cache.clock += 1
        if let hit = cache.programs[shapes] {
            cache.programs[shapes]!.lastUse = cache.clock
            return hit.program
        }
        var feedShapes: [String: [Int]] = [:]
        for (k, e) in expected.enumerated() { feedShapes[e.name] = shapes[k] }
        let p = Program(try symbolic.plan(graph: graph, feedShapes: feedShapes, options: options,
                                          workers: executor.workerCount))
        // Grow the shared arenas if this program needs more, and point every program at them.
        var grew = false
        for (dtype, size) in p.arenaSize where size > cache.arenas[dtype]?.count ?? -1 {
            cache.arenas[dtype] = (Bindings.makeBuffer(dtype, count: size), size)
            grew = true
        }
        let arenas = cache.arenaObjects
        p.rebindArenas(arenas)
        if grew { for entry in cache.programs.values { entry.program.rebindArenas(arenas) } }
        cache.programs[shapes] = (p, cache.clock)
        // Least recently used out, never the one just made.
        while cache.programs.count > options.programCacheLimit
                || (cache.programs.count > 1 && cache.heldBytes > options.programCacheBytes) {
            guard let victim = cache.programs.filter({ $0.key != shapes }).min(by: { $0.value.lastUse < $1.value.lastUse })
            else { break }
            cache.programs[victim.key] = nil
        }
        return p
    }

    private func checkFeeds(_ feeds: [String: TensorValue]) throws -> [[Int]] {
        let names = Set(expected.map(\.name))
        for name in feeds.keys.sorted() where !names.contains(name) {
            throw RuntimeError(message: "unknown feed '\(name)': the inputs are \(expected.map { "'\($0.name)'" }.joined(separator: ", "))",
                               kind: .unknownFeed(name))
        }
        var shapes: [[Int]] = []
        for e in expected {
            guard let value = feeds[e.name] else {
                throw RuntimeError(message: "missing feed for placeholder '\(e.name)' (\(e.dtype) \(e.shape))", kind: .missingFeed(e.name))
            }
            guard value.dtype == e.dtype else {
                throw RuntimeError(message: "feed '\(e.name)': expected element type \(e.dtype), got \(value.dtype)",
                                   kind: .feedMismatch(e.name))
            }
            guard value.shape.count == e.shape.rank else {
                throw RuntimeError(message: "feed '\(e.name)': expected rank \(e.shape.rank) \(e.shape), got rank \(value.shape.count) "
                    + "\(value.shape)",
                                   kind: .feedMismatch(e.name))
            }
            for (d, c) in zip(e.shape.dims, value.shape) {
                if let d, d != c {
                    throw RuntimeError(message: "feed '\(e.name)': expected shape \(e.shape), got \(value.shape)",
                                       kind: .feedMismatch(e.name))
                }
            }
            if value.shape.contains(0) {
                throw RuntimeError(message: "feed '\(e.name)': shape \(value.shape) has a zero-sized dimension; compiled programs refuse "
                                   + "empty tensors (an empty batch has no mean loss); the Interpreter follows numpy and returns NaN",
                                   kind: .emptyFeed(e.name))
            }
            shapes.append(value.shape)
        }
        return shapes
    }
}

/// Executors shared by functions with the same worker count, so that compiling many
/// functions does not start many threads.
enum ExecutorPool {
    private static let executors = Lock<[Int: Executor]>([:])

    static func shared(workers: Int) -> Executor {
        executors.withLock { pool in
            if let e = pool[workers] { return e }
            let e = Executor(workers: workers)
            pool[workers] = e
            return e
        }
    }
}
