import Foundation
import Testing
@testable import Dataflow

/// Every way the safetensors reader refuses a file, each with the exact error.
@Suite("CheckpointReader")
struct CheckpointReaderTests {
    /// A one-tensor header: F32 `[2]` at `[0, 8]` unless told otherwise.
    static func one(_ name: String = "t", dtype: String = "F32", shape: String = "[2]", offsets: String = "[0,8]") -> String {
        #"{"\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}}"#
    }

    static let eight: [UInt8] = littleEndianBytes([Float(1), 2])

    func expectError(_ expected: CheckpointError, _ file: Data, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try SafeTensors.decode(file) }
    }

    /// Expects `.malformedHeader` whose reason contains `fragment`.
    func expectMalformed(_ fragment: String, _ file: Data, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) { try SafeTensors.decode(file) }
        guard case .malformedHeader(_, let reason)? = error else {
            Issue.record("expected malformedHeader, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(reason.contains(fragment), "\(reason)", sourceLocation: sourceLocation)
    }

    /// Expects `.invalidTensorEntry` for `tensor` whose reason contains `fragment`.
    func expectInvalidEntry(_ tensor: String, _ fragment: String, _ file: Data, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) { try SafeTensors.decode(file) }
        guard case .invalidTensorEntry(let name, let reason)? = error else {
            Issue.record("expected invalidTensorEntry, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(name == tensor, sourceLocation: sourceLocation)
        #expect(reason.contains(fragment), "\(reason)", sourceLocation: sourceLocation)
    }

    @Test("the valid base file decodes (so each case below fails for its own reason)")
    func baseline() throws {
        let (tensors, _) = try SafeTensors.decode(safetensorsFile(Self.one(), data: Self.eight))
        #expect(tensors["t"] == (try TensorValue(shape: [2], floats: [1, 2])))
        // Header padding with spaces (and other JSON whitespace) is accepted.
        let padded = try SafeTensors.decode(safetensorsFile(Self.one() + "      \n", data: Self.eight))
        #expect(padded.tensors == tensors)
    }

    // MARK: Length field

    @Test("fewer than 8 bytes: truncatedFile", arguments: 0..<8)
    func truncated(size: Int) {
        expectError(.truncatedFile(size: size), Data(repeating: 0, count: size))
    }

    @Test("a header length above 100 MB: headerTooLarge")
    func headerTooLarge() {
        expectError(.headerTooLarge(declared: 100_000_001, maximum: 100_000_000), safetensorsFile("{}", declared: 100_000_001))
        expectError(.headerTooLarge(declared: .max, maximum: 100_000_000), safetensorsFile("{}", declared: .max))
    }

    @Test("a header length past the end of the file: headerExceedsFile")
    func headerExceedsFile() {
        expectError(.headerExceedsFile(declared: 100, available: 10), safetensorsFile("{}", data: Array(repeating: 32, count: 8),
                                                                                      declared: 100))
        expectError(.headerExceedsFile(declared: 1, available: 0), safetensorsFile("", declared: 1))
    }

    // MARK: Header syntax

    @Test("headers that are not UTF-8 or not JSON of the right shape: malformedHeader")
    func malformed() {
        expectMalformed("UTF-8", safetensorsFile("{}", data: [0xFF], declared: 3))   // 0xFF is never UTF-8
        var bad = safetensorsFile("{\"\u{0}\":1}")
        bad[10] = 0xC3                                                             // a lead byte without its continuation
        expectMalformed("UTF-8", bad)
        expectMalformed("must start with '{'", safetensorsFile(""))
        expectMalformed("must start with '{'", safetensorsFile(" {}"))
        expectMalformed("must start with '{'", safetensorsFile("[]"))
        expectMalformed("only whitespace may follow", safetensorsFile("{}x"))
        expectMalformed("only whitespace may follow", safetensorsFile("{}{}"))
        expectMalformed("expected a string, found the end", safetensorsFile("{"))
        expectMalformed("',' or '}'", safetensorsFile(String(Self.one().dropLast()), data: Self.eight))
        expectMalformed("expected a string", safetensorsFile("{,}"))
        expectMalformed("expected a string", safetensorsFile(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},}"#))
        expectMalformed("':' after a key", safetensorsFile(#"{"t" {}}"#))
        expectMalformed("unterminated string", safetensorsFile(#"{"abc"#))
        expectMalformed("invalid escape", safetensorsFile(#"{"a\qb":{}}"#))
        expectMalformed("unterminated \\u escape", safetensorsFile(#"{"\u12"#))
        expectMalformed("hex digit", safetensorsFile(#"{"\u12G4":{}}"#))
        expectMalformed("lone low surrogate", safetensorsFile(#"{"\uDC00":{}}"#))
        expectMalformed("without its low half", safetensorsFile(#"{"\uD800x":{}}"#))
        expectMalformed("followed by", safetensorsFile(#"{"\uD800\u0041":{}}"#))
        expectMalformed("control character", safetensorsFile("{\"a\tb\":{}}"))
        expectMalformed("must be a string", safetensorsFile(#"{"__metadata__":{"k":1}}"#))
        expectMalformed("'{' opening", safetensorsFile(#"{"__metadata__":[]}"#))
        expectMalformed("appears twice", safetensorsFile(#"{"__metadata__":{},"__metadata__":{}}"#))
        expectMalformed("appears twice", safetensorsFile(#"{"__metadata__":{"k":"a","k":"b"}}"#))
    }

    @Test("the malformed-header offset points at the offending byte")
    func malformedOffset() {
        #expect(throws: CheckpointError.malformedHeader(offset: 2, reason: "only whitespace may follow the header object, found 'x'")) {
            try SafeTensors.decode(safetensorsFile("{}x"))
        }
    }

    @Test("escapes in names decode: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 and a surrogate pair")
    func escapes() throws {
        let name = #"q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00"#
        let (tensors, _) = try SafeTensors.decode(safetensorsFile(Self.one(name), data: Self.eight))
        #expect(Array(tensors.keys) == ["q\"b\\s/\u{8}\u{C}\n\r\té😀"])
    }

    // MARK: Entries

    @Test("two entries with one name: duplicateTensor")
    func duplicateTensor() {
        let header = #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        expectError(.duplicateTensor(name: "t"), safetensorsFile(header, data: Self.eight))
    }

    @Test("entries with missing, repeated, unknown or mistyped fields: invalidTensorEntry naming the tensor")
    func invalidEntries() {
        let d = Self.eight
        expectInvalidEntry("t", "expected an object", safetensorsFile(#"{"t":[1]}"#, data: d))
        expectInvalidEntry("t", "missing field \"dtype\"", safetensorsFile(#"{"t":{"shape":[2],"data_offsets":[0,8]}}"#, data: d))
        expectInvalidEntry("t", "missing field \"shape\"", safetensorsFile(#"{"t":{"dtype":"F32","data_offsets":[0,8]}}"#, data: d))
        expectInvalidEntry("t", "missing field \"data_offsets\"", safetensorsFile(#"{"t":{"dtype":"F32","shape":[2]}}"#, data: d))
        expectInvalidEntry("t", "\"dtype\" appears twice",
                           safetensorsFile(#"{"t":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: d))
        expectInvalidEntry("t", "\"shape\" appears twice",
                           safetensorsFile(#"{"t":{"dtype":"F32","shape":[2],"shape":[2],"data_offsets":[0,8]}}"#, data: d))
        expectInvalidEntry("t", "\"data_offsets\" appears twice",
                           safetensorsFile(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"data_offsets":[0,8]}}"#, data: d))
        expectInvalidEntry("t", "unknown field \"offsets\"", safetensorsFile(#"{"t":{"dtype":"F32","shape":[2],"offsets":[0,8]}}"#,
                                                                             data: d))
        expectInvalidEntry("t", "\"dtype\" must be a string", safetensorsFile(#"{"t":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}"#,
                                                                              data: d))
        expectInvalidEntry("t", "must be an array", safetensorsFile(Self.one(shape: "2"), data: d))
        expectInvalidEntry("t", "negative", safetensorsFile(Self.one(shape: "[-2]"), data: d))
        expectInvalidEntry("t", "fraction or exponent", safetensorsFile(Self.one(shape: "[2.0]"), data: d))
        expectInvalidEntry("t", "fraction or exponent", safetensorsFile(Self.one(shape: "[2e0]"), data: d))
        expectInvalidEntry("t", "leading zero", safetensorsFile(Self.one(shape: "[02]"), data: d))
        expectInvalidEntry("t", "non-negative integers", safetensorsFile(Self.one(shape: "[\"2\"]"), data: d))
        expectInvalidEntry("t", "expected ',' or ']'", safetensorsFile(Self.one(shape: "[2 2]"), data: d))
        expectInvalidEntry("t", "not closed", safetensorsFile(#"{"t":{"shape":[2,"#))
        expectInvalidEntry("t", "does not fit in 64 bits", safetensorsFile(Self.one(shape: "[99999999999999999999]"), data: d))
        expectInvalidEntry("t", "does not fit in 64 bits", safetensorsFile(Self.one(offsets: "[0,9223372036854775808]"), data: d))
        expectInvalidEntry("t", "2 integers", safetensorsFile(Self.one(offsets: "[0,4,8]"), data: d))
        expectInvalidEntry("t", "2 integers", safetensorsFile(Self.one(offsets: "[]"), data: d))
    }

    @Test("dtypes outside F32, F64, I32 are refused, naming the tensor and the dtype",
          arguments: ["F16", "BF16", "I64", "U8", "BOOL", "F8_E4M3", "f32", "float32", ""])
    func unsupportedDType(dtype: String) {
        expectError(.unsupportedDType(tensor: "t", dtype: dtype), safetensorsFile(Self.one(dtype: dtype), data: Self.eight))
    }

    @Test("shapes whose size overflows: shapeOverflow (zero dimensions do not hide an overflow)")
    func shapeOverflow() {
        for shape in [[4_294_967_296, 4_294_967_296], [0, 4_611_686_018_427_387_904, 4], [2_305_843_009_213_693_952]] {
            let text = "[" + shape.map(String.init).joined(separator: ",") + "]"
            expectError(.shapeOverflow(tensor: "t", shape: shape), safetensorsFile(Self.one(shape: text, offsets: "[0,0]")))
        }
    }

    @Test("offsets reversed or past the data section: offsetsOutOfRange")
    func offsetsOutOfRange() {
        expectError(.offsetsOutOfRange(tensor: "t", begin: 8, end: 0, dataSize: 8), safetensorsFile(Self.one(offsets: "[8,0]"),
                                                                                                    data: Self.eight))
        expectError(.offsetsOutOfRange(tensor: "t", begin: 4, end: 12, dataSize: 8), safetensorsFile(Self.one(offsets: "[4,12]"),
                                                                                                     data: Self.eight))
        expectError(.offsetsOutOfRange(tensor: "t", begin: 0, end: 8, dataSize: 7), safetensorsFile(Self.one(),
                                                                                                    data: Array(Self.eight.dropLast())))
        expectError(.offsetsOutOfRange(tensor: "t", begin: 0, end: Int.max, dataSize: 8),
                    safetensorsFile(Self.one(offsets: "[0,\(Int.max)]"), data: Self.eight))
    }

    @Test("offsets that span the wrong number of bytes: byteCountMismatch")
    func byteCountMismatch() {
        expectError(.byteCountMismatch(tensor: "t", expected: 8, actual: 4), safetensorsFile(Self.one(offsets: "[0,4]"), data: Self.eight))
        expectError(.byteCountMismatch(tensor: "t", expected: 16, actual: 8), safetensorsFile(Self.one(dtype: "F64", shape: "[2]"),
                                                                                              data: Self.eight))
        expectError(.byteCountMismatch(tensor: "t", expected: 4, actual: 8), safetensorsFile(Self.one(shape: "[]"), data: Self.eight))
        expectError(.byteCountMismatch(tensor: "t", expected: 0, actual: 8), safetensorsFile(Self.one(shape: "[2,0]"), data: Self.eight))
    }

    @Test("tensors sharing bytes: overlappingTensors")
    func overlapping() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        expectError(.overlappingTensors(first: "a", second: "b"), safetensorsFile(header, data: Self.eight))
        let same = #"{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        expectError(.overlappingTensors(first: "a", second: "b"), safetensorsFile(same, data: Self.eight))
        // An empty tensor inside another's bytes overlaps too (as in the reference).
        let inside = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#
        expectError(.overlappingTensors(first: "a", second: "e"), safetensorsFile(inside, data: Self.eight))
    }

    @Test("bytes of the data section outside every tensor: uncoveredData")
    func uncovered() {
        expectError(.uncoveredData(begin: 8, end: 9), safetensorsFile(Self.one(), data: Self.eight + [0]))
        expectError(.uncoveredData(begin: 0, end: 4), safetensorsFile(Self.one(shape: "[1]", offsets: "[4,8]"), data: Self.eight))
        let hole = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        expectError(.uncoveredData(begin: 4, end: 8), safetensorsFile(hole, data: Self.eight + [0, 0, 0, 0]))
        expectError(.uncoveredData(begin: 0, end: 3), safetensorsFile("{}", data: [1, 2, 3]))
    }

    @Test("every error has a description naming what is wrong")
    func descriptions() {
        let cases: [(CheckpointError, String)] = [
            (.unsupportedDType(tensor: "w1", dtype: "BF16"), #"tensor "w1" has dtype "BF16"; supported dtypes are F32, F64, I32"#),
            (.shapeMismatch(tensor: "w1", expected: [784, 100], actual: [784, 10]),
             #"parameter "w1" has shape [784, 100]; the file has [784, 10]"#),
            (.byteCountMismatch(tensor: "b", expected: 16, actual: 8), #"tensor "b" needs 16 bytes"#),
            (.duplicateTensor(name: "a\u{0}\"b"), #"tensor "a\u{0}\"b" appears more than once"#),
            (.missingTensors(["b", "k"]), #"no tensor for parameters "b", "k""#),
        ]
        for (error, fragment) in cases {
            #expect(error.description.contains(fragment), "\(error)")
        }
        #expect(CheckpointError.quote(String(repeating: "x", count: 1000)).count == 203)
    }
}
