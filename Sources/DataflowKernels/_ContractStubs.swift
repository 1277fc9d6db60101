// TEMPORARY: signatures of the kernels contract so the compiler type-checks before
// the kernels branch lands. Deleted at merge.
public protocol KernelScalar: TensorElement, BinaryFloatingPoint {}
extension Float: KernelScalar {}
extension Double: KernelScalar {}
public struct KernelError: Error, CustomStringConvertible, Sendable { public let message: String; public var description: String { message } }
public enum Activation: Sendable, Hashable { case none, sigmoid, tanh, relu }
public enum GEMMEpilogue<T: KernelScalar>: Sendable {
    case none
    case bias(MatrixView<T>, Activation)
    case activation(Activation)
    case activationGradient(Activation, output: MatrixView<T>)
}
public enum GEMM {
    public static func multiply<T: KernelScalar>(_ a: MatrixView<T>, transposeA: Bool, _ b: MatrixView<T>, transposeB: Bool, into c: MatrixView<T>, alpha: T = 1, beta: T = 0, epilogue: GEMMEpilogue<T> = .none) throws(KernelError) {}
    public static func multiplyTile<T: KernelScalar>(_ a: MatrixView<T>, transposeA: Bool, _ b: MatrixView<T>, transposeB: Bool, into c: MatrixView<T>, alpha: T = 1, beta: T = 0, epilogue: GEMMEpilogue<T> = .none, tiling: GEMMTiling, tile: Int) throws(KernelError) {}
}
public struct GEMMTiling: Sendable, Hashable {
    public init(m: Int, n: Int, k: Int, tileRows: Int, tileCols: Int) {}
    public static func automatic(m: Int, n: Int, k: Int, targetTiles: Int) -> GEMMTiling { GEMMTiling(m: m, n: n, k: k, tileRows: 1, tileCols: 1) }
    public var tileCount: Int { 1 }
    public func tile(_ index: Int) -> (rows: Range<Int>, cols: Range<Int>) { (0..<1, 0..<1) }
}
public enum UnaryOp: Sendable, Hashable { case neg, exp, log, sigmoid, tanh, relu, square, sqrt, reciprocal, abs }
public enum BinaryOp: Sendable, Hashable { case add, sub, mul, div, maximum, minimum, sigmoidBackward, tanhBackward, reluBackward, greater, equal }
public enum Elementwise {
    public static func unary<T: KernelScalar>(_ op: UnaryOp, _ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {}
    public static func binary<T: KernelScalar>(_ op: BinaryOp, _ a: MatrixView<T>, _ b: MatrixView<T>, into c: MatrixView<T>) throws(KernelError) {}
    public static func fill<T: KernelScalar>(_ value: T, into y: MatrixView<T>) throws(KernelError) {}
    public static func copy<T: TensorElement>(_ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {}
    public static func axpby<T: KernelScalar>(alpha: T, _ x: MatrixView<T>, beta: T, into y: MatrixView<T>) throws(KernelError) {}
    public static func run<T: KernelScalar>(_ program: ElementwiseProgram, inputs: [MatrixView<T>], into y: MatrixView<T>) throws(KernelError) {}
}
public struct ElementwiseProgram: Sendable, Hashable {
    public enum Instruction: Sendable, Hashable { case input(Int), constant(Double), unary(UnaryOp, Int), binary(BinaryOp, Int, Int) }
    public init(inputCount: Int, instructions: [Instruction]) { self.inputCount = inputCount; self.instructions = instructions }
    public let inputCount: Int
    public let instructions: [Instruction]
}
public enum ReduceOp: Sendable, Hashable { case sum, mean, max }
public enum Reduce {
    public static func rows<T: KernelScalar>(_ op: ReduceOp, _ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {}
    public static func columns<T: KernelScalar>(_ op: ReduceOp, _ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {}
    public static func all<T: KernelScalar>(_ op: ReduceOp, _ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {}
}
public enum RowOps {
    public static func softmax<T: KernelScalar>(_ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {}
    public static func logSoftmax<T: KernelScalar>(_ x: MatrixView<T>, into y: MatrixView<T>) throws(KernelError) {}
    public static func softmaxBackward<T: KernelScalar>(output y: MatrixView<T>, _ dy: MatrixView<T>, into dx: MatrixView<T>) throws(KernelError) {}
    public static func logSoftmaxBackward<T: KernelScalar>(output y: MatrixView<T>, _ dy: MatrixView<T>, into dx: MatrixView<T>) throws(KernelError) {}
    public static func crossEntropy<T: KernelScalar>(logits: MatrixView<T>, labels: MatrixView<Int32>, into loss: MatrixView<T>) throws(KernelError) {}
    public static func crossEntropyBackward<T: KernelScalar>(logits: MatrixView<T>, labels: MatrixView<Int32>, scale: MatrixView<T>, into dlogits: MatrixView<T>) throws(KernelError) {}
    public static func gather<T: KernelScalar>(_ x: MatrixView<T>, labels: MatrixView<Int32>, into y: MatrixView<T>) throws(KernelError) {}
    public static func scatter<T: KernelScalar>(_ dy: MatrixView<T>, labels: MatrixView<Int32>, into dx: MatrixView<T>) throws(KernelError) {}
    public static func argmax<T: KernelScalar>(_ x: MatrixView<T>, into y: MatrixView<Int32>) throws(KernelError) {}
}
