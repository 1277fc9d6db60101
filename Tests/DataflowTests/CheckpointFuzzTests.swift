import Foundation
import Testing
@testable import Dataflow

/// Mutation fuzzing of the safetensors reader: from valid files, thousands of
/// mutated and truncated ones (deterministic seeds). Each decode must return or
/// throw a `CheckpointError`; a trap fails the whole test run. A decoded file must
/// also re-encode to a file that decodes to the same values.
///
/// `DATAFLOW_FUZZ_ITERATIONS=N` runs N mutations per seed file instead of the
/// default (also `scripts/fuzz-checkpoint.sh`).
@Suite("CheckpointFuzz")
struct CheckpointFuzzTests {
    /// The iterations per seed file: 1000 (about a second in release), or the
    /// environment's `DATAFLOW_FUZZ_ITERATIONS`.
    static var iterations: Int {
        ProcessInfo.processInfo.environment["DATAFLOW_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 1000
    }

    /// Valid files to mutate: every dtype, rank 0, empty dimensions, escaped names,
    /// metadata; and a file without tensors.
    static func seedFiles() throws -> [Data] {
        var small: [String: TensorValue] = [:]
        small["a"] = try TensorValue(shape: [2, 2], floats: [1, -2, 3.5, .nan])
        small["b\u{1}\"ü"] = try TensorValue(shape: [], doubles: [0.25])
        small["c"] = try TensorValue(shape: [3, 0], int32s: [])
        small["d"] = try TensorValue(shape: [3], int32s: [7, -8, .max])
        return [
            try SafeTensors.encode(small, metadata: ["format": "pt", "k\n": "v\\"]),
            try SafeTensors.encode(InteropTensors.all()),
            try SafeTensors.encode([:], metadata: ["only": "metadata"]),
        ]
    }

    /// One random mutation of `file`: byte flips, interesting bytes, truncation,
    /// insertion, deletion, duplication, a new length field, or a rewritten number
    /// or dtype inside the header.
    static func mutate(_ file: Data, _ rng: inout CheckpointRandom) -> Data {
        var bytes = [UInt8](file)
        // Where the header ends, by the current length field (clamped to the bytes).
        var headerEnd: Int {
            min(bytes.count, 8 + Int(bytes.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & 0xFFFF))
        }
        let interesting: [UInt8] = Array("{}[]\",:-0123456789 \\eE.u".utf8) + [0, 0x7F, 0x80, 0xC3, 0xFF]
        func anywhere() -> Int { Int.random(in: 0..<max(bytes.count, 1), using: &rng) }
        func inHeader() -> Int {
            let end = headerEnd
            return end > 8 ? Int.random(in: 8..<end, using: &rng) : anywhere()
        }
        let rounds = Int.random(in: 1...3, using: &rng)
        for _ in 0..<rounds where !bytes.isEmpty {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: bytes[anywhere()] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1: bytes[inHeader()] = interesting.randomElement(using: &rng)!
            case 2: bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
            case 3:
                let extra = (0..<Int.random(in: 1...8, using: &rng)).map { _ in interesting.randomElement(using: &rng)! }
                bytes.insert(contentsOf: extra, at: inHeader())
            case 4:
                let start = anywhere()
                bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...16, using: &rng)))
            case 5:
                let start = inHeader()
                let piece = bytes[start..<min(bytes.count, start + Int.random(in: 1...40, using: &rng))]
                bytes.insert(contentsOf: piece, at: inHeader())
            case 6:
                // A new length field: near the true one, or anything.
                let old = bytes.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let new = Bool.random(using: &rng) ? old &+ UInt64(bitPattern: Int64.random(in: -16...16, using: &rng)) : rng.next()
                for i in 0..<min(8, bytes.count) { bytes[i] = UInt8(truncatingIfNeeded: new >> (8 * UInt64(i))) }
            case 7, 8:
                // Rewrite a number of the header: small changes, zero, or huge.
                let digits = (8..<max(8, headerEnd)).filter { (48...57).contains(bytes[$0]) }
                guard let at = digits.randomElement(using: &rng) else { break }
                var end = at
                while end < bytes.count, (48...57).contains(bytes[end]) { end += 1 }
                let choices = ["0", "1", "4", "8", "16", "24", "9223372036854775807", "9223372036854775808",
                               "18446744073709551616", "4294967296", "-1", "1.5", "1e3", "00"]
                bytes.replaceSubrange(at..<end, with: Array(choices.randomElement(using: &rng)!.utf8))
            default:
                // Swap a dtype for another code.
                guard let range = findDType(in: bytes, before: headerEnd, using: &rng) else { break }
                let codes = ["F32", "F64", "I32", "F16", "BF16", "I64", "", "F32\u{0}"]
                bytes.replaceSubrange(range, with: Array(codes.randomElement(using: &rng)!.utf8))
            }
        }
        return Data(bytes)
    }

    /// The range of a random entry's dtype code (`F32` in `"dtype":"F32"`).
    static func findDType(in bytes: [UInt8], before end: Int, using rng: inout CheckpointRandom) -> Range<Int>? {
        let key = Array(#""dtype":""#.utf8)
        var found: [Range<Int>] = []
        var i = 0
        while i + key.count <= min(end, bytes.count) {
            if bytes[i..<(i + key.count)].elementsEqual(key) {
                let start = i + key.count
                var stop = start
                while stop < bytes.count, bytes[stop] != UInt8(ascii: "\"") { stop += 1 }
                found.append(start..<stop)
            }
            i += 1
        }
        return found.randomElement(using: &rng)
    }

    @Test("mutated and truncated files decode or throw CheckpointError, never trap; decoded ones re-encode")
    func mutationFuzz() throws {
        var decoded = 0, rejected = 0
        var kinds: Set<String> = []
        for (index, seedFile) in try Self.seedFiles().enumerated() {
            var rng = CheckpointRandom(seed: 0x5AFE_7E45 &+ UInt64(index))
            for _ in 0..<Self.iterations {
                let file = Self.mutate(seedFile, &rng)
                do {
                    let (tensors, metadata) = try SafeTensors.decode(file)
                    decoded += 1
                    let again = try SafeTensors.decode(SafeTensors.encode(tensors, metadata: metadata))
                    #expect(checkpointBitwiseEqual(again.tensors, tensors) && again.metadata == metadata)
                } catch let error as CheckpointError {
                    rejected += 1
                    kinds.insert(Mirror(reflecting: error).children.first?.label ?? "\(error)")
                } catch {
                    Issue.record("decode threw a non-checkpoint error: \(error)")
                }
            }
        }
        // Both outcomes occur, and the rejections are varied (not one early check).
        #expect(decoded > 0 && rejected > 0)
        #expect(kinds.count >= 5, "\(kinds.sorted())")
        print("CheckpointFuzz: \(decoded) decoded, \(rejected) rejected, \(kinds.count) kinds of error")
    }

    @Test("every truncation of a valid file is rejected, never trapped")
    func everyTruncation() throws {
        for seedFile in try Self.seedFiles() {
            for length in 0..<seedFile.count {
                #expect(throws: CheckpointError.self) { try SafeTensors.decode(seedFile.prefix(length)) }
            }
        }
    }

    @Test("a file inside a larger Data (non-zero start index) decodes")
    func slicedData() throws {
        let file = try Self.seedFiles()[0]
        let padded = Data([1, 2, 3]) + file + Data([4])
        let slice = padded[3..<(3 + file.count)]
        #expect(checkpointBitwiseEqual(try SafeTensors.decode(slice).tensors, try SafeTensors.decode(file).tensors))
    }
}
