/// What a node computes. Every case has shape inference
/// (`GraphStorage+ShapeInference.swift`), a vector-Jacobian rule
/// (`GraphStorage+VJP.swift`, one exhaustive switch), a reference implementation
/// (`Interpreter+Ops.swift`) and an entry in the element-wise kernel table
/// (`Op+Elementwise.swift`); docs/ARCHITECTURE.md says how to add one.
///
/// Ops are primitive and kernel-friendly: the compiler maps each case to a kernel.
/// Element-wise binary ops broadcast like numpy (trailing axes aligned, size-1 axes
/// stretched); an unknown dimension never broadcasts (see `Shape`).
public enum Op: Hashable, Sendable {
    // Leaves.
    /// A value fed at each run, by name.
    case placeholder(String)
    /// A value held by the graph across runs (a Theano shared variable).
    case parameter(ParameterID)
    /// A fixed value in the graph's constant store.
    case constant(ConstantID)
    /// A rank-0 constant of the node's dtype.
    case scalar(Double)

    // Shape-only and structural.
    /// `(x) -> zeros of x's shape and dtype`. No gradient.
    case zerosLike
    /// `(a, b) -> op(a) · op(b)`, rank 2 × rank 2, `op` transposing when the flag is set.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// `(x) -> xᵀ`, rank 2.
    case transpose
    /// `(x) -> x` with the given shape, row-major; at most one unknown dimension,
    /// inferred at run time from the element count.
    case reshape(Shape)

    // Element-wise, numpy broadcasting.
    case add, sub, mul, div
    case neg, exp, log, sigmoid, tanh, relu
    /// `(y, dy) -> dy · y · (1 − y)`, `y` a sigmoid output. Same shapes.
    case sigmoidGrad
    /// `(y, dy) -> dy · (1 − y²)`, `y` a tanh output. Same shapes.
    case tanhGrad
    /// `(x, dy) -> x > 0 ? dy : 0`. Same shapes.
    case reluGrad

    // Reductions: keepDims false; axes sorted, unique, in range; all axes reduce to rank 0.
    case sum(axes: [Int])
    case mean(axes: [Int])
    case max(axes: [Int])
    /// `(x, y, dy) -> dx`: `y = max(x, axes)` and `dy` have the reduced shape; the
    /// gradient is split equally among the elements equal to the maximum:
    /// `dx[i] = x[i] == y[r(i)] ? dy[r(i)] / count(r(i)) : 0`.
    case maxGrad(axes: [Int])
    /// `(dy, like) -> dx` of `mean(like, axes)`: `dy` (the reduced shape) broadcast
    /// back over `axes` to `like`'s shape and divided by the number of reduced
    /// elements (a run-time count when a reduced dimension is unknown).
    case meanGrad(axes: [Int])
    /// `(x, like) -> x` broadcast to `like`'s shape, numpy rules. Only `like`'s shape is read.
    case broadcastLike
    /// `(x, like) -> x` summed over broadcast axes down to `like`'s shape (the
    /// adjoint of broadcasting). Only `like`'s shape is read.
    case sumToShapeOf

    // Softmax family, over the last axis of a rank-1 or rank-2 tensor.
    case softmax, logSoftmax
    /// `(y, dy) -> y ⊙ (dy − rowsum(dy ⊙ y))`, `y` a softmax output.
    case softmaxGrad
    /// `(y, dy) -> dy − exp(y) ⊙ rowsum(dy)`, `y` a log-softmax output.
    case logSoftmaxGrad

