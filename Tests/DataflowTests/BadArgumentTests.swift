import Foundation
import Testing
import Dataflow

// Bad arguments throw typed errors naming what is wrong; nothing traps. (Cases that
// trap today cannot run inside the test process; they are run one per process by
// the client package /work/client-check and listed in its report.)

/// Runs `body`, expecting an error of type `E` whose kind satisfies `kind` and whose
/// message contains every string of `mentions`.
private func expectError<E: Error & CustomStringConvertible>(
    _ type: E.Type, _ what: String, mentions: [String] = [], kind: (E) -> Bool = { _ in true },
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("\(what): no error thrown (expected \(E.self))", sourceLocation: sourceLocation)
    } catch let error as E {
        #expect(kind(error), "\(what): wrong kind: \(error) (\(String(reflecting: error)))", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(error.description.contains(m), "\(what): the message \"\(error)\" does not name \(m)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("\(what): threw \(Swift.type(of: error)) \(error), expected \(E.self)", sourceLocation: sourceLocation)
    }
}

@Suite("Bad arguments throw")
struct BadArgumentTests {
    // MARK: Shapes and reshape

    @Test("reshape infers one -1 dimension (numpy style), also through the interpreter and compiled")
    func reshapeInfers() throws {
        let g = Graph()
        let w = g.parameter("w", try TensorValue(shape: [2, 8], floats: (0..<16).map(Float.init)))
        let r = try reshape(w, [-1, 4])
        #expect(r.shape == [4, 4])
        #expect(try evaluate([r])[0].shape == [4, 4])
        let x = try g.placeholder("x", .float32, [nil, 8])
        let rx = try reshape(x, [-1, 4])
        let f = try compile(inputs: [x], outputs: [rx])
        let out = try f(["x": try TensorValue(shape: [3, 8], floats: (0..<24).map(Float.init))])[0]
        #expect(out.shape == [6, 4])
        #expect(out.floats == (0..<24).map(Float.init))
        let nilInferred = try reshape(w, [nil, 2])
        #expect(nilInferred.shape == [8, 2])
    }

    @Test("reshape with two inferred or other negative dimensions throws GraphError",
          arguments: [[-1, -1], [-2, 4], [-2, -8], [-4, -4], [4, -4], [nil, -1], [nil, nil], [0, -1]] as [[Int?]])
    func reshapeBad(dims: [Int?]) throws {
        let g = Graph()
        let w = g.parameter("w", try TensorValue(shape: [2, 8], floats: (0..<16).map(Float.init)))
        expectError(GraphError.self, "reshape \(w.shape) to \(dims)", mentions: ["w"]) {
            _ = try reshape(w, Shape(dims))
        }
        // The same on a tensor whose element count is only known at run time (a zero
        // dimension can only be refused at run time there).
        guard !dims.contains(0) else { return }
        let x = try g.placeholder("x", .float32, [nil, 8])
        expectError(GraphError.self, "reshape x [?, 8] to \(dims)", mentions: ["x"]) {
            _ = try reshape(x, Shape(dims))
        }
    }

    // MARK: Placeholders

