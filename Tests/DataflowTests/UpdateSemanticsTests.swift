import Foundation
import Testing
import Dataflow
import Synchronization

// Updates are simultaneous assignments (Theano's `updates`): every update expression
// of one call reads the parameter values from before the call. Each case is built
// twice, in two graphs: one compiled, one stepped by the reference interpreter
// (`evaluate` every update expression on the old values, then `setValue`). For
// add/sub/mul the two agree bitwise.

/// One program of parameter updates, as built in one graph.
private struct UpdateProgram {
    var inputs: [Tensor] = []
    var outputs: [Tensor] = []
    /// Every parameter, compared after each step.
    var parameters: [Tensor] = []
    /// `(parameter, new value)`.
    var updates: [(Tensor, Tensor)] = []
}

/// Builds the same program in any graph.
private typealias UpdateRecipe = @Sendable (Graph, DType) throws -> UpdateProgram

/// The interpreter's step: all update values from the old parameters, then `setValue`.
/// Returns the outputs (computed from the old parameters too).
private func simultaneousReferenceStep(_ p: UpdateProgram, feeds: [String: TensorValue]) throws -> [TensorValue] {
    let all = try evaluate(p.outputs + p.updates.map(\.1), feeds: feeds)
    for ((parameter, _), value) in zip(p.updates, all.dropFirst(p.outputs.count)) {
        try parameter.graph.setValue(value, of: parameter)
    }
    return Array(all.prefix(p.outputs.count))
}

/// What an implementation that applied the updates one after the other (each reading
/// the values the previous ones wrote) would give: the wrong semantics, used to show
/// that the cases tell the two apart.
private func sequentialReferenceStep(_ p: UpdateProgram, feeds: [String: TensorValue]) throws -> [TensorValue] {
    let outs = p.outputs.isEmpty ? [] : try evaluate(p.outputs, feeds: feeds)
    for (parameter, value) in p.updates {
        try parameter.graph.setValue(try evaluate([value], feeds: feeds)[0], of: parameter)
    }
    return outs
}

/// Bitwise equal, or both NaN at the same places (a NaN's payload may depend on operand order).
private func sameBits(_ a: TensorValue, _ b: TensorValue) -> Bool {
    if bitwiseEqual(a, b) { return true }
    guard a.shape == b.shape, a.dtype == b.dtype else { return false }
    return zip(a.asDoubles(), b.asDoubles()).allSatisfy { x, y in
        x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
    }
}

/// Runs `steps` compiled calls of `recipe` against the simultaneous reference; returns
/// the number of mismatching values (outputs and parameters), recording each as an
/// issue unless `quiet`.
@discardableResult
private func compareWithReference(_ name: String, _ recipe: UpdateRecipe, dtype: DType, workers: Int, steps: Int = 3,
                                  feeds: (Int) -> [String: TensorValue] = { _ in [:] },
                                  reference: (UpdateProgram, [String: TensorValue]) throws -> [TensorValue] = simultaneousReferenceStep,
                                  quiet: Bool = false,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let compiledGraph = Graph(), referenceGraph = Graph()
    let c = try recipe(compiledGraph, dtype)
    let r = try recipe(referenceGraph, dtype)
    let f = try compile(inputs: c.inputs, outputs: c.outputs,
                        updates: c.updates.map { ParameterUpdate($0.0, $0.1) },
                        options: CompileOptions(workers: workers))
    var mismatches = 0
    func check(_ ok: Bool, _ message: @autoclosure () -> String) {
        guard !ok else { return }
        mismatches += 1
        if !quiet { Issue.record(Comment(rawValue: message()), sourceLocation: sourceLocation) }
    }
    for step in 0..<steps {
        let stepFeeds = feeds(step)
        let got = try f(stepFeeds)
        let want = try reference(r, stepFeeds)
        for k in got.indices {
            check(sameBits(got[k], want[k]),
                  "\(name) \(dtype) workers \(workers) step \(step): output \(k) \(c.outputs[k].label) is \(got[k]); reference \(want[k])")
        }
        for (pc, pr) in zip(c.parameters, r.parameters) {
            let a = try compiledGraph.value(of: pc), b = try referenceGraph.value(of: pr)
            check(sameBits(a, b),
                  "\(name) \(dtype) workers \(workers) step \(step): parameter \(pc.label) is \(a); reference \(b)")
        }
    }
    return mismatches
}