    // Labels.
    /// `(x [n, c], labels int32 [n]) -> [n]`, `out[i] = x[i, labels[i]]`.
    case gatherLabels
    /// `(dy [n], labels [n], like [n, c]) -> [n, c]`, zero except `out[i, labels[i]] = dy[i]`.
    case scatterLabels
    /// `(logits [n, c], labels [n]) -> −mean_i logSoftmax(logits)[i, labels[i]]`, rank 0, stable.
    /// An empty batch (n = 0) gives NaN (0/0), like `mean` over zero elements.
    case crossEntropy
    /// `(logits, labels, dloss rank 0) -> (softmax(logits) − onehot(labels)) · dloss / n`.
    case crossEntropyGrad
    /// `(x) -> int32` index of the first maximum along `axis` (removed). No gradient.
    case argmax(axis: Int)
    /// `(x) -> x`, with a zero gradient (Theano's `consider_constant`).
    case stopGradient

    // Element-wise math, numpy broadcasting.
    /// √x, 1/√x, x², |x|, sign(x) (±1, 0 at ±0), log(1 + x), exp(x) − 1.
    case sqrt, rsqrt, square, abs, sign, log1p, expm1
    /// `(x) -> x^p` for a constant exponent `p`.
    case pow(Double)
    /// `(a, b) -> max(a, b)` / `min(a, b)`; on ties the gradient is split equally.
    case maximum, minimum
    /// Comparisons: 1 where true, 0 where false, in the operands' float dtype. No gradient.
    case greater, greaterEqual, less, lessEqual, equal, notEqual
    /// `(mask, a, b) -> mask ≠ 0 ? a : b` (numpy's `where`). No gradient to the mask.
    case select
    /// `(x, lo, hi) -> min(max(x, lo), hi)`. Gradient to `x` where `lo ≤ x ≤ hi`;
    /// none to the bounds.
    case clamp

    // Network layers over NHWC images (`Tensor+Conv.swift`).
    /// `(x [N, H, W, C], kernel [KH, KW, C, O]) -> [N, OH, OW, O]`: 2-D convolution
    /// (cross-correlation) with the attributes' stride, padding and dilation.
    case conv2d(Conv2DAttributes)
    /// `(dy [N, OH, OW, O], kernel, like x [N, H, W, C]) -> dx`: the adjoint of `conv2d`
    /// in its input (`like` gives the input's shape only).
    case conv2dBackwardInput(Conv2DAttributes)
    /// `(x [N, H, W, C], dy [N, OH, OW, O]) -> dk [KH, KW, C, O]`: the adjoint of
    /// `conv2d` in its kernel, summed over the batch.
    case conv2dBackwardKernel(Conv2DAttributes)
    /// `(x [N, H, W, C]) -> [N, OH, OW, C]`: the maximum of each window.
    case maxPool2d(Pool2DAttributes)
    /// `(x, dy [N, OH, OW, C]) -> dx`: each `dy` routed to its window's first maximum.
    /// `x` only selects. Not differentiable again in `dy` (its VJP throws).
    case maxPool2dGrad(Pool2DAttributes)
    /// `(x [N, H, W, C]) -> [N, OH, OW, C]`: the mean of each window.
    case avgPool2d(Pool2DAttributes)
    /// `(dy [N, OH, OW, C], like x) -> dx`: the adjoint of `avgPool2d` (`like` gives the shape only).
    case avgPool2dGrad(Pool2DAttributes)

