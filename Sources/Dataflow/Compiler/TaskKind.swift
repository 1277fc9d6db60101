/// What a task of a compiled program does; the scheduler carries it as the task's
/// `kind`, and traces and timelines colour tasks by it.
public enum TaskKind: Int, CaseIterable, Sendable {
    case forwardMatmul = 0
    case weightGradientMatmul
    case inputGradientMatmul
    case biasGradient
    case elementwise
    case rowwise
    case reduction
    case parameterUpdate
    case copy
    case join

    /// A short readable name, used in traces and legends.
    public var name: String {
        switch self {
        case .forwardMatmul: "forward matmul"
        case .weightGradientMatmul: "weight-gradient matmul"
        case .inputGradientMatmul: "input-gradient matmul"
        case .biasGradient: "bias gradient"
        case .elementwise: "element-wise"
        case .rowwise: "softmax / loss"
        case .reduction: "reduction"
        case .parameterUpdate: "parameter update"
        case .copy: "copy"
        case .join: "join"
        }
    }

    /// Kind names by raw value, for `TraceRecorder.chromeTrace(kindNames:)`.
    public static var names: [Int: String] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0.name) })
    }
}