private func initial(_ shape: [Int], _ dtype: DType, seed: UInt64, in range: ClosedRange<Double> = -1...1) throws -> TensorValue {
    try TensorValue.uniform(shape, dtype, in: range, seed: seed)
}

/// The hand-written cases: name, recipe, feeds per step.
private struct UpdateCase: Sendable {
    var name: String
    var recipe: UpdateRecipe
    /// Placeholder name → shape, fed with fresh uniform values at each step.
    var feedShapes: [String: [Int]] = [:]
    /// Whether a sequential reading of the updates gives other numbers (the case
    /// tells simultaneous from sequential).
    var orderMatters = true

    func feeds(_ dtype: DType) -> (Int) -> [String: TensorValue] {
        let shapes = feedShapes
        return { step in
            var out: [String: TensorValue] = [:]
            for (k, (name, shape)) in shapes.sorted(by: { $0.key < $1.key }).enumerated() {
                out[name] = try! TensorValue.uniform(shape, dtype, in: -1...1, seed: UInt64(1000 + 17 * step + k))  // valid shapes
            }
            return out
        }
    }
}

private let updateCases: [UpdateCase] = [
    // v ← μ·v + g, w ← w − lr·v: the second reads the OLD v.
    UpdateCase(name: "momentum", recipe: { g, dt in
        let x = try g.placeholder("x", dt, [3, 4])
        let w = g.parameter("w", try initial([3, 4], dt, seed: 1))
        let v = g.parameter("v", try initial([3, 4], dt, seed: 2))
        let loss = try sum(w * w * x)
        let dw = try grad(of: loss, wrt: [w])[0]
        let mu = g.scalar(0.9, dt), lr = g.scalar(0.25, dt)
        return UpdateProgram(inputs: [x], outputs: [dw, v], parameters: [w, v],
                             updates: [(v, try mu * v + dw), (w, try w - lr * v)])
    }, feedShapes: ["x": [3, 4]]),
    // The same over a value large enough to be split into several element-wise tasks.
    UpdateCase(name: "momentum, large", recipe: { g, dt in
        let x = try g.placeholder("x", dt, [260, 260])
        let w = g.parameter("w", try initial([260, 260], dt, seed: 3))
        let v = g.parameter("v", try initial([260, 260], dt, seed: 4))
        let mu = g.scalar(0.9, dt), lr = g.scalar(0.25, dt)
        return UpdateProgram(inputs: [x], outputs: [], parameters: [w, v],
                             updates: [(v, try mu * v + x), (w, try w - lr * v)])
    }, feedShapes: ["x": [260, 260]]),
    // Swap: a ← b, b ← a.
    UpdateCase(name: "swap", recipe: { g, dt in
        let a = g.parameter("a", try initial([2, 3], dt, seed: 5))
        let b = g.parameter("b", try initial([2, 3], dt, seed: 6))
        return UpdateProgram(outputs: [a, b], parameters: [a, b], updates: [(a, b), (b, a)])
    }),
    UpdateCase(name: "swap, large", recipe: { g, dt in
        let a = g.parameter("a", try initial([260, 260], dt, seed: 7))
        let b = g.parameter("b", try initial([260, 260], dt, seed: 8))
        return UpdateProgram(parameters: [a, b], updates: [(a, b), (b, a)])
    }),
    // Three-cycle a ← b, b ← c, c ← a.
    UpdateCase(name: "3-cycle", recipe: { g, dt in
        let a = g.parameter("a", try initial([4], dt, seed: 9))
        let b = g.parameter("b", try initial([4], dt, seed: 10))
        let c = g.parameter("c", try initial([4], dt, seed: 11))
        return UpdateProgram(parameters: [a, b, c], updates: [(a, b), (b, c), (c, a)])
    }),
    // Three-cycle of computed values.
    UpdateCase(name: "3-cycle, computed", recipe: { g, dt in
        let a = g.parameter("a", try initial([2, 2], dt, seed: 12))
        let b = g.parameter("b", try initial([2, 2], dt, seed: 13))
        let c = g.parameter("c", try initial([2, 2], dt, seed: 14))
        return UpdateProgram(outputs: [try a + b], parameters: [a, b, c],
                             updates: [(a, try b + c), (b, try c * a), (c, try a - b)])
    }),
    // Updates reading their own and others' parameters; c is read, never updated.
    UpdateCase(name: "own and others", recipe: { g, dt in
        let a = g.parameter("a", try initial([3], dt, seed: 15))
        let b = g.parameter("b", try initial([3], dt, seed: 16))
        let c = g.parameter("c", try initial([3], dt, seed: 17))
        return UpdateProgram(parameters: [a, b, c], updates: [(a, try a * b + a), (b, try b - a * c)])
    }),
    // axpy updates on a cycle: a ← a − lr·b, b ← b − lr·a.
    UpdateCase(name: "axpy cycle", recipe: { g, dt in
        let a = g.parameter("a", try initial([5, 3], dt, seed: 18))
        let b = g.parameter("b", try initial([5, 3], dt, seed: 19))
        let lr = g.scalar(0.5, dt)
        return UpdateProgram(parameters: [a, b], updates: [(a, try a - lr * b), (b, try b - lr * a)])
    }),
    UpdateCase(name: "axpy cycle, large", recipe: { g, dt in
        let a = g.parameter("a", try initial([260, 260], dt, seed: 20))
        let b = g.parameter("b", try initial([260, 260], dt, seed: 21))
        let lr = g.scalar(0.5, dt)
        return UpdateProgram(parameters: [a, b], updates: [(a, try a - lr * b), (b, try b + lr * a)])
    }),
    // axpy whose gradient is another updated parameter (no cycle): w ← w − lr·m, m ← 0.5·m + x.
    UpdateCase(name: "axpy reads an updated gradient", recipe: { g, dt in
        let x = try g.placeholder("x", dt, [4])
        let w = g.parameter("w", try initial([4], dt, seed: 22))
        let m = g.parameter("m", try initial([4], dt, seed: 23))
        let lr = g.scalar(0.125, dt), half = g.scalar(0.5, dt)
        return UpdateProgram(inputs: [x], parameters: [w, m],
                             updates: [(m, try half * m + x), (w, try w - lr * m)])
    }, feedShapes: ["x": [4]]),
    // The learning rate is a rank-0 parameter, itself updated: lr ← lr·0.5; w ← w − lr·x;
    // u ← u + lr·w (reads the updated lr and the updated w).
    UpdateCase(name: "updated rank-0 learning rate", recipe: { g, dt in
        let x = try g.placeholder("x", dt, [2, 3])
        let lr = g.parameter("lr", TensorValue(scalar: 0.75, dt))
        let w = g.parameter("w", try initial([2, 3], dt, seed: 24))
        let u = g.parameter("u", try initial([2, 3], dt, seed: 25))
        return UpdateProgram(inputs: [x], outputs: [lr], parameters: [lr, w, u],
                             updates: [(lr, try lr * 0.5), (w, try w - lr * x), (u, try u + lr * w)])
    }, feedShapes: ["x": [2, 3]]),
    // Scale a product of rank-0 parameters, one updated; gradient its own parameter.
    UpdateCase(name: "axpy of itself with a computed scale", recipe: { g, dt in
        let lr = g.parameter("lr", TensorValue(scalar: 0.5, dt))
        let decay = g.parameter("decay", TensorValue(scalar: 0.75, dt))
        let w = g.parameter("w", try initial([3, 3], dt, seed: 26))
        return UpdateProgram(parameters: [lr, decay, w],
                             updates: [(decay, try decay * decay), (w, try w - (lr * decay) * w)])
    }),
    // General (not axpy-shaped) updates reading each other.
    UpdateCase(name: "general", recipe: { g, dt in
        let a = g.parameter("a", try initial([2, 5], dt, seed: 27))
        let b = g.parameter("b", try initial([2, 5], dt, seed: 28))
        let s = g.parameter("s", TensorValue(scalar: 1.5, dt))
        return UpdateProgram(outputs: [try a * b], parameters: [a, b, s],
                             updates: [(a, try a * a - b), (b, try (a + b) * s), (s, try s - a.sum())])
    }),
]

