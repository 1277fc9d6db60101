import Foundation
@testable import Dataflow

// Helpers shared by the checkpoint tests: hand-made safetensors files, bitwise
// comparison of values, scratch directories and a small seeded generator.

/// A safetensors file from a header string and data bytes; the length field is
/// the header's byte count unless `declared` says otherwise.
func safetensorsFile(_ header: String, data: [UInt8] = [], declared: UInt64? = nil) -> Data {
    let h = Array(header.utf8)
    var out = Data()
    withUnsafeBytes(of: (declared ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: h)
    out.append(contentsOf: data)
    return out
}

/// The little-endian bytes of values.
func littleEndianBytes(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }
func littleEndianBytes(_ values: [Double]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }
func littleEndianBytes(_ values: [Int32]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }

/// Same shape, dtype and bit patterns (so NaN equals NaN, and -0 differs from 0).
func checkpointBitwiseEqual(_ a: TensorValue, _ b: TensorValue) -> Bool {
    guard a.shape == b.shape, a.dtype == b.dtype else { return false }
    switch (a.storage, b.storage) {
    case (.float32(let x), .float32(let y)): return x.toArray().map(\.bitPattern) == y.toArray().map(\.bitPattern)
    case (.float64(let x), .float64(let y)): return x.toArray().map(\.bitPattern) == y.toArray().map(\.bitPattern)
    case (.int32(let x), .int32(let y)): return x.toArray() == y.toArray()
    default: return false
    }
}

/// Same names and bitwise-equal values.
func checkpointBitwiseEqual(_ a: [String: TensorValue], _ b: [String: TensorValue]) -> Bool {
    a.count == b.count && a.allSatisfy { name, value in b[name].map { checkpointBitwiseEqual(value, $0) } ?? false }
}

/// A fresh, empty directory under the temporary directory, removed by `cleanup`.
struct ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("dataflow-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The names of the directory's entries, sorted (hidden ones included).
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

/// The fuzzer's deterministic generator: the library's SplitMix64.
typealias CheckpointRandom = SeededGenerator

/// The tensors both the Swift tests and Benchmarks/peers/safetensors_check.py
/// build: element i of a tensor with salt k is ((37 i + 11 k) mod 101 − 50) / 8
/// for floats (exact in Float) and ((7919 i + 13 k) mod 65536) − 32768 for Int32.
enum InteropTensors {
    struct Spec {
        var name: String
        var dtype: DType
        var shape: [Int]
        var salt: Int
    }

    static let specs: [Spec] = [
        .init(name: "f32.matrix", dtype: .float32, shape: [3, 4], salt: 1),
        .init(name: "f64.vector", dtype: .float64, shape: [5], salt: 2),
        .init(name: "i32.cube", dtype: .int32, shape: [2, 3, 4], salt: 3),
        .init(name: "f32.scalar", dtype: .float32, shape: [], salt: 4),
        .init(name: "f64.empty", dtype: .float64, shape: [0, 3], salt: 5),
        .init(name: "i32.empty", dtype: .int32, shape: [4, 0], salt: 6),
        .init(name: "odd \"name\"/\u{FC}n\u{EF}", dtype: .float32, shape: [1, 1, 2], salt: 7),
        .init(name: "tab\tname", dtype: .float64, shape: [2], salt: 8),
    ]

    static func value(_ spec: Spec) throws -> TensorValue {
        let n = spec.shape.reduce(1, *)
        switch spec.dtype {
        case .float32:
            return try TensorValue(shape: spec.shape, floats: (0..<n).map { Float(floatElement($0, spec.salt)) })
        case .float64:
            return try TensorValue(shape: spec.shape, doubles: (0..<n).map { floatElement($0, spec.salt) })
        case .int32:
            return try TensorValue(shape: spec.shape, int32s: (0..<n).map { Int32((7919 * $0 + 13 * spec.salt) % 65536 - 32768) })
        }
    }

    static func floatElement(_ i: Int, _ salt: Int) -> Double {
        Double((37 * i + 11 * salt) % 101 - 50) / 8
    }

    /// Every spec plus special values: signed zeros, infinities, the smallest
    /// subnormal, the largest finite value, NaN; Int32's extremes.
    static func all() throws -> [String: TensorValue] {
        var out: [String: TensorValue] = [:]
        for spec in specs { out[spec.name] = try value(spec) }
        out["f32.special"] = try TensorValue(shape: [7], floats: [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude,
                                                                  .greatestFiniteMagnitude, .nan])
        out["f64.special"] = try TensorValue(shape: [7], doubles: [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude,
                                                                   .greatestFiniteMagnitude, .nan])
        out["i32.extremes"] = try TensorValue(shape: [5], int32s: [.min, -1, 0, 1, .max])
        return out
    }
}
