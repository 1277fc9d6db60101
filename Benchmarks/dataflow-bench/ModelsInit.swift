import Foundation

/// The SplitMix64 generator and everything the classic models draw from it, exactly as
/// `Benchmarks/peers/models/INIT.md` specifies (reference: `init.py`), so that Dataflow
/// starts from the same float32 parameters as the PyTorch and JAX peers, visits the
/// batches in the same order and (DAE) applies the same masking noise.
struct SplitMix64 {
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state = state &+ SplitMix64.gamma
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1): the top 53 bits, exactly.
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
}

/// One initial parameter tensor: name, shape (the INIT.md table's), row-major values.
struct InitTensor {
    var name: String
    var shape: [Int]
    var values: [Float]
}

enum ModelsInit {
    static let batch = 32
    static let trainCount = 1437
    static let stepsPerEpoch = trainCount / batch   // 44
    static let maskDrop = 0.3
    static let syntheticOffset: UInt64 = 1_000_000

    /// LSTM sizes: (features per step, hidden, steps, batch).
    static func lstmSizes(timing: Bool) -> (features: Int, hidden: Int, steps: Int, batch: Int) {
        timing ? (32, 256, 32, 64) : (8, 32, 8, 32)
    }

    /// The model's parameters in draw order (INIT.md §2); biases are zero and draw nothing.
    static func parameters(model: String, seed: UInt64, timing: Bool = false) -> [InitTensor] {
        var rng = SplitMix64(seed: seed)
        func uniformTensor(_ name: String, _ shape: [Int], fanIn: Int) -> InitTensor {
            let a = 1.0 / Double(fanIn).squareRoot()
            let count = shape.reduce(1, *)
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count { values[i] = Float((2.0 * rng.uniform() - 1.0) * a) }
            return InitTensor(name: name, shape: shape, values: values)
        }
        func zeros(_ name: String, _ shape: [Int]) -> InitTensor {
            InitTensor(name: name, shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)))
        }
        switch model {
        case "logreg":
            return [uniformTensor("W", [64, 10], fanIn: 64), zeros("b", [10])]
        case "mlp":
            return [uniformTensor("W1", [64, 128], fanIn: 64), zeros("b1", [128]),
                    uniformTensor("W2", [128, 10], fanIn: 128), zeros("b2", [10])]
        case "cnn":
            let flat = timing ? 784 : 64
            return [uniformTensor("K1", [3, 3, 1, 8], fanIn: 9), zeros("c1", [8]),
                    uniformTensor("K2", [3, 3, 8, 16], fanIn: 72), zeros("c2", [16]),
                    uniformTensor("W3", [flat, 10], fanIn: flat), zeros("b3", [10])]
        case "dae":
            return [uniformTensor("W", [64, 32], fanIn: 64), zeros("b", [32]), zeros("c", [64])]
        case "lstm":
            let s = lstmSizes(timing: timing)
            let wx = uniformTensor("Wx", [s.features, 4 * s.hidden], fanIn: s.hidden)
            let wh = uniformTensor("Wh", [s.hidden, 4 * s.hidden], fanIn: s.hidden)
            return [wx, wh, zeros("b", [4 * s.hidden]),
                    uniformTensor("Wo", [s.hidden, 10], fanIn: s.hidden), zeros("bo", [10])]
        default:
            fatalError("unknown model \(model)")
        }
    }

    /// Epoch `epoch`'s (1-based) shuffle of the training positions, and the generator
    /// after its 1 436 draws (the DAE continues it for the masks).
    static func epochOrder(seed: UInt64, epoch: Int) -> (order: [Int], rng: SplitMix64) {
        var rng = SplitMix64(seed: seed &+ UInt64(epoch))
        var order = Array(0..<trainCount)
        for i in stride(from: trainCount - 1, through: 1, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        return (order, rng)
    }

    /// The DAE keep masks of one epoch: 44 batches of 32 × 64 values, 1 kept, 0 dropped.
    static func keepMasks(_ rng: inout SplitMix64) -> [[Float]] {
        (0..<stepsPerEpoch).map { _ in
            (0..<(batch * 64)).map { _ in rng.uniform() >= maskDrop ? Float(1) : Float(0) }
        }
    }

    /// Synthetic timing data (INIT.md §5): row-major inputs of `shape`, then one label per example.
    static func synthetic(seed: UInt64, shape: [Int]) -> (x: [Float], y: [Int32]) {
        var rng = SplitMix64(seed: seed &+ syntheticOffset)
        let x = (0..<shape.reduce(1, *)).map { _ in Float(rng.uniform()) }
        let y = (0..<shape[0]).map { _ in Int32(rng.next() % 10) }
        return (x, y)
    }

    /// The hex prefix of SHA-256 over the parameters as little-endian float32, in order.
    static func digest(_ tensors: [InitTensor]) -> String {
        var bytes: [UInt8] = []
        for t in tensors {
            for v in t.values {
                let b = v.bitPattern
                bytes += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
            }
        }
        return String(SHA256.hex(bytes).prefix(16))
    }

    /// The check values of INIT.md §7, computed here (they must equal INIT.md's).
    static func checkLines(seed: UInt64, trainingIndex: [Int]? = nil, labels: [UInt8]? = nil) -> [String] {
        var lines: [String] = []
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16).leftPadded(to: 16) }
        var rng = SplitMix64(seed: seed)
        lines.append("SplitMix64(seed \(seed)).next() x4:")
        for _ in 0..<4 { let v = rng.next(); lines.append("  \(hex(v))  (\(v))") }
        rng = SplitMix64(seed: seed)
        lines.append("uniform(seed \(seed)) x4 (double, %.17g):")
        for _ in 0..<4 { lines.append("  " + String(format: "%.17g", rng.uniform())) }
        func g(_ x: Double) -> String { String(format: "%.9g", x) }
        for model in ["logreg", "mlp", "cnn", "dae", "lstm"] {
            let ps = parameters(model: model, seed: seed)
            let first = ps[0].values.prefix(4).map { "\(g(Double($0))) (0x\(String($0.bitPattern, radix: 16).leftPadded(to: 8)))" }
            lines.append("\(model) seed \(seed): \(ps[0].name)[first 4, row-major] = " + first.joined(separator: ", "))
            let sums = ps.filter { $0.values.contains { $0 != 0 } }.map { t in
                "\(t.name) \(g(t.values.reduce(0.0) { $0 + Double($1) }))"
            }
            lines.append("  float64 sums: \(sums.joined(separator: ", ")); sha256(params as LE f32, in order)[:16] = \(digest(ps))")
        }
        for model in ["cnn", "lstm"] {
            let ps = parameters(model: model, seed: seed, timing: true)
            let shapes = ps.map { "\($0.name)\($0.shape)" }.joined(separator: ", ")
            lines.append("\(model) timing size seed \(seed): shapes \(shapes); sha256[:16] = \(digest(ps))")
        }
        let e1 = epochOrder(seed: seed, epoch: 1).order, e2 = epochOrder(seed: seed, epoch: 2).order
        lines.append("epoch 1 order (seed \(seed)), first 10 positions: " + e1.prefix(10).map(String.init).joined(separator: ", "))
        lines.append("epoch 1 order (seed \(seed)), last 5 positions:   " + e1.suffix(5).map(String.init).joined(separator: ", "))
        lines.append("epoch 2 order (seed \(seed)), first 10 positions: " + e2.prefix(10).map(String.init).joined(separator: ", "))
        var r = epochOrder(seed: seed, epoch: 1).rng
        let masks = keepMasks(&r)
        let kept = masks.joined().reduce(0.0) { $0 + Double($1) } / Double(masks.count * batch * 64)
        lines.append("epoch 1 DAE keep mask (seed \(seed)), batch 0 row 0, pixels 0..15: "
                     + masks[0].prefix(16).map { $0 == 1 ? "1" : "0" }.joined() + "; kept fraction over the epoch = "
                         + "" + String(format: "%.6f", kept))
        let s = synthetic(seed: seed, shape: [2, 3])
        lines.append("synthetic(seed \(seed), shape [2,3]): x = " + s.x.map { g(Double($0)) }.joined(separator: ", ")
                     + "; y = " + s.y.map(String.init).joined(separator: ", "))
        if let trainingIndex, let labels {
            let batch0 = e1.prefix(8).map { trainingIndex[$0] }
            lines.append("epoch 1 batch 0: images " + batch0.map(String.init).joined(separator: ", ")
                         + ", labels " + batch0.map { String(labels[$0]) }.joined(separator: ", "))
        }
        return lines
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// SHA-256 (FIPS 180-4), for the parameter check values; no dependency needed.
enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for i in (0..<8).reversed() { data.append(UInt8((bitLength >> (UInt64(i) * 8)) & 0xFF)) }
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + 4 * i
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
            for i in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            }
            h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
            h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
        }
        return h.map { String($0, radix: 16).leftPadded(to: 8) }.joined()
    }
}