@Suite("Update semantics (simultaneous updates)")
struct UpdateSemanticsTests {
    @Test("hand-written update programs equal the interpreter's simultaneous step, bitwise",
          arguments: [DType.float32, .float64], [1, 2, 4, 8])
    func handWritten(dtype: DType, workers: Int) throws {
        for c in updateCases where c.name != "general" {
            try compareWithReference(c.name, c.recipe, dtype: dtype, workers: workers, feeds: c.feeds(dtype))
        }
    }

    @Test("a general update reading a reduction of another updated parameter", arguments: [DType.float32, .float64])
    func generalWithReduction(dtype: DType) throws {
        // s ← s − sum(a): a sum's order of summation may differ from the interpreter's,
        // so this case is checked within tolerance (and the others bitwise).
        let c = updateCases.first { $0.name == "general" }!
        let compiledGraph = Graph(), referenceGraph = Graph()
        let p = try c.recipe(compiledGraph, dtype), r = try c.recipe(referenceGraph, dtype)
        let f = try compile(inputs: [], outputs: p.outputs, updates: p.updates.map { ParameterUpdate($0.0, $0.1) },
                            options: CompileOptions(workers: 2))
        for step in 0..<3 {
            let got = try f([:])
            let want = try simultaneousReferenceStep(r, feeds: [:])
            #expect(toleranceRatio(got[0], want[0], atol: 1e-5, rtol: 1e-5).ratio <= 1, "step \(step) output")
            for (a, b) in zip(p.parameters, r.parameters) {
                let ratio = toleranceRatio(try compiledGraph.value(of: a), try referenceGraph.value(of: b), atol: 1e-5, rtol: 1e-5).ratio
                #expect(ratio <= 1, "step \(step) \(a.label): ratio \(ratio)")
            }
        }
    }