    // Structural ops (`Tensor+Structural.swift`, interpreter in `Interpreter+StructuralOps.swift`).
    /// `(x) -> x` converted to the dtype: float↔float rounds to nearest; float → int32
    /// truncates toward zero, saturating at the int32 range, NaN → 0; int32 → float is
    /// exact in float64 and rounds in float32. A gradient flows only float → float.
    case cast(DType)
    /// `(x₀, …, xₖ₋₁) -> concatenation along `axis``, `count` = k ≥ 1 inputs of one dtype
    /// and rank, equal on every other axis.
    case concat(axis: Int, count: Int)
    /// `(x) -> x[…, start ..< start + count, …]` along `axis` (0 ≤ start, count ≥ 0).
    case slice(axis: Int, start: Int, count: Int)
    /// `(dy, like) -> zeros of like's shape with dy placed at `start` along `axis``: the
    /// adjoint of `slice` (a zero-padded placement). `like` gives the shape only.
    case sliceGrad(axis: Int, start: Int)
    /// `(x) -> y` with `y`'s axis `a` being `x`'s axis `permutation[a]` (numpy's
    /// `transpose(x, axes)`), any rank.
    case permute([Int])
    /// `(indices int32 [s…]) -> [s…, classes]` of the dtype: 1 at `indices`, 0 elsewhere.
    /// An index outside `0..<classes` is a run-time error. No gradient.
    case oneHot(classes: Int, dtype: DType)
    /// `(table [V, D], indices int32 [s…]) -> [s…, D]`: rows of the table (embedding
    /// lookup). An index outside `0..<V` is a run-time error naming the indices.
    case gatherRows
    /// `(dy [s…, D], indices [s…], like [V, D]) -> [V, D]`: the adjoint of `gatherRows`,
    /// rows of `dy` added into their table row in increasing position order.
    case scatterAddRows
    /// `(like x, counter rank 0) -> mask`: 0 where the counter-based uniform value of
    /// element i of call `counter` under `seed` is < rate, else 1/(1 − rate) (computed in
    /// the dtype); `CounterRandom.dropoutMask`. No gradient to either input.
    case dropoutMask(rate: Double, seed: UInt64)
}

extension Op {
    /// A short name used in DOT labels and error messages, e.g. `matmul`, `sum`.
    public var name: String {
        switch self {
        case .placeholder: "placeholder"
        case .parameter: "parameter"
        case .constant: "constant"
        case .scalar: "scalar"
        case .zerosLike: "zerosLike"
        case .matmul: "matmul"
        case .transpose: "transpose"
        case .reshape: "reshape"
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        case .neg: "neg"
        case .exp: "exp"
        case .log: "log"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .relu: "relu"
        case .sigmoidGrad: "sigmoidGrad"
        case .tanhGrad: "tanhGrad"
        case .reluGrad: "reluGrad"
        case .sum: "sum"
        case .mean: "mean"
        case .max: "max"
        case .maxGrad: "maxGrad"
        case .meanGrad: "meanGrad"
        case .broadcastLike: "broadcastLike"
        case .sumToShapeOf: "sumToShapeOf"
        case .softmax: "softmax"
        case .logSoftmax: "logSoftmax"
        case .softmaxGrad: "softmaxGrad"
        case .logSoftmaxGrad: "logSoftmaxGrad"
        case .gatherLabels: "gatherLabels"
        case .scatterLabels: "scatterLabels"
        case .crossEntropy: "crossEntropy"
        case .crossEntropyGrad: "crossEntropyGrad"
        case .argmax: "argmax"
        case .stopGradient: "stopGradient"
        case .sqrt: "sqrt"
        case .rsqrt: "rsqrt"
        case .square: "square"
        case .abs: "abs"
        case .sign: "sign"
        case .log1p: "log1p"
        case .expm1: "expm1"
        case .pow: "pow"
        case .maximum: "maximum"
        case .minimum: "minimum"
        case .greater: "greater"
        case .greaterEqual: "greaterEqual"
        case .less: "less"
        case .lessEqual: "lessEqual"
        case .equal: "equal"
        case .notEqual: "notEqual"
        case .select: "select"
        case .clamp: "clamp"
        case .conv2d: "conv2d"
        case .conv2dBackwardInput: "conv2dBackwardInput"
        case .conv2dBackwardKernel: "conv2dBackwardKernel"
        case .maxPool2d: "maxPool2d"
        case .maxPool2dGrad: "maxPool2dGrad"
        case .avgPool2d: "avgPool2d"
        case .avgPool2dGrad: "avgPool2dGrad"
        case .cast: "cast"
        case .concat: "concat"
        case .slice: "slice"
        case .sliceGrad: "sliceGrad"
        case .permute: "permute"
        case .oneHot: "oneHot"
        case .gatherRows: "gatherRows"
        case .scatterAddRows: "scatterAddRows"
        case .dropoutMask: "dropoutMask"
        }
    }

