import DataflowKernels

/// Fusion: work folded into the matmul epilogue, and chains of element-wise ops
/// evaluated in one loop. Runs on specialised IR (fusion decisions depend on
/// concrete shapes: a bias must be a row vector of the matmul's width).
extension IR {
    /// Every `matmul` becomes a `gemm`; then, when the intermediate has no other
    /// consumer:
    /// - `gemm + bias` (bias of shape [n] or [1, n]) → `gemm(bias)`
    /// - `act(gemm)` / `act(gemm(bias))` for sigmoid, tanh, relu → `gemm(…, act)`
    /// - `sigmoidGrad(y, gemm)`, `tanhGrad(y, gemm)`, `reluGrad(x, gemm)` →
    ///   `gemm(activationGradient)` with y (or x) as the epilogue operand: the
    ///   backward `dZ = (dA·Wᵀ) ⊙ σ'(A)` in one pass over C.
    mutating func fuseMatmulEpilogues() {
        for i in values.indices {
            if case .op(.matmul(let ta, let tb)) = values[i].kind {
                values[i].kind = .gemm(transposeA: ta, transposeB: tb, epilogue: .none)
            }
        }
        var uses = useCounts()
        func plainGemm(_ j: Int, allowing allowed: (EpilogueKind) -> Bool) -> (Bool, Bool, EpilogueKind)? {
            // Epilogues are fused into 2-D products only (a batched product keeps its consumers).
            guard uses[j] == 1, values[j].concrete.count == 2, case .gemm(let ta, let tb, let e) = values[j].kind, allowed(e)
            else { return nil }
            return (ta, tb, e)
        }
        for i in values.indices {
            guard case .op(let op) = values[i].kind else { continue }
            let ins = values[i].inputs
            // Matches on a few ops (no switch over `Op`, so no `default:` hides a new op).
            if op == .add {
                for (g, b) in [(ins[0], ins[1]), (ins[1], ins[0])] {
                    guard values[g].dtype == values[b].dtype,
                          let (ta, tb, _) = plainGemm(g, allowing: { $0 == .none }) else { continue }
                    let n = values[g].concrete[1]
                    let bias = values[b].concrete
                    guard values[i].concrete == values[g].concrete, bias == [n] || bias == [1, n] else { continue }
                    values[i].kind = .gemm(transposeA: ta, transposeB: tb, epilogue: .bias(.none))
                    values[i].inputs = [values[g].inputs[0], values[g].inputs[1], b]
                    uses[g] -= 1
                    break
                }
            } else if op == .sigmoid || op == .tanh || op == .relu {
                let act: Activation = op == .sigmoid ? .sigmoid : (op == .tanh ? .tanh : .relu)
                let g = ins[0]
                guard let (ta, tb, e) = plainGemm(g, allowing: { $0 == .none || $0 == .bias(.none) }) else { continue }
                values[i].kind = .gemm(transposeA: ta, transposeB: tb, epilogue: e == .none ? .activation(act) : .bias(act))
                values[i].inputs = values[g].inputs
                uses[g] -= 1
            } else if op == .sigmoidGrad || op == .tanhGrad || op == .reluGrad {
                let act: Activation = op == .sigmoidGrad ? .sigmoid : (op == .tanhGrad ? .tanh : .relu)
                let (y, g) = (ins[0], ins[1])
                guard values[y].concrete == values[i].concrete, values[g].concrete == values[i].concrete,
                      let (ta, tb, _) = plainGemm(g, allowing: { $0 == .none }) else { continue }
                values[i].kind = .gemm(transposeA: ta, transposeB: tb, epilogue: .activationGradient(act))
                values[i].inputs = [values[g].inputs[0], values[g].inputs[1], y]
                uses[g] -= 1
            }
        }
        pruneDead()
    }

