/// A fused chain of element-wise operations in SSA form: instruction i defines
/// value i, and the last instruction's value is the result. `Elementwise.run`
/// evaluates it block by block over the output (`ElementwiseProgram+Blocks.swift`),
/// with no intermediate tensors.
///
/// ```swift
/// // y = relu(x0 · 2 − x1)
/// let p = ElementwiseProgram(inputCount: 2, instructions: [
///     .input(0), .constant(2), .binary(.mul, 0, 1), .input(1), .binary(.sub, 2, 3), .unary(.relu, 4)])
/// ```
public struct ElementwiseProgram: Sendable, Hashable {
    /// One SSA instruction; operands name earlier instructions by index.
    public enum Instruction: Sendable, Hashable {
        case input(Int)
        case constant(Double)
        case unary(UnaryOp, Int)
        case binary(BinaryOp, Int, Int)
        case ternary(TernaryOp, Int, Int, Int)
    }

    public let inputCount: Int
    public let instructions: [Instruction]

    /// A validated program: at least one instruction, inputs in 0..<inputCount,
    /// every operand refers to an earlier instruction (preconditions).
    public init(inputCount: Int, instructions: [Instruction]) {
        precondition(inputCount >= 0, "ElementwiseProgram: negative inputCount \(inputCount)")
        precondition(!instructions.isEmpty, "ElementwiseProgram: no instructions")
        for (i, instruction) in instructions.enumerated() {
            switch instruction {
            case .input(let k):
                precondition(k >= 0 && k < inputCount,
                             "ElementwiseProgram: instruction \(i) reads input \(k), but inputCount is \(inputCount)")
            case .constant:
                break
            case .unary(_, let x):
                precondition(x >= 0 && x < i, "ElementwiseProgram: instruction \(i) uses value \(x), which is not an earlier instruction")
            case .binary(_, let x, let y):
                precondition(x >= 0 && x < i && y >= 0 && y < i,
                             "ElementwiseProgram: instruction \(i) uses values \(x), \(y); operands must be earlier instructions")
            case .ternary(_, let x, let y, let z):
                precondition([x, y, z].allSatisfy { $0 >= 0 && $0 < i },
                             "ElementwiseProgram: instruction \(i) uses values \(x), \(y), \(z); operands must be earlier instructions")
            }
        }
        self.inputCount = inputCount
        self.instructions = instructions
    }
}