    @Test("the cases tell simultaneous from sequential updates (a sequential runtime would fail them)")
    func casesDiscriminate() throws {
        for c in updateCases where c.orderMatters && c.name != "general" {
            let mismatches = try compareWithReference(c.name, c.recipe, dtype: .float64, workers: 2, feeds: c.feeds(.float64),
                                                      reference: sequentialReferenceStep, quiet: true)
            #expect(mismatches > 0, "\(c.name): a sequential reading of the updates gives the same numbers")
        }
    }

    @Test("momentum by hand: w moves by the OLD velocity")
    func momentumByHand() throws {
        let g = Graph()
        let x = try g.placeholder("g", .float64, [2])
        let w = g.parameter("w", try TensorValue(shape: [2], doubles: [1, 2]))
        let v = g.parameter("v", try TensorValue(shape: [2], doubles: [10, 20]))
        let f = try compile(inputs: [x], outputs: [],
                            updates: [ParameterUpdate(v, try 0.5 * v + x), ParameterUpdate(w, try w - 0.25 * v)],
                            options: CompileOptions(workers: 1))
        _ = try f(["g": try TensorValue(shape: [2], doubles: [4, 8])])
        #expect(try g.value(of: v).doubles == [9, 18])      // 0.5·[10, 20] + [4, 8]
        #expect(try g.value(of: w).doubles == [-1.5, -3])   // [1, 2] − 0.25·[10, 20] (old v)
        _ = try f(["g": try TensorValue(shape: [2], doubles: [0, 0])])
        #expect(try g.value(of: v).doubles == [4.5, 9])
        #expect(try g.value(of: w).doubles == [-3.75, -7.5])  // −1.5 − 0.25·9
    }

