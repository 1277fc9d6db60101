import Foundation
import Testing
@testable import Dataflow

/// Safetensors checkpoints: round trips, the exact bytes, atomic saving, and the
/// graph-level save and load.
@Suite("Checkpoint")
struct CheckpointTests {
    // MARK: Round trips

    static let shapes: [[Int]] = [[], [0], [1], [7], [3, 0, 2], [2, 3], [1, 1, 1, 5], [4, 1], [0, 0], [2, 2, 2, 2, 2]]

    @Test("Float, Double and Int32 values of odd shapes round-trip bitwise", arguments: shapes)
    func roundTrip(shape: [Int]) throws {
        let n = shape.reduce(1, *)
        let specials: [Double] = [0, -0.0, 1.5, -2.25, .infinity, -.infinity, .nan, .leastNonzeroMagnitude * 3, 3e38]
        let doubles = (0..<n).map { i in i < specials.count ? specials[i] : Double(i) * 0.37 - 1 }
        let tensors: [String: TensorValue] = [
            "f": try TensorValue(shape: shape, floats: doubles.map(Float.init)),
            "d": try TensorValue(shape: shape, doubles: doubles),
            "i": try TensorValue(shape: shape, int32s: (0..<n).map { Int32(truncatingIfNeeded: $0 &* 0x3777_7777) }),
        ]
        let metadata = ["format": "pt", "note": "shape \(shape)"]
        let (decoded, readMetadata) = try SafeTensors.decode(SafeTensors.encode(tensors, metadata: metadata))
        #expect(checkpointBitwiseEqual(decoded, tensors))
        #expect(readMetadata == metadata)
    }

