/// A checkpoint that cannot be written, read or applied: a malformed or hostile
/// safetensors file, a tensor the library cannot hold, or a file whose tensors do
/// not fit the graph's parameters.
///
/// Every case names the tensor (or the byte offset, for a header that is not
/// well-formed) and says what was expected and what came; `description` is the
/// full sentence, e.g.
/// `safetensors: tensor "w1" has dtype "BF16"; supported dtypes are F32, F64, I32`.
///
/// ```swift
/// do {
///     try graph.loadParameters(from: url)
/// } catch let error as CheckpointError {
///     print(error)   // checkpoint: parameter "w1" is float32 [784, 100]; the file has [784, 10]
/// }
/// ```
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: File structure

    /// The file is shorter than the 8-byte header length.
    case truncatedFile(size: Int)
    /// The header length is above `SafeTensors.maximumHeaderSize`.
    case headerTooLarge(declared: UInt64, maximum: Int)
    /// The header length runs past the end of the file.
    case headerExceedsFile(declared: UInt64, available: Int)
    /// The header is not UTF-8, not JSON, or not the safetensors layout;
    /// `offset` is the byte offset inside the header.
    case malformedHeader(offset: Int, reason: String)

    // MARK: Tensor entries

    /// Two header entries have the same name.
    case duplicateTensor(name: String)
    /// A tensor entry lacks a field, repeats one, has an unknown one, or has one
    /// of the wrong type.
    case invalidTensorEntry(tensor: String, reason: String)
    /// The dtype is outside the closed set F32, F64, I32.
    case unsupportedDType(tensor: String, dtype: String)
    /// The product of the dimensions (or the byte count) does not fit in `Int`.
    case shapeOverflow(tensor: String, shape: [Int])
    /// `data_offsets` is reversed or runs past the data section.
    case offsetsOutOfRange(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// `end - begin` differs from the element count times the element size.
    case byteCountMismatch(tensor: String, expected: Int, actual: Int)
    /// Two tensors share bytes of the data section.
    case overlappingTensors(first: String, second: String)
    /// Bytes `begin..<end` of the data section belong to no tensor (a hole, or
    /// trailing bytes after the last tensor).
    case uncoveredData(begin: Int, end: Int)
    /// A tensor name the format reserves (`__metadata__`), refused when writing.
    case reservedName(String)

    // MARK: Graph parameters

    /// Two parameters of the graph have the same name, so a checkpoint cannot tell
    /// them apart.
    case duplicateParameterName(String)
    /// Parameters of the graph that the checkpoint does not hold (strict loading).
    case missingTensors([String])
    /// Tensors of the checkpoint that name no parameter (strict loading).
    case unexpectedTensors([String])
    /// A tensor's element type differs from its parameter's.
    case dtypeMismatch(tensor: String, expected: DType, actual: DType)
    /// A tensor's shape differs from its parameter's.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])

    // MARK: File system

    /// Creating, writing, syncing, renaming or reading a file failed.
    case fileSystem(path: String, operation: String, reason: String)

    public var description: String {
        switch self {
        case .truncatedFile(let size):
            "safetensors: the file has \(size) bytes; at least 8 (the header length) are needed"
        case .headerTooLarge(let declared, let maximum):
            "safetensors: the header length is \(declared) bytes; the maximum is \(maximum)"
        case .headerExceedsFile(let declared, let available):
            "safetensors: the header length is \(declared) bytes but only \(available) bytes follow the length"
        case .malformedHeader(let offset, let reason):
            "safetensors: malformed header at byte \(offset): \(reason)"
        case .duplicateTensor(let name):
            "safetensors: tensor \(Self.quote(name)) appears more than once in the header"
        case .invalidTensorEntry(let tensor, let reason):
            "safetensors: tensor \(Self.quote(tensor)): \(reason)"
        case .unsupportedDType(let tensor, let dtype):
            "safetensors: tensor \(Self.quote(tensor)) has dtype \(Self.quote(dtype)); supported dtypes are F32, F64, I32"
        case .shapeOverflow(let tensor, let shape):
            "safetensors: tensor \(Self.quote(tensor)) has shape \(Shape.describe(shape)), whose size overflows"
        case .offsetsOutOfRange(let tensor, let begin, let end, let dataSize):
            "safetensors: tensor \(Self.quote(tensor)) has data_offsets [\(begin), \(end)]; expected begin ≤ end ≤ \(dataSize) (the "
                + "data section's size)"
        case .byteCountMismatch(let tensor, let expected, let actual):
            "safetensors: tensor \(Self.quote(tensor)) needs \(expected) bytes for its dtype and shape; its data_offsets span \(actual)"
        case .overlappingTensors(let first, let second):
            "safetensors: tensors \(Self.quote(first)) and \(Self.quote(second)) overlap in the data section"
        case .uncoveredData(let begin, let end):
            "safetensors: bytes \(begin)..<\(end) of the data section belong to no tensor"
        case .reservedName(let name):
            "safetensors: \(Self.quote(name)) is reserved for the metadata and cannot name a tensor"
        case .duplicateParameterName(let name):
            "checkpoint: several parameters are named \(Self.quote(name)); names must be unique to save or load"
        case .missingTensors(let names):
            "checkpoint: the file has no tensor for parameter\(names.count == 1 ? "" : "s") "
                + "\(names.map(Self.quote).joined(separator: ", "))"
        case .unexpectedTensors(let names):
            "checkpoint: tensor\(names.count == 1 ? "" : "s") \(names.map(Self.quote).joined(separator: ", ")) of the file "
                + "name\(names.count == 1 ? "s" : "") no parameter"
        case .dtypeMismatch(let tensor, let expected, let actual):
            "checkpoint: parameter \(Self.quote(tensor)) is \(expected); the file has \(actual)"
        case .shapeMismatch(let tensor, let expected, let actual):
            "checkpoint: parameter \(Self.quote(tensor)) has shape \(Shape.describe(expected)); the file has \(Shape.describe(actual))"
        case .fileSystem(let path, let operation, let reason):
            "checkpoint: cannot \(operation) \(path): \(reason)"
        }
    }

    /// A name in double quotes, control characters escaped, at most 200 characters:
    /// names come from files and may be hostile.
    static func quote(_ name: String) -> String {
        var out = "\""
        for (i, scalar) in name.unicodeScalars.enumerated() {
            if i == 200 { out += "…"; break }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