    /// The op with its attributes, e.g. `matmul(Tᵀ)`, `sum(axes: [1])`, `scalar(2.0)`.
    public var label: String {
        switch self {
        case .placeholder(let n): "placeholder \"\(n)\""
        case .parameter(let p): "parameter \(p)"
        case .constant(let c): "constant \(c)"
        case .scalar(let v): "scalar \(v)"
        case .matmul(let ta, let tb): "matmul" + (ta || tb ? "(\(ta ? "Aᵀ" : "A")·\(tb ? "Bᵀ" : "B"))" : "")
        case .reshape(let s): "reshape \(s)"
        case .sum(let a), .mean(let a), .max(let a), .maxGrad(let a), .meanGrad(let a): "\(name)(axes: \(a))"
        case .argmax(let axis): "argmax(axis: \(axis))"
        case .pow(let p): "pow(\(p))"
        case .conv2d(let a), .conv2dBackwardInput(let a), .conv2dBackwardKernel(let a): "\(name)(\(a))"
        case .maxPool2d(let a), .maxPool2dGrad(let a), .avgPool2d(let a), .avgPool2dGrad(let a): "\(name)(\(a))"
        case .cast(let d): "cast(\(d))"
        case .concat(let axis, let count): "concat(axis: \(axis), count: \(count))"
        case .slice(let axis, let start, let count): "slice(axis: \(axis), \(start)..<\(start + count))"
        case .sliceGrad(let axis, let start): "sliceGrad(axis: \(axis), start: \(start))"
        case .permute(let p): "permute(\(p))"
        case .oneHot(let classes, let d): "oneHot(classes: \(classes), \(d))"
        case .dropoutMask(let rate, let seed): "dropoutMask(rate: \(rate), seed: \(seed))"
        case .zerosLike, .transpose, .add, .sub, .mul, .div, .neg, .exp, .log, .sigmoid, .tanh, .relu, .sigmoidGrad,
             .tanhGrad, .reluGrad, .broadcastLike, .sumToShapeOf, .softmax, .logSoftmax, .softmaxGrad, .logSoftmaxGrad,
             .gatherLabels, .scatterLabels, .crossEntropy, .crossEntropyGrad, .stopGradient, .sqrt, .rsqrt, .square,
             .abs, .sign, .log1p, .expm1, .maximum, .minimum, .greater, .greaterEqual, .less, .lessEqual, .equal,
             .notEqual, .select, .clamp, .gatherRows, .scatterAddRows:
            name
        }
    }

    /// The dtype of the op's output when it is not its first input's (`argmax`,
    /// `cast`, `oneHot`), else `nil`.
    var fixedOutputDType: DType? {
        switch self {
        case .argmax: .int32
        case .cast(let d): d
        case .oneHot(_, let d): d
        case .placeholder, .parameter, .constant, .scalar, .zerosLike, .matmul, .transpose, .reshape, .add, .sub, .mul,
             .div, .neg, .exp, .log, .sigmoid, .tanh, .relu, .sigmoidGrad, .tanhGrad, .reluGrad, .sum, .mean, .max,
             .maxGrad, .meanGrad, .broadcastLike, .sumToShapeOf, .softmax, .logSoftmax, .softmaxGrad, .logSoftmaxGrad,
             .gatherLabels, .scatterLabels, .crossEntropy, .crossEntropyGrad, .stopGradient, .sqrt, .rsqrt, .square,
             .abs, .sign, .log1p, .expm1, .pow, .maximum, .minimum, .greater, .greaterEqual, .less, .lessEqual, .equal,
             .notEqual, .select, .clamp, .conv2d, .conv2dBackwardInput, .conv2dBackwardKernel, .maxPool2d,
             .maxPool2dGrad, .avgPool2d, .avgPool2dGrad, .concat, .slice, .sliceGrad, .permute, .gatherRows,
             .scatterAddRows, .dropoutMask:
            nil
        }
    }

