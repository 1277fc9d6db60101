import Foundation

/// `Benchmarks/data/digits.bin` (format and split: `Benchmarks/data/README.md`):
/// 1 797 8×8 images, pixels 0…16 used as `pixel / 16` in float32, labels 0…9, and the
/// stored split permutation (training positions `P[0…1436]`, test `P[1437…]`).
struct DigitsData {
    let count: Int
    let trainCount: Int
    /// All images' pixels / 16, image `i` at `64·i`.
    let pixels: [Float]
    let labels: [UInt8]
    let permutation: [Int]

    var trainIndex: ArraySlice<Int> { permutation[..<trainCount] }
    var testIndex: ArraySlice<Int> { permutation[trainCount...] }

    static func defaultPath() -> String {
        // The package root is three levels above this source file; the current
        // directory is tried first.
        let local = "Benchmarks/data/digits.bin"
        if FileManager.default.fileExists(atPath: local) { return local }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(local).path
    }

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read \(path) (run from the repository root or pass --data)")
        }
        let b = [UInt8](data)
        func u32(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24 }
        guard b.count >= 24, String(decoding: b[0..<8], as: UTF8.self) == "DIGITS01" else {
            throw CLIError("\(path): not a DIGITS01 file")
        }
        let n = u32(8), h = u32(12), w = u32(16), ntrain = u32(20)
        guard h == 8, w == 8, ntrain == ModelsInit.trainCount, b.count == 24 + n * 64 + n + 2 * n else {
            throw CLIError("\(path): unexpected header (n \(n), \(h)×\(w), train \(ntrain), \(b.count) bytes)")
        }
        count = n
        trainCount = ntrain
        pixels = b[24..<(24 + n * 64)].map { Float($0) / 16 }
        labels = Array(b[(24 + n * 64)..<(24 + n * 65)])
        let p0 = 24 + n * 65
        permutation = (0..<n).map { Int(b[p0 + 2 * $0]) | Int(b[p0 + 2 * $0 + 1]) << 8 }
    }

    /// Pixels and labels of the given images, in order: `[k, 64]` row-major.
    func gather<S: Sequence<Int>>(_ images: S) -> (x: [Float], y: [Int32]) {
        var x: [Float] = [], y: [Int32] = []
        for i in images {
            x += pixels[(64 * i)..<(64 * i + 64)]
            y.append(Int32(labels[i]))
        }
        return (x, y)
    }
}