    @Test("a placeholder redeclared with another shape or dtype throws .redeclared; the same declaration is the same tensor")
    func placeholderRedeclared() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, 4])
        #expect(try g.placeholder("x", .float32, [nil, 4]) == x)
        expectError(GraphError.self, "other shape", mentions: ["x"], kind: { $0.kind == .redeclared }) {
            _ = try g.placeholder("x", .float32, [nil, 5])
        }
        expectError(GraphError.self, "other rank", mentions: ["x"], kind: { $0.kind == .redeclared }) {
            _ = try g.placeholder("x", .float32, [4])
        }
        expectError(GraphError.self, "other dtype", mentions: ["x"], kind: { $0.kind == .redeclared }) {
            _ = try g.placeholder("x", .float64, [nil, 4])
        }
    }

    @Test("a placeholder with a negative dimension throws .invalidArgument")
    func placeholderNegative() {
        let g = Graph()
        expectError(GraphError.self, "[-3]", mentions: ["x", "-3"], kind: { $0.kind == .invalidArgument }) {
            _ = try g.placeholder("x", .float32, [-3])
        }
        expectError(GraphError.self, "[nil, -1]", mentions: ["y"], kind: { $0.kind == .invalidArgument }) {
            _ = try g.placeholder("y", .float32, [nil, -1])
        }
    }

    // MARK: Compile options

    @Test("workers: 4096 compiles and runs (capped); 0 and -1 throw .invalidOption")
    func workerCounts() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float64, [2])
        let f = try compile(inputs: [x], outputs: [try x * 2.0], options: CompileOptions(workers: 4096))
        #expect(try f(["x": try TensorValue(shape: [2], doubles: [1, 2])])[0].doubles == [2, 4])
        for bad in [0, -1, Int.min] {
            expectError(CompileError.self, "workers \(bad)", mentions: ["\(bad)"], kind: { $0.kind == .invalidOption }) {
                _ = try compile(inputs: [x], outputs: [x], options: CompileOptions(workers: bad))
            }
        }
    }

    // MARK: TensorValue factories

    @Test("TensorValue factories refuse negative, overflowing and inconsistent shapes")
    func tensorValueFactories() {
        let invalid: (GraphError) -> Bool = { $0.kind == .invalidArgument }
        expectError(GraphError.self, "zeros [-1]", mentions: ["-1"], kind: invalid) { _ = try TensorValue.zeros([-1], .float32) }
        expectError(GraphError.self, "zeros [Int.max, 4]", kind: invalid) { _ = try TensorValue.zeros([Int.max, 4], .float32) }
        expectError(GraphError.self, "zeros [2, -3, 0]", kind: invalid) { _ = try TensorValue.zeros([2, -3, 0], .float64) }
        expectError(GraphError.self, "uniform [-2]", kind: invalid) { _ = try TensorValue.uniform([-2], .float32, seed: 1) }
        expectError(GraphError.self, "filled [-2]", kind: invalid) { _ = try TensorValue.filled([-2], .float32, with: 1) }
        expectError(GraphError.self, "labels classes 0", mentions: ["0"], kind: invalid) {
            _ = try TensorValue.labels(count: 3, classes: 0, seed: 1)
        }
        expectError(GraphError.self, "labels classes -5", kind: invalid) { _ = try TensorValue.labels(count: 3, classes: -5, seed: 1) }
        expectError(GraphError.self, "labels classes > Int32.max", kind: invalid) {
            _ = try TensorValue.labels(count: 3, classes: Int(Int32.max) + 1, seed: 1)
        }
        expectError(GraphError.self, "labels count -1", kind: invalid) { _ = try TensorValue.labels(count: -1, classes: 3, seed: 1) }
        expectError(GraphError.self, "[2, 2] with 1 float", kind: { $0.kind == .shapeMismatch }) {
            _ = try TensorValue(shape: [2, 2], floats: [1])
        }
        expectError(GraphError.self, "[2] with 3 doubles") { _ = try TensorValue(shape: [2], doubles: [1, 2, 3]) }
        expectError(GraphError.self, "[-1] with 0 int32s") { _ = try TensorValue(shape: [-1], int32s: []) }
        expectError(GraphError.self, "[-1, -1] with 1 float") { _ = try TensorValue(shape: [-1, -1], floats: [1]) }
        expectError(GraphError.self, "converting [3] from 2 values") { _ = try TensorValue(shape: [3], converting: [1, 2], to: .float32) }
        expectError(GraphError.self, "converting [-2, -1] from 2 values") {
            _ = try TensorValue(shape: [-2, -1], converting: [1, 2], to: .float64)
        }
    }

    // MARK: Foreign tensors and node ids

    @Test("a tensor of another graph is refused by value(of:), setValue, compile, evaluate and operators")
    func foreignTensors() throws {
        let g = Graph(), other = Graph()
        let w = g.parameter("w", try TensorValue(shape: [2], floats: [1, 2]))
        let v = other.parameter("v", try TensorValue(shape: [2], floats: [3, 4]))
        let foreign: (GraphError) -> Bool = { $0.kind == .foreignTensor }
        expectError(GraphError.self, "value(of:)", mentions: ["v"], kind: foreign) { _ = try g.value(of: v) }
        expectError(GraphError.self, "setValue", mentions: ["v"], kind: foreign) {
            try g.setValue(try TensorValue(shape: [2], floats: [0, 0]), of: v)
        }
        expectError(CompileError.self, "compile outputs", mentions: ["v"], kind: { $0.kind == .foreignTensor }) {
            _ = try compile(inputs: [], outputs: [w, v])
        }
        expectError(CompileError.self, "compile update", mentions: ["v"], kind: { $0.kind == .foreignTensor }) {
            _ = try compile(inputs: [], outputs: [w], updates: [ParameterUpdate(w, v)])
        }
        // The interpreter's error type for this is not pinned down (GraphError or RuntimeError): any error naming v.
        do {
            _ = try Interpreter(g).evaluate([v])
            Issue.record("evaluate of a foreign tensor returned")
        } catch {
            #expect("\(error)".contains("v"), "\(error)")
        }
        expectError(GraphError.self, "w + v", mentions: ["w", "v"], kind: foreign) { _ = try w + v }
        #expect(try g.value(of: w).floats == [1, 2])
    }

    @Test("apply with the wrong input count or a node id out of range, graph.tensor with a bad id, bad parameter ids throw")
    func nodeIDs() throws {
        let g = Graph()
        let a = g.parameter("a", try TensorValue(shape: [2], floats: [1, 2]))
        expectError(GraphError.self, "apply(.add, [a])", mentions: ["add"], kind: { $0.kind == .wrongInputCount }) {
            _ = try g.apply(.add, [a.id])
        }
        expectError(GraphError.self, "apply(.neg, [])", kind: { $0.kind == .wrongInputCount }) { _ = try g.apply(.neg, []) }
        expectError(GraphError.self, "apply(.add, [a, #999])", kind: { $0.kind == .foreignTensor }) {
            _ = try g.apply(.add, [a.id, NodeID(999)])
        }
        expectError(GraphError.self, "apply(.neg, [#-1])", kind: { $0.kind == .foreignTensor }) { _ = try g.apply(.neg, [NodeID(-1)]) }
        expectError(GraphError.self, "apply(.parameter)") { _ = try g.apply(.parameter(ParameterID(0)), []) }
        expectError(GraphError.self, "tensor(#999)", mentions: ["999"], kind: { $0.kind == .foreignTensor }) {
            _ = try g.tensor(NodeID(999))
        }
        expectError(GraphError.self, "tensor(#-1)", kind: { $0.kind == .foreignTensor }) { _ = try g.tensor(NodeID(-1)) }
        #expect(try g.tensor(a.id) == a)
        expectError(GraphError.self, "parameterValue(99)",
                    kind: { $0.kind == .foreignTensor }) { _ = try g.parameterValue(ParameterID(99)) }
        expectError(GraphError.self, "parameterName(-1)", kind: { $0.kind == .foreignTensor }) { _ = try g.parameterName(ParameterID(-1)) }
        expectError(GraphError.self, "constantValue(5)", kind: { $0.kind == .foreignTensor }) { _ = try g.constantValue(ConstantID(5)) }
    }

    @Test("setValue and value(of:) refuse a wrong shape, a wrong dtype and a non-parameter, naming it")
    func setValueChecks() throws {
        let g = Graph()
        let w = g.parameter("weights", try TensorValue(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]))
        expectError(GraphError.self, "shape", mentions: ["weights"], kind: { $0.kind == .shapeMismatch }) {
            try g.setValue(try TensorValue.zeros([3, 2], .float32), of: w)
        }
        expectError(GraphError.self, "dtype", mentions: ["weights"], kind: { $0.kind == .dtypeMismatch }) {
            try g.setValue(try TensorValue.zeros([2, 3], .float64), of: w)
        }
        let doubled = try w * 2.0
        expectError(GraphError.self, "not a parameter", kind: { $0.kind == .notAParameter }) { _ = try g.value(of: doubled) }
        expectError(GraphError.self, "setValue not a parameter", kind: { $0.kind == .notAParameter }) {
            try g.setValue(try TensorValue.zeros([2, 3], .float32), of: doubled)
        }
        #expect(try g.value(of: w).floats == [1, 2, 3, 4, 5, 6])
    }

    @Test("compile refuses bad programs with the documented CompileError kinds")
    func compileKinds() throws {
        let g = Graph()
        let x = try g.placeholder("x", .float32, [nil, 2])
        let w = g.parameter("w", try TensorValue(shape: [2], floats: [1, 2]))
        let y = try x * w
        expectError(CompileError.self, "missing input", mentions: ["x"], kind: { $0.kind == .missingInput("x") }) {
            _ = try compile(inputs: [], outputs: [y])
        }
        expectError(CompileError.self, "input not a placeholder", kind: { $0.kind == .invalidInput }) {
            _ = try compile(inputs: [x, w], outputs: [y])
        }
        expectError(CompileError.self, "placeholder given twice", kind: { $0.kind == .invalidInput }) {
            _ = try compile(inputs: [x, x], outputs: [y])
        }
        expectError(CompileError.self, "nothing to compute", kind: { $0.kind == .empty }) {
            _ = try compile(inputs: [], outputs: [])
        }
        expectError(CompileError.self, "update target not a parameter", kind: { $0.kind == .invalidUpdate }) {
            _ = try compile(inputs: [x], outputs: [], updates: [ParameterUpdate(y, y)])
        }
        expectError(CompileError.self, "update of another shape", mentions: ["w"], kind: { $0.kind == .invalidUpdate }) {
            _ = try compile(inputs: [], outputs: [], updates: [ParameterUpdate(w, g.scalar(1, .float32))])
        }
        expectError(CompileError.self, "update of another dtype", mentions: ["w"], kind: { $0.kind == .invalidUpdate }) {
            let d = g.parameter("d", try TensorValue(shape: [2], doubles: [1, 2]))
            _ = try compile(inputs: [], outputs: [], updates: [ParameterUpdate(w, d)])
        }
        // Refused at compile or, at the latest, at the first call (where programs are lowered).
        expectError(CompileError.self, "a parameter updated twice", mentions: ["w"], kind: { $0.kind == .invalidUpdate }) {
            let f = try compile(inputs: [], outputs: [], updates: [ParameterUpdate(w, try w * 2.0), ParameterUpdate(w, try w * 3.0)])
            _ = try f([:])
        }
    }

    // MARK: Feeds

    /// logits = x • w, loss = crossEntropy(logits, y): x float32 [?, 3], y int32 [?], 4 classes.
    private struct Classifier {
        let g = Graph()
        let x: Tensor, y: Tensor, loss: Tensor
        init() throws {
            x = try g.placeholder("x", .float32, [nil, 3])
            y = try g.placeholder("y", .int32, [nil])
            let w = g.parameter("w", try TensorValue.uniform([3, 4], .float32, seed: 1))
            loss = try crossEntropy(x • w, y)
        }
        func feeds(batch: Int = 2, labels: [Int32]? = nil) throws -> [String: TensorValue] {
            ["x": try TensorValue.uniform([batch, 3], .float32, seed: 2),
             "y": try TensorValue(shape: [batch], int32s: labels ?? (0..<batch).map { Int32($0 % 4) })]
        }
    }

    @Test("bad feeds to a compiled function throw RuntimeError with the right kind, naming the tensor")
    func compiledFeeds() throws {
        let c = try Classifier()
        let f = try compile(inputs: [c.x, c.y], outputs: [c.loss])
        let good = try c.feeds()
        _ = try f(good)
        func expectKind(_ what: String, _ feeds: [String: TensorValue], _ kind: RuntimeError.Kind, names: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
            expectError(RuntimeError.self, what, mentions: [names], kind: { $0.kind == kind }, sourceLocation: sourceLocation) {
                _ = try f(feeds)
            }
        }
        var feeds = good
        feeds["y"] = nil
        expectKind("missing y", feeds, .missingFeed("y"), names: "y")
        feeds = good
        feeds["z"] = try TensorValue.zeros([2], .float32)
        expectKind("unknown z", feeds, .unknownFeed("z"), names: "z")
        feeds = good
        feeds["x"] = try TensorValue.zeros([2, 3], .float64)
        expectKind("x float64", feeds, .feedMismatch("x"), names: "x")
        feeds = good
        feeds["y"] = try TensorValue.zeros([2], .float32)
        expectKind("y float32", feeds, .feedMismatch("y"), names: "y")
        feeds = good
        feeds["x"] = try TensorValue.zeros([6], .float32)
        expectKind("x rank 1", feeds, .feedMismatch("x"), names: "x")
        feeds = good
        feeds["x"] = try TensorValue.zeros([2, 5], .float32)
        expectKind("x [2, 5]", feeds, .feedMismatch("x"), names: "x")
        expectKind("empty batch", try c.feeds(batch: 0), .emptyFeed("x"), names: "x")
        feeds = good
        feeds["y"] = try TensorValue(shape: [3], int32s: [0, 1, 2])
        expectError(RuntimeError.self, "y with 3 rows for x with 2", mentions: ["y"]) { _ = try f(feeds) }
        expectError(RuntimeError.self, "label 4 of 4 classes", mentions: ["y"],
                    kind: { $0.kind == .labelOutOfRange(tensor: "y", index: 1, label: 4, classes: 4) }) {
            _ = try f(try c.feeds(labels: [0, 4]))
        }
        expectError(RuntimeError.self, "label -1", mentions: ["y"],
                    kind: { $0.kind == .labelOutOfRange(tensor: "y", index: 0, label: -1, classes: 4) }) {
            _ = try f(try c.feeds(labels: [-1, 0]))
        }
        #expect(try f(good)[0] == (try f(good)[0]), "the function still works after the errors")
    }

    @Test("labels out of range: the interpreter throws RuntimeError .labelOutOfRange too (as RuntimeError documents)")
    func interpreterLabels() throws {
        let c = try Classifier()
        expectError(RuntimeError.self, "interpreter label 4", mentions: ["y"],
                    kind: { $0.kind == .labelOutOfRange(tensor: "y", index: 1, label: 4, classes: 4) }) {
            _ = try evaluate([c.loss], feeds: try c.feeds(labels: [0, 4]))
        }
        expectError(RuntimeError.self, "interpreter gather label -1", mentions: ["y"],
                    kind: { if case .labelOutOfRange = $0.kind { true } else { false } }) {
            let scores = try c.x.gather(c.y)
            _ = try evaluate([scores], feeds: try c.feeds(labels: [-1, 0]))
        }
    }

    @Test("bad feeds to the interpreter throw RuntimeError with the same kinds as a compiled function (as RuntimeError documents)")
    func interpreterFeeds() throws {
        let c = try Classifier()
        var feeds = try c.feeds()
        feeds["y"] = nil
        expectError(RuntimeError.self, "interpreter missing y", mentions: ["y"], kind: { $0.kind == .missingFeed("y") }) {
            _ = try evaluate([c.loss], feeds: feeds)
        }
        feeds = try c.feeds()
        feeds["z"] = try TensorValue.zeros([2], .float32)
        expectError(RuntimeError.self, "interpreter unknown z", mentions: ["z"], kind: { $0.kind == .unknownFeed("z") }) {
            _ = try evaluate([c.loss], feeds: feeds)
        }
        feeds = try c.feeds()
        feeds["x"] = try TensorValue.zeros([2, 5], .float32)
        expectError(RuntimeError.self, "interpreter x [2, 5]", mentions: ["x"], kind: { $0.kind == .feedMismatch("x") }) {
            _ = try evaluate([c.loss], feeds: feeds)
        }
    }

    // MARK: Other graph-building arguments

    @Test("axes out of range, wrong dtypes and mismatched shapes throw GraphError naming the tensors")
    func opArguments() throws {
        let g = Graph()
        let a = g.parameter("a", try TensorValue.zeros([2, 3], .float32))
        let b = g.parameter("b", try TensorValue.zeros([4, 5], .float32))
        let d = g.parameter("d", try TensorValue.zeros([2, 3], .float64))
        let labels = try g.placeholder("labels", .int32, [nil])
        expectError(GraphError.self, "sum axis 5", mentions: ["a"]) { _ = try sum(a, axes: [5]) }
        expectError(GraphError.self, "mean axis 2", mentions: ["a"]) { _ = try mean(a, axes: [2]) }
        expectError(GraphError.self, "max axis -3", mentions: ["a"]) { _ = try max(a, axes: [-3]) }
        expectError(GraphError.self, "argmax axis 2", mentions: ["a"]) { _ = try argmax(a, axis: 2) }
        expectError(GraphError.self, "a • b", mentions: ["a", "b"], kind: { $0.kind == .shapeMismatch }) { _ = try a • b }
        expectError(GraphError.self, "a + b", mentions: ["a", "b"], kind: { $0.kind == .shapeMismatch }) { _ = try a + b }
        expectError(GraphError.self, "a + d", mentions: ["a", "d"], kind: { $0.kind == .dtypeMismatch }) { _ = try a + d }
        expectError(GraphError.self, "exp(labels)", mentions: ["labels"], kind: { $0.kind == .dtypeMismatch }) { _ = try exp(labels) }
        expectError(GraphError.self, "transpose of rank 1", mentions: ["labels"]) { _ = try transpose(labels) }
        expectError(GraphError.self, "gather with float labels", mentions: ["a"]) { _ = try a.gather(a) }
        expectError(GraphError.self, "reshape [5, 5]", mentions: ["a"]) { _ = try reshape(a, [5, 5]) }
        expectError(GraphError.self, "grad of a non-scalar") { _ = try grad(of: a, wrt: [a]) }
        expectError(GraphError.self, "grad wrt a disconnected parameter", mentions: ["b"], kind: { $0.kind == .disconnected }) {
            _ = try grad(of: try sum(a), wrt: [b])
        }
    }
}