    @Test("swap and 3-cycle by hand")
    func cyclesByHand() throws {
        let g = Graph()
        let a = g.parameter("a", try TensorValue(shape: [2], floats: [1, 2]))
        let b = g.parameter("b", try TensorValue(shape: [2], floats: [3, 4]))
        let c = g.parameter("c", try TensorValue(shape: [2], floats: [5, 6]))
        let swap = try compile(inputs: [], outputs: [], updates: [ParameterUpdate(a, b), ParameterUpdate(b, a)])
        _ = try swap([:])
        #expect(try g.value(of: a).floats == [3, 4])
        #expect(try g.value(of: b).floats == [1, 2])
        let rotate = try compile(inputs: [], outputs: [a, b, c],
                                 updates: [ParameterUpdate(a, b), ParameterUpdate(b, c), ParameterUpdate(c, a)])
        let out = try rotate([:])
        #expect(out.map(\.floats) == [[3, 4], [1, 2], [5, 6]], "outputs are the values before the call")
        #expect(try g.value(of: a).floats == [1, 2])
        #expect(try g.value(of: b).floats == [5, 6])
        #expect(try g.value(of: c).floats == [3, 4])
        // a ← a − lr·b, b ← b − lr·a with lr = 1: both read the old values.
        let cross = try compile(inputs: [], outputs: [],
                                updates: [ParameterUpdate(a, try a - 1.0 * b), ParameterUpdate(b, try b - 1.0 * a)])
        _ = try cross([:])
        #expect(try g.value(of: a).floats == [-4, -4])   // [1, 2] − [5, 6]
        #expect(try g.value(of: b).floats == [4, 4])     // [5, 6] − [1, 2]
    }

    // MARK: Fuzzer

    /// A random update expression over parameters, feeds and scalar constants.
    private indirect enum Expr: CustomStringConvertible, Sendable {
        case parameter(Int)
        case feed(Int)
        case constant(Double)
        case binary(Int, Expr, Expr)   // 0 add, 1 sub, 2 mul

        var description: String {
            switch self {
            case .parameter(let k): "p\(k)"
            case .feed(let k): "f\(k)"
            case .constant(let v): "\(v)"
            case .binary(let op, let a, let b): "(\(a) \(["+", "-", "*"][op]) \(b))"
            }
        }

        func build(_ g: Graph, _ dtype: DType, _ params: [Tensor], _ feeds: [Tensor]) throws -> Tensor {
            switch self {
            case .parameter(let k): return params[k]
            case .feed(let k): return feeds[k]
            case .constant(let v): return g.scalar(v, dtype)
            case .binary(let op, let a, let b):
                let x = try a.build(g, dtype, params, feeds), y = try b.build(g, dtype, params, feeds)
                switch op {
                case 0: return try x + y
                case 1: return try x - y
                default: return try x * y
                }
            }
        }
    }

    /// The library's SplitMix64, with the two draws the fuzzer needs (extension below).
    private typealias Random = SeededGenerator

    /// One random case: parameters (rank 0 or of one shape), feeds, updates, outputs.
    private struct FuzzCase: CustomStringConvertible {
        var dtype: DType
        var shape: [Int]
        var scalarParameter: [Bool]
        var feedCount: Int
        var updates: [(Int, Expr)]
        var outputs: [Expr]

        var description: String {
            "\(dtype) \(shape) params \(scalarParameter.map { $0 ? "[]" : "S" }) feeds \(feedCount); updates "
                + updates.map { "p\($0.0) ← \($0.1)" }.joined(separator: ", ") + "; outputs \(outputs)"
        }