    /// A tree of `add`s whose leaves are all plain 2-D products with the same transposes
    /// and operand shapes, each used only by the tree (a weight's gradient summed over
    /// the time steps or layers that share the weight), becomes one
    /// `gemm(…, sumOfProducts)`: each tile of C takes the first product, then adds the
    /// others in the tree's left-to-right order. No product is stored and read back
    /// by a separate sum. Runs after `fuseMatmulEpilogues` (its leaves are plain
    /// `gemm`s) and before element-wise fusion (which would take the adds).
    ///
    /// Sums of more than `groupSize` terms are accumulated in groups of `groupSize`
    /// consecutive terms, each group as soon as its products' operands exist (so the
    /// accumulation overlaps the rest of the backward pass on other workers), then the
    /// groups are added. The grouping is fixed, never derived from the worker count, so
    /// the bits do not depend on it.
    mutating func fuseProductSums(groupSize: Int = 8) {
        let uses = useCounts()
        var consumed = [Bool](repeating: false, count: values.count)
        func isAdd(_ j: Int) -> Bool { if case .op(.add) = values[j].kind { return true } else { return false } }
        for root in values.indices.reversed() where isAdd(root) && !consumed[root] {
            let shape = values[root].concrete, dtype = values[root].dtype
            guard shape.count == 2 else { continue }
            var leaves: [Int] = [], inner: [Int] = []
            func collect(_ j: Int) {
                if isAdd(j) && uses[j] == 1 && values[j].concrete == shape && values[j].dtype == dtype {
                    inner.append(j)
                    for input in values[j].inputs { collect(input) }
                } else {
                    leaves.append(j)
                }
            }
            for input in values[root].inputs { collect(input) }
            guard leaves.count >= 2, Set(leaves).count == leaves.count else { continue }
            guard case .gemm(let ta, let tb, .none) = values[leaves[0]].kind else { continue }
            let aShape = values[values[leaves[0]].inputs[0]].concrete, bShape = values[values[leaves[0]].inputs[1]].concrete
            var ok = true
            for leaf in leaves {
                guard uses[leaf] == 1, values[leaf].concrete == shape, values[leaf].dtype == dtype,
                      case .gemm(let a, let b, .none) = values[leaf].kind, a == ta, b == tb,
                      values[values[leaf].inputs[0]].concrete == aShape, values[values[leaf].inputs[1]].concrete == bShape
                else { ok = false; break }
            }
            guard ok else { continue }
            for j in inner { consumed[j] = true }
            if leaves.count <= groupSize {
                values[root].kind = .gemm(transposeA: ta, transposeB: tb, epilogue: .sumOfProducts)
                values[root].inputs = leaves.flatMap { values[$0].inputs }
                continue
            }
            // Groups of consecutive terms, each accumulated where its last product was
            // (after all of the group's operands), then one element-wise sum of the groups.
            var partials: [Int] = []
            for start in stride(from: 0, to: leaves.count, by: groupSize) {
                let group = Array(leaves[start..<min(leaves.count, start + groupSize)])
                let at = group.max()!
                if group.count > 1 {
                    let pairs = group.flatMap { values[$0].inputs }
                    values[at].kind = .gemm(transposeA: ta, transposeB: tb, epilogue: .sumOfProducts)
                    values[at].inputs = pairs
                }
                partials.append(at)
            }
            var code: [ElementwiseProgram.Instruction] = [.input(0)]
            var total = 0
            for k in 1..<partials.count {
                code.append(.input(k))
                code.append(.binary(.add, total, code.count - 1))
                total = code.count - 1
            }
            values[root].kind = .elementwise(ElementwiseProgram(inputCount: partials.count, instructions: code))
            values[root].inputs = partials
        }
        pruneDead()
    }

    /// Fuses trees of element-wise ops into one `ElementwiseProgram` each.
    ///
    /// An element-wise input is absorbed into its consumer when it has no other
    /// consumer and the same concrete shape (so no value is recomputed and no
    /// broadcast is evaluated more than once); scalar constants become program
    /// constants. A program holds at most `maxOps` ops, so a 100 000-long chain becomes
    /// many programs of bounded size. Single ops are left alone: their kernels have
    /// broadcast fast paths.
    mutating func fuseElementwiseChains(maxOps: Int = 32) {
        let uses = useCounts()
        func elementwiseOp(_ j: Int) -> ElementwiseKernel? {
            guard case .op(let op) = values[j].kind, values[j].dtype != .int32 else { return nil }
            return op.elementwiseKernel
        }
        // 1. Decide, in topological order, which values are absorbed by their consumer.
        var absorbed = [Bool](repeating: false, count: values.count)
        var size = [Int](repeating: 0, count: values.count)
        for j in values.indices where elementwiseOp(j) != nil {
            var s = 1
            for input in Set(values[j].inputs).sorted()
            where elementwiseOp(input) != nil && uses[input] == 1 && !absorbed[input]
                && values[input].concrete == values[j].concrete && values[input].dtype == values[j].dtype
                && s + size[input] <= maxOps {
                absorbed[input] = true
                s += size[input]
            }
            size[j] = s
        }
        // 2. Emit one program per root (an element-wise value that is not absorbed).
        for root in values.indices where elementwiseOp(root) != nil && !absorbed[root] && size[root] > 1 {
            var instructions: [ElementwiseProgram.Instruction] = []
            var leaves: [Int] = []
            var leafSlot: [Int: Int] = [:]
            var emitted: [Int: Int] = [:]
            enum Frame { case visit(Int), emit(Int) }
            var stack: [Frame] = [.visit(root)]
            while let frame = stack.popLast() {
                switch frame {
                case .visit(let j):
                    stack.append(.emit(j))
                    for input in values[j].inputs.reversed() where absorbed[input] && emitted[input] == nil {
                        stack.append(.visit(input))
                    }
                case .emit(let j):
                    if emitted[j] != nil { continue }
                    var operands: [Int] = []
                    for input in values[j].inputs {
                        if absorbed[input], let s = emitted[input] {
                            operands.append(s)
                        } else if case .op(.scalar(let c)) = values[input].kind {
                            instructions.append(.constant(c))
                            operands.append(instructions.count - 1)
                        } else if let s = leafSlot[input] {
                            operands.append(s)
                        } else {
                            leaves.append(input)
                            instructions.append(.input(leaves.count - 1))
                            leafSlot[input] = instructions.count - 1
                            operands.append(instructions.count - 1)
                        }
                    }
                    guard let kernel = elementwiseOp(j) else { continue }   // only element-wise values are visited
                    instructions.append(kernel.instruction(operands))
                    emitted[j] = instructions.count - 1
                }
            }
            values[root].kind = .elementwise(ElementwiseProgram(inputCount: leaves.count, instructions: instructions))
            values[root].inputs = leaves
        }
        pruneDead()
    }
}