    @Test("the interop tensor set (escaped names, specials) round-trips through a file")
    func roundTripThroughFile() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanup() }
        let tensors = try InteropTensors.all()
        let url = dir.file("all.safetensors")
        try SafeTensors.save(tensors, to: url, metadata: ["a": "1", "\u{1}": "\"\\"])
        let (decoded, metadata) = try SafeTensors.load(from: url)
        #expect(checkpointBitwiseEqual(decoded, tensors))
        #expect(metadata == ["a": "1", "\u{1}": "\"\\"])
        #expect(try dir.contents() == ["all.safetensors"])
    }

    @Test("no tensors and no metadata round-trip")
    func emptyRoundTrip() throws {
        let (tensors, metadata) = try SafeTensors.decode(SafeTensors.encode([:]))
        #expect(tensors.isEmpty && metadata.isEmpty)
    }

    // MARK: Exact bytes

    @Test("one F32 tensor: the reference implementation's bytes (tensor.rs test_serialization)")
    func referenceBytes() throws {
        let attn = try TensorValue(shape: [1, 2, 3], floats: [0, 1, 2, 3, 4, 5])
        let expected: [UInt8] = [
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        ]
        #expect(Array(try SafeTensors.encode(["attn.0": attn])) == expected)
    }

    @Test("no tensors, with and without metadata: the reference's bytes (tensor.rs test_empty)")
    func referenceEmptyBytes() throws {
        #expect(Array(try SafeTensors.encode([:])) == [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        let expected: [UInt8] = [
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32,
        ]
        #expect(Array(try SafeTensors.encode([:], metadata: ["framework": "pt"])) == expected)
    }

    @Test("mixed dtypes: F64 first, then F32, then I32; rank 0 and empty tensors; hand-computed bytes")
    func mixedDTypeBytes() throws {
        let tensors: [String: TensorValue] = [
            "b": try TensorValue(shape: [2], int32s: [1, -1]),
            "a": try TensorValue(shape: [], doubles: [0.5]),
            "c": try TensorValue(shape: [0], floats: []),
        ]
        let header = #"{"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"c":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]}}"#
        // 160 bytes of JSON: already a multiple of 8, so no padding.
        var expected: [UInt8] = [160, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
        expected += [0, 0, 0, 0, 0, 0, 0xE0, 0x3F]          // 0.5 as little-endian binary64
        expected += [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]    // 1, -1 as little-endian int32
        #expect(Array(try SafeTensors.encode(tensors)) == expected)
    }

    @Test("escaped names and metadata, and space padding to 8 bytes: hand-computed bytes")
    func escapedBytes() throws {
        let x = try TensorValue(shape: [2], floats: [1, -2])
        let header = #"{"__metadata__":{"k":"v\n"},"x\"y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        // 84 bytes of JSON, padded with 4 spaces to 88.
        var expected: [UInt8] = [88, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + [32, 32, 32, 32]
        expected += [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0]      // 1, -2 as little-endian binary32
        #expect(Array(try SafeTensors.encode(["x\"y": x], metadata: ["k": "v\n"])) == expected)
    }

    @Test("encoding is deterministic: the same tensors built in another order give the same bytes")
    func deterministic() throws {
        var a: [String: TensorValue] = [:]
        var b: [String: TensorValue] = [:]
        let names = (0..<40).map { "t\($0 * 7919 % 97)" }
        for (i, name) in names.enumerated() { a[name] = try TensorValue(shape: [i % 3], doubles: (0..<(i % 3)).map(Double.init)) }
        for (i, name) in names.enumerated().reversed() { b[name] = try TensorValue(shape: [i % 3],
                                                                                   doubles: (0..<(i % 3)).map(Double.init)) }
        let m1 = Dictionary(uniqueKeysWithValues: (0..<10).map { ("k\($0)", "v") })
        let m2 = Dictionary(uniqueKeysWithValues: (0..<10).reversed().map { ("k\($0)", "v") })
        #expect(try SafeTensors.encode(a, metadata: m1) == SafeTensors.encode(b, metadata: m2))
    }

    @Test("a tensor named __metadata__ is refused when encoding")
    func reservedName() throws {
        #expect(throws: CheckpointError.reservedName("__metadata__")) {
            try SafeTensors.encode(["__metadata__": TensorValue(shape: [1], floats: [1])])
        }
    }

    // MARK: Atomic saving

    @Test("a save that fails at any step leaves the old file intact and no temporary file",
          arguments: SafeTensors.SaveStep.allCases)
    func failedSaveKeepsOldFile(step: SafeTensors.SaveStep) throws {
        struct Injected: Error {}
        let dir = try ScratchDirectory()
        defer { dir.cleanup() }
        let url = dir.file("model.safetensors")
        let old = ["w": try TensorValue(shape: [2], floats: [1, 2])]
        try SafeTensors.save(old, to: url, metadata: ["v": "old"])
        let oldBytes = try Data(contentsOf: url)
        let new = ["w": try TensorValue(shape: [3], floats: [7, 8, 9]), "b": try TensorValue(shape: [1000], doubles: Array(repeating: 1,
                                                                                                                           count: 1000))]
        #expect(throws: CheckpointError.self) {
            try SafeTensors.save(new, to: url, metadata: ["v": "new"], failing: { if $0 == step { throw Injected() } })
        }
        #expect(try Data(contentsOf: url) == oldBytes)
        #expect(try dir.contents() == ["model.safetensors"])
        // The same save without the failure replaces the file.
        try SafeTensors.save(new, to: url, metadata: ["v": "new"])
        let (tensors, metadata) = try SafeTensors.load(from: url)
        #expect(checkpointBitwiseEqual(tensors, new) && metadata == ["v": "new"])
        #expect(try dir.contents() == ["model.safetensors"])
    }

    @Test("a save whose rename fails (the target is a non-empty directory) throws and removes its temporary file")
    func failedRename() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanup() }
        let target = dir.file("model.safetensors")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data([1, 2, 3]).write(to: target.appendingPathComponent("inside"))
        let error = #expect(throws: CheckpointError.self) {
            try SafeTensors.save(["w": TensorValue(shape: [1], floats: [1])], to: target)
        }
        guard case .fileSystem(_, let operation, _)? = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(operation.contains("rename"))
        #expect(try dir.contents() == ["model.safetensors"])
        #expect(try Data(contentsOf: target.appendingPathComponent("inside")) == Data([1, 2, 3]))
    }

    @Test("a save into a missing directory throws a file-system error naming the path")
    func missingDirectory() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanup() }
        let url = dir.file("no/such/dir/model.safetensors")
        let error = #expect(throws: CheckpointError.self) {
            try SafeTensors.save(["w": TensorValue(shape: [1], floats: [1])], to: url)
        }
        guard case .fileSystem(let path, "create", _)? = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(path.contains("no/such/dir"))
    }

    @Test("a save into a read-only directory throws and the old file is intact",
          .enabled(if: getuid() != 0, "root may write into read-only directories"))
    func readOnlyDirectory() throws {
        let dir = try ScratchDirectory()
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.url.path)
            dir.cleanup()
        }
        let url = dir.file("model.safetensors")
        try SafeTensors.save(["w": TensorValue(shape: [1], floats: [1])], to: url)
        let oldBytes = try Data(contentsOf: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir.url.path)
        #expect(throws: CheckpointError.self) {
            try SafeTensors.save(["w": TensorValue(shape: [1], floats: [2])], to: url)
        }
        #expect(try Data(contentsOf: url) == oldBytes)
        #expect(try dir.contents() == ["model.safetensors"])
    }

    @Test("loading a missing file throws a file-system error")
    func loadMissingFile() throws {
        let error = #expect(throws: CheckpointError.self) {
            try SafeTensors.load(from: URL(fileURLWithPath: "/nonexistent/dataflow/model.safetensors"))
        }
        guard case .fileSystem(_, "read", _)? = error else { Issue.record("unexpected \(String(describing: error))"); return }
    }

    // MARK: Graph parameters

    /// A graph with parameters w (float32 [2, 3]), b (float64 [3]), k (int32 []).
    static func smallGraph(scale: Double = 1) throws -> (Graph, w: Tensor, b: Tensor, k: Tensor) {
        let g = Graph()
        let w = g.parameter("w", try TensorValue(shape: [2, 3], floats: (0..<6).map { Float(Double($0) * scale) }))
        let b = g.parameter("b", try TensorValue(shape: [3], doubles: [1, 2, 3].map { $0 * scale }))
        let k = g.parameter("k", try TensorValue(shape: [], int32s: [Int32(7 * scale)]))
        return (g, w, b, k)
    }

    @Test("saveParameters then loadParameters into another graph restores every value and the metadata")
    func graphRoundTrip() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanup() }
        let url = dir.file("params.safetensors")
        let (g1, w1, b1, k1) = try Self.smallGraph(scale: 2)
        try g1.saveParameters(to: url, metadata: ["epoch": "3"])
        let (g2, w2, b2, k2) = try Self.smallGraph(scale: 0)
        let metadata = try g2.loadParameters(from: url)
        #expect(metadata == ["epoch": "3"])
        #expect(try g2.value(of: w2) == g1.value(of: w1))
        #expect(try g2.value(of: b2) == g1.value(of: b1))
        #expect(try g2.value(of: k2) == g1.value(of: k1))
        #expect(try g2.parameterValuesByName() == g1.parameterValuesByName())
    }

    @Test("two parameters with one name: saving and loading throw, nothing is written")
    func duplicateParameterNames() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanup() }
        let g = Graph()
        _ = g.parameter("w", try TensorValue(shape: [1], floats: [1]))
        _ = g.parameter("w", try TensorValue(shape: [1], floats: [2]))
        #expect(throws: CheckpointError.duplicateParameterName("w")) { try g.saveParameters(to: dir.file("x.safetensors")) }
        #expect(try dir.contents().isEmpty)
        #expect(throws: CheckpointError.duplicateParameterName("w")) {
            try g.setParameterValues(["w": TensorValue(shape: [1], floats: [3])])
        }
    }

    @Test("strict loading names missing and unexpected tensors; non-strict loads what matches")
    func strictness() throws {
        let (g, w, b, k) = try Self.smallGraph()
        let newW = try TensorValue(shape: [2, 3], floats: [9, 9, 9, 9, 9, 9])
        let extra = try TensorValue(shape: [1], floats: [0])
        #expect(throws: CheckpointError.missingTensors(["b", "k"])) { try g.setParameterValues(["w": newW]) }
        let full: [String: TensorValue] = ["w": newW, "b": try g.value(of: b), "k": try g.value(of: k), "zz": extra, "extra": extra]
        #expect(throws: CheckpointError.unexpectedTensors(["extra", "zz"])) { try g.setParameterValues(full) }
        #expect(try g.value(of: w) != newW)
        try g.setParameterValues(["w": newW, "zz": extra], strict: false)
        #expect(try g.value(of: w) == newW)
        #expect(try g.value(of: b) == TensorValue(shape: [3], doubles: [1, 2, 3]))
    }

    @Test("a wrong dtype or shape names the tensor, and no parameter changes (all or nothing)")
    func allOrNothing() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanup() }
        let (g, w, b, k) = try Self.smallGraph()
        let before = try g.parameterValuesByName()
        // "b" and "k" are fine and sort before "w", whose shape is wrong.
        let badShape: [String: TensorValue] = [
            "b": try TensorValue(shape: [3], doubles: [5, 5, 5]),
            "k": try TensorValue(shape: [], int32s: [5]),
            "w": try TensorValue(shape: [3, 2], floats: [5, 5, 5, 5, 5, 5]),
        ]
        try SafeTensors.save(badShape, to: dir.file("bad.safetensors"))
        #expect(throws: CheckpointError.shapeMismatch(tensor: "w", expected: [2, 3], actual: [3, 2])) {
            try g.loadParameters(from: dir.file("bad.safetensors"))
        }
        var badDType = badShape
        badDType["w"] = try TensorValue(shape: [2, 3], doubles: [5, 5, 5, 5, 5, 5])
        #expect(throws: CheckpointError.dtypeMismatch(tensor: "w", expected: .float32, actual: .float64)) {
            try g.setParameterValues(badDType)
        }
        #expect(try g.parameterValuesByName() == before)
        _ = (w, b, k)
    }

    @Test("a malformed checkpoint file leaves the graph unchanged")
    func malformedFileLeavesGraph() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanup() }
        let (g, _, _, _) = try Self.smallGraph()
        let before = try g.parameterValuesByName()
        var bytes = try SafeTensors.encode(Self.smallGraph(scale: 3).0.parameterValuesByName())
        bytes.removeLast()
        try bytes.write(to: dir.file("torn.safetensors"))
        #expect(throws: CheckpointError.self) { try g.loadParameters(from: dir.file("torn.safetensors")) }
        #expect(try g.parameterValuesByName() == before)
    }
}