    /// Whether the node has no inputs.
    public var isLeaf: Bool {
        arity == 0
    }

    /// The number of inputs the op takes.
    public var arity: Int {
        switch self {
        case .placeholder, .parameter, .constant, .scalar: 0
        case .zerosLike, .transpose, .reshape, .neg, .exp, .log, .sigmoid, .tanh, .relu,
             .sum, .mean, .max, .softmax, .logSoftmax, .argmax, .stopGradient,
             .sqrt, .rsqrt, .square, .abs, .sign, .log1p, .expm1, .pow, .maxPool2d, .avgPool2d,
             .cast, .slice, .permute, .oneHot: 1
        case .concat(_, let count): count
        case .matmul, .add, .sub, .mul, .div, .sigmoidGrad, .tanhGrad, .reluGrad, .meanGrad,
             .broadcastLike, .sumToShapeOf, .softmaxGrad, .logSoftmaxGrad, .gatherLabels, .crossEntropy,
             .maximum, .minimum, .greater, .greaterEqual, .less, .lessEqual, .equal, .notEqual,
             .conv2d, .conv2dBackwardKernel, .maxPool2dGrad, .avgPool2dGrad, .sliceGrad, .gatherRows, .dropoutMask: 2
        case .maxGrad, .scatterLabels, .crossEntropyGrad, .select, .clamp, .conv2dBackwardInput, .scatterAddRows: 3
        }
    }

    /// Whether a gradient can flow to input `index` (false for shape-only `like`
    /// inputs, labels, and ops without a gradient).
    public func passesGradient(toInput index: Int) -> Bool {
        switch self {
        case .placeholder, .parameter, .constant, .scalar, .zerosLike, .argmax, .stopGradient, .sign,
             .greater, .greaterEqual, .less, .lessEqual, .equal, .notEqual, .oneHot, .dropoutMask: false
        case .sliceGrad, .scatterAddRows: index == 0   // indices and `like` only select
        case .gatherRows: index == 0                    // the indices get none
        case .broadcastLike, .sumToShapeOf, .meanGrad: index == 0
        case .gatherLabels, .crossEntropy: index == 0
        case .scatterLabels: index == 0
        case .crossEntropyGrad: index != 1
        case .reluGrad: index == 1     // x only selects; its derivative is 0 almost everywhere
        case .maxGrad: index == 2      // x and y only select
        case .select: index != 0       // the mask only selects
        case .clamp: index == 0        // the bounds get none (documented on the case)
        case .conv2dBackwardInput: index != 2   // `like` gives the shape only
        case .maxPool2dGrad: index == 1         // x only selects
        case .avgPool2dGrad: index == 0         // `like` gives the shape only
        case .matmul, .transpose, .reshape, .add, .sub, .mul, .div, .neg, .exp, .log, .sigmoid, .tanh, .relu,
             .sigmoidGrad, .tanhGrad, .sum, .mean, .max, .softmax, .logSoftmax, .softmaxGrad, .logSoftmaxGrad,
             .sqrt, .rsqrt, .square, .abs, .log1p, .expm1, .pow, .maximum, .minimum,
             .conv2d, .conv2dBackwardKernel, .maxPool2d, .avgPool2d,
             .cast, .concat, .slice, .permute: true   // cast: the VJP gives none into or out of int32
        }
    }

    /// Whether the op is element-wise with numpy broadcasting (one output element
    /// per broadcast index).
    public var isElementwise: Bool {
        self == .stopGradient || elementwiseKernel != nil
    }

    /// Whether swapping the two inputs gives the same result (`add`, `mul`); the
    /// graph stores such nodes with inputs in increasing id order.
    public var isCommutative: Bool {
        self == .add || self == .mul
    }
}
