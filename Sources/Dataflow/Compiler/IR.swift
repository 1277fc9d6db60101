import DataflowKernels

/// The compiler's program representation: a list of values in topological order,
/// each produced by one kernel-level operation.
///
/// It starts as a copy of the graph nodes that the outputs need (`IR.build`), then
/// passes rewrite it: transposes fold into matmul flags, bias + activation and
/// activation gradients fold into matmul epilogues, chains of element-wise ops
/// become one `ElementwiseProgram`. Every pass ends with `verify()` in debug builds
/// and in tests.
struct IR {
    /// What produces a value.
    enum Kind: Hashable {
        /// A graph op, evaluated by its own kernel.
        case op(Op)
        /// `C = epilogue(op(A)·op(B))`; inputs are A, B, then the epilogue's operand
        /// (bias or activation output) when it has one.
        case gemm(transposeA: Bool, transposeB: Bool, epilogue: EpilogueKind)
        /// A fused element-wise chain; inputs are the program's inputs in order.
        case elementwise(ElementwiseProgram)
        /// A constant folded at compile time.
        case folded(FoldedConstant)
    }

    /// The epilogue of a fused matmul (the operand, if any, is the GEMM's third input).
    enum EpilogueKind: Hashable {
        case none
        case bias(Activation)
        case activation(Activation)
        case activationGradient(Activation)
        /// Inputs are pairs (A₁, B₁, A₂, B₂, …) of equal shapes: C = Σᵢ op(Aᵢ)·op(Bᵢ),
        /// accumulated in C in the order of the pairs (`IR.fuseProductSums`).
        case sumOfProducts
    }

    struct Value {
        var kind: Kind
        var inputs: [Int]
        var dtype: DType
        /// Symbolic shape (unknown dims allowed) until `specialise` fills `concrete`.
        var shape: Shape
        var concrete: [Int] = []
        var name: String?
        /// The graph node this value came from (for error messages and traces).
        var origin: NodeID?
        var isGradient: Bool = false
    }

    var values: [Value] = []
    /// Indices of the program's outputs (may repeat).
    var outputs: [Int] = []
    /// Parameter updates, applied in place after every reader of the parameter.
    var updates: [Update] = []

    enum Update {
        /// `p ← p + sign·s·g` with `s` a rank-0 value (learning rate), in place.
        case axpy(parameter: Int, scale: Int, gradient: Int, sign: Double)
        /// `p ← v`: `v` is computed into its own buffer, then copied into `p`.
        case assign(parameter: Int, value: Int)

        var parameter: Int {
            switch self { case .axpy(let p, _, _, _), .assign(let p, _): p }
        }
        var reads: [Int] {
            switch self {
            case .axpy(let p, let s, let g, _): [p, s, g]
            case .assign(let p, let v): [p, v]
            }
        }
        func remapped(_ f: (Int) -> Int) -> Update {
            switch self {
            case .axpy(let p, let s, let g, let sign): .axpy(parameter: f(p), scale: f(s), gradient: f(g), sign: sign)
            case .assign(let p, let v): .assign(parameter: f(p), value: f(v))
            }
        }
    }

    var count: Int { values.count }

    subscript(index: Int) -> Value {
        get { values[index] }
        set { values[index] = newValue }
    }

    /// A readable label for errors and traces, e.g. `matmul "z1"#12`.
    func label(_ index: Int) -> String {
        let v = values[index]
        let opName: String
        switch v.kind {
        case .op(let op): opName = "\(op)"
        case .gemm(let ta, let tb, let e): opName = "gemm(\(ta ? "Aᵀ" : "A")·\(tb ? "Bᵀ" : "B"), \(e))"
        case .elementwise(let p):
            let ops = p.instructions.compactMap { instruction -> String? in
                switch instruction {
                case .unary(let op, _): "\(op)"
                case .binary(let op, _, _): "\(op)"
                case .ternary(let op, _, _, _): "\(op)"
                case .input, .constant: nil
                }
            }
            opName = "fused(\(ops.joined(separator: ", ")))"
        case .folded: opName = "constant"
        }
        if let name = v.name { return "\(opName) '\(name)' (#\(index))" }
        return "\(opName) #\(index)"
    }

    /// Number of consumers of each value (outputs and updates count as consumers).
    func useCounts() -> [Int] {
        var uses = [Int](repeating: 0, count: values.count)
        for v in values { for i in v.inputs { uses[i] += 1 } }
        for o in outputs { uses[o] += 1 }
        for u in updates { for i in u.reads { uses[i] += 1 } }
        return uses
    }
}

/// A value computed at compile time; hashable by identity of its storage so that
/// equal-looking constants are merged only when they are the same value.
struct FoldedConstant: Hashable {
    let value: TensorValue
    let id: Int
    static func == (a: FoldedConstant, b: FoldedConstant) -> Bool { a.id == b.id }
    func hash(into h: inout Hasher) { h.combine(id) }
}

/// An internal inconsistency found by `IR.verify`: a compiler bug, named by pass and value.
struct IRVerificationError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