        init(seed: UInt64) {
            var rng = Random(seed: seed)
            dtype = rng.chance(0.5) ? .float32 : .float64
            let shapes: [[Int]] = [[3], [2, 3], [4, 1], [1], [5, 2]]
            shape = shapes[rng.int(shapes.count)]
            let count = 2 + rng.int(5)
            var scalars = (0..<count).map { _ in rng.chance(0.3) }
            scalars[rng.int(count)] = false   // at least one full-shape parameter
            scalarParameter = scalars
            feedCount = rng.int(3)
            let constants = [0.5, -0.25, 0.75, 1, -1, 0.125, 1.5]
            let feeds = feedCount
            func scalarExpr(_ depth: Int) -> Expr {
                if depth == 0 || rng.chance(0.45) {
                    let ranked0 = scalars.indices.filter { scalars[$0] }
                    if !ranked0.isEmpty && rng.chance(0.6) { return .parameter(ranked0[rng.int(ranked0.count)]) }
                    return .constant(constants[rng.int(constants.count)])
                }
                return .binary(rng.int(3), scalarExpr(depth - 1), scalarExpr(depth - 1))
            }
            func fullExpr(_ depth: Int) -> Expr {
                if depth == 0 || rng.chance(0.3) {
                    let full = scalars.indices.filter { !scalars[$0] }
                    if feeds > 0 && rng.chance(0.3) { return .feed(rng.int(feeds)) }
                    return .parameter(full[rng.int(full.count)])
                }
                switch rng.int(3) {
                case 0: return .binary(rng.int(3), fullExpr(depth - 1), fullExpr(depth - 1))
                case 1: return .binary(rng.int(3), fullExpr(depth - 1), scalarExpr(depth - 1))
                default: return .binary(rng.int(3), scalarExpr(depth - 1), fullExpr(depth - 1))
                }
            }
            var ups: [(Int, Expr)] = []
            var order = Array(0..<count)
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(i + 1)) }
            for p in order where rng.chance(0.8) {
                let value: Expr = scalars[p] ? scalarExpr(2) : fullExpr(3)
                if rng.chance(0.5) {
                    // axpy-shaped: p ± s·g (s rank 0), either operand order of the product.
                    let s = scalarExpr(1)
                    let product: Expr = rng.chance(0.5) ? .binary(2, s, value) : .binary(2, value, s)
                    ups.append((p, .binary(rng.chance(0.5) ? 0 : 1, .parameter(p), product)))
                } else {
                    ups.append((p, value))
                }
            }
            if ups.isEmpty { ups.append((0, scalars[0] ? scalarExpr(2) : fullExpr(3))) }
            updates = ups
            outputs = (0..<rng.int(3)).map { _ in rng.chance(0.3) ? .parameter(rng.int(count)) : fullExpr(2) }
        }

        func recipe() -> UpdateRecipe {
            let (shape, scalars, feedCount, updates, outputs) = (self.shape, scalarParameter, self.feedCount, self.updates, self.outputs)
            return { g, dtype in
                let params = try scalars.enumerated().map { k, isScalar in
                    g.parameter("p\(k)", try isScalar ? TensorValue(scalar: 0.25 + 0.125 * Double(k), dtype)
                                                      : TensorValue.uniform(shape, dtype, in: -1...1, seed: UInt64(50 + k)))
                }
                let feeds = try (0..<feedCount).map { try g.placeholder("f\($0)", dtype, Shape(shape)) }
                return UpdateProgram(inputs: feeds,
                                     outputs: try outputs.map { try $0.build(g, dtype, params, feeds) },
                                     parameters: params,
                                     updates: try updates.map { (params[$0.0], try $0.1.build(g, dtype, params, feeds)) })
            }
        }

        func feeds(_ step: Int) -> [String: TensorValue] {
            var out: [String: TensorValue] = [:]
            for k in 0..<feedCount {
                out["f\(k)"] = try! TensorValue.uniform(shape, dtype, in: -1...1, seed: UInt64(7000 + 31 * step + k))  // valid shape
            }
            return out
        }
    }

    static var iterations: Int {
        ProcessInfo.processInfo.environment["DATAFLOW_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 30
    }

    @Test("fuzz: random simultaneous updates, compiled (1 and 3 workers) vs interpreter, 3 steps, bitwise")
    func fuzz() throws {
        for iteration in 0..<Self.iterations {
            let c = FuzzCase(seed: 0xD00D_0000 &+ UInt64(iteration))
            for workers in [1, 3] {
                let mismatches = try compareWithReference("fuzz \(iteration)", c.recipe(), dtype: c.dtype, workers: workers,
                                                          feeds: c.feeds, quiet: true)
                #expect(mismatches == 0, "fuzz iteration \(iteration), workers \(workers): \(mismatches) mismatches; \(c)")
            }
        }
    }
}

