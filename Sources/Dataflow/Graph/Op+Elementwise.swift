import DataflowKernels

/// The kernel of an element-wise op: one point-wise function of one, two or three
/// operands (numpy broadcasting).
enum ElementwiseKernel: Hashable, Sendable {
    case unary(UnaryOp)
    case binary(BinaryOp)
    case ternary(TernaryOp)

    /// The number of operands.
    var arity: Int {
        switch self {
        case .unary: 1
        case .binary: 2
        case .ternary: 3
        }
    }

    /// The program instruction applying this kernel to the results of instructions
    /// `operands` (one per operand).
    func instruction(_ operands: [Int]) -> ElementwiseProgram.Instruction {
        switch self {
        case .unary(let u): .unary(u, operands[0])
        case .binary(let b): .binary(b, operands[0], operands[1])
        case .ternary(let t): .ternary(t, operands[0], operands[1], operands[2])
        }
    }
}

extension Op {
    /// The one table from an op to its element-wise kernel, or `nil` when the op is
    /// not element-wise. Shape inference (broadcasting), fusion (`IR+Fuse.swift`) and
    /// lowering (`Lowering.swift`) all read it, so a new element-wise op is added here
    /// once. Exhaustive, no `default:`: a new op does not compile until it is decided.
    var elementwiseKernel: ElementwiseKernel? {
        switch self {
        case .neg: .unary(.neg)
        case .exp: .unary(.exp)
        case .log: .unary(.log)
        case .sigmoid: .unary(.sigmoid)
        case .tanh: .unary(.tanh)
        case .relu: .unary(.relu)
        case .sqrt: .unary(.sqrt)
        case .rsqrt: .unary(.rsqrt)
        case .square: .unary(.square)
        case .abs: .unary(.abs)
        case .sign: .unary(.sign)
        case .log1p: .unary(.log1p)
        case .expm1: .unary(.expm1)
        case .pow(let p): .unary(.pow(p))
        case .add: .binary(.add)
        case .sub: .binary(.sub)
        case .mul: .binary(.mul)
        case .div: .binary(.div)
        case .maximum: .binary(.maximum)
        case .minimum: .binary(.minimum)
        case .greater: .binary(.greater)
        case .greaterEqual: .binary(.greaterEqual)
        case .less: .binary(.less)
        case .lessEqual: .binary(.lessEqual)
        case .equal: .binary(.equal)
        case .notEqual: .binary(.notEqual)
        case .sigmoidGrad: .binary(.sigmoidBackward)
        case .tanhGrad: .binary(.tanhBackward)
        case .reluGrad: .binary(.reluBackward)
        case .select: .ternary(.select)
        case .clamp: .ternary(.clamp)
        case .placeholder, .parameter, .constant, .scalar, .zerosLike, .matmul, .transpose, .reshape,
             .sum, .mean, .max, .maxGrad, .meanGrad, .broadcastLike, .sumToShapeOf,
             .softmax, .logSoftmax, .softmaxGrad, .logSoftmaxGrad, .gatherLabels, .scatterLabels,
             .crossEntropy, .crossEntropyGrad, .argmax, .stopGradient,
             .conv2d, .conv2dBackwardInput, .conv2dBackwardKernel, .maxPool2d, .maxPool2dGrad, .avgPool2d, .avgPool2dGrad:
            nil
        // Structural: not element-wise (cast changes the dtype, the mask reads a counter).
        case .cast, .concat, .slice, .sliceGrad, .permute, .oneHot, .gatherRows, .scatterAddRows, .dropoutMask:
            nil
        }
    }
}