// MARK: - Concurrency

@Suite("Updates under concurrency")
struct UpdateConcurrencyTests {
    /// Whether every element of a value is the same number (all updates here are uniform,
    /// so a torn read or write would show as unequal elements).
    private static func uniform(_ v: TensorValue) -> Double? {
        let d = v.asDoubles()
        return d.allSatisfy { $0 == d[0] } ? d[0] : nil
    }

    @Test("setValue from another thread while a function of the graph runs in a loop")
    func setValueWhileRunning() throws {
        let g = Graph()
        let shape = [256, 256]
        let w = g.parameter("w", try TensorValue.filled(shape, .float32, with: 0))
        let ones = g.constant(try TensorValue.filled(shape, .float32, with: 1))
        // In place: w ← w − 0.5·ones; the output w is the value before the call.
        let f = try compile(inputs: [], outputs: [w],
                            updates: [ParameterUpdate(w, try w - g.scalar(0.5, .float32) * ones)],
                            options: CompileOptions(workers: 2))
        let failures = Mutex<[String]>([])
        let setValues = try (0..<40).map { try TensorValue.filled(shape, .float32, with: Double(1000 * ($0 + 1))) }
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            do {
                if thread == 0 {
                    for step in 0..<60 {
                        let out = try f([:])[0]
                        if Self.uniform(out) == nil { failures.withLock { $0.append("step \(step): output w is not uniform") } }
                    }
                } else {
                    for v in setValues {
                        try g.setValue(v, of: w)
                        if Self.uniform(try g.value(of: w)) == nil { failures.withLock { $0.append("value(of:) is not uniform") } }
                    }
                }
            } catch {
                failures.withLock { $0.append("thread \(thread): \(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        for (k, v) in setValues.enumerated() {
            #expect(Self.uniform(v) == Double(1000 * (k + 1)), "the value given to setValue \(k) was modified")
        }
        let final = try #require(Self.uniform(try g.value(of: w)), "w is not uniform")
        // The last setValue, then some steps of −0.5: 40000 − 0.5·m for some 0 ≤ m ≤ 60, or no setValue was last.
        let m = (40_000 - final) / 0.5
        #expect(final <= 0 || (m >= 0 && m <= 60 && m == m.rounded()), "final w \(final)")
    }

    @Test("two functions updating one parameter from two threads: a serial interleaving (initial + 100 exactly)",
          arguments: [1, 2])
    func twoFunctions(workers: Int) throws {
        let g = Graph()
        let shape = [128, 130]
        let w = g.parameter("w", try TensorValue.filled(shape, .float64, with: 7))
        let ones = g.constant(try TensorValue.filled(shape, .float64, with: 1))
        let options = CompileOptions(workers: workers)
        // One general update (w ← w + 1), one in place (w ← w + 1·ones).
        let general = try compile(inputs: [], outputs: [w], updates: [ParameterUpdate(w, try w + 1.0)], options: options)
        let axpy = try compile(inputs: [], outputs: [w], updates: [ParameterUpdate(w, try w + g.scalar(1, .float64) * ones)],
                               options: options)
        let seen = Mutex<[[Double]]>([[], []])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            let f = thread == 0 ? general : axpy
            for step in 0..<50 {
                do {
                    let before = try f([:])[0]
                    guard let v = Self.uniform(before) else {
                        failures.withLock { $0.append("thread \(thread) step \(step): output not uniform") }
                        continue
                    }
                    seen.withLock { $0[thread].append(v) }
                } catch {
                    failures.withLock { $0.append("thread \(thread) step \(step): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(Self.uniform(try g.value(of: w)) == 107)
        // Each call saw the value before it: together the 100 values 7, 8, …, 106, each once.
        let all = seen.withLock { $0 }
        #expect((all[0] + all[1]).sorted() == (0..<100).map { Double(7 + $0) })
        for t in 0..<2 { #expect(all[t] == all[t].sorted(), "thread \(t) saw w go back") }
    }
}

private extension SeededGenerator {
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { nextUnit() < p }
}
