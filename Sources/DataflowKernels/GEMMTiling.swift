/// A 2-D split of a GEMM's output C (m×n) into rectangular tiles, for running
/// `GEMM.multiplyTile` as independent tasks. K is never split, so every element of
/// C is summed in the same order whatever the tiling.
///
/// ```swift
/// let tiling = GEMMTiling.automatic(m: 256, n: 5000, k: 3000, targetTiles: 8)
/// DispatchQueue.concurrentPerform(iterations: tiling.tileCount) { t in
///     try! GEMM.multiplyTile(x, transposeA: false, w, transposeB: false, into: y, tiling: tiling, tile: t)
/// }
/// ```
public struct GEMMTiling: Sendable, Hashable {
    /// Rows of C are split in multiples of this: tiles whose rows are a multiple of 4
    /// run whole micro-tiles and four-row ones (the packed path's MR is 12, with a
    /// four-row kernel for bottom edges), and `automatic` can split on the multiples
    /// of 16 that column tiles want as well as on multiples of 12.
    public static let rowQuantum = 4
    /// Columns of C are split in multiples of this (a multiple of every micro-kernel's NR).
    public static let colQuantum = 32

    public let m: Int
    public let n: Int
    public let k: Int
    /// Rows per tile (the last row of tiles may be shorter).
    public let tileRows: Int
    /// Columns per tile (the last column of tiles may be narrower).
    public let tileCols: Int

    /// A grid of `tileRows`×`tileCols` tiles, each rounded up to a multiple of
    /// `rowQuantum` / `colQuantum` (at least one quantum).
    ///
    /// - Parameters:
    ///   - m, n, k: the GEMM shape (C is m×n, K is the summed dimension).
    ///   - tileRows, tileCols: the requested tile size.
    public init(m: Int, n: Int, k: Int, tileRows: Int, tileCols: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMMTiling: negative shape \(m)×\(n)×\(k)")
        self.m = m
        self.n = n
        self.k = k
        self.tileRows = Self.roundUp(max(1, tileRows), Self.rowQuantum)
        self.tileCols = Self.roundUp(max(1, tileCols), Self.colQuantum)
    }

    /// A tiling with about `targetTiles` tiles (never more), shaped to keep the
    /// packing overhead small: the per-tile cost model is rows·cols + 32·(rows + cols)
    /// (compute plus packing of A and B per unit of K), and the split with the
    /// cheapest largest tile wins. Skinny-M shapes such as 256×5000 are therefore
    /// split along N in wide NR-multiples.
    ///
    /// Rows are split in multiples of 12 (the packed path's MR: a tile of 128 rows
    /// leaves an 8-row edge, 256×40×512 ran at 95 GFLOP/s on 128 rows and 105 on 132),
    /// or of 16 when the tiles will run as column tiles (`transposeA` with at most 64
    /// columns: a vector of 16 rows; 264 rows ran at 121, 256 at 134).
    ///
    /// - Parameter transposeA: whether the GEMM uses op(A) = Aᵀ (only the row split
    ///   depends on it; any tiling gives the same bits).
    /// - Complexity: O(targetTiles).
    public static func automatic(m: Int, n: Int, k: Int, targetTiles: Int, transposeA: Bool = false) -> GEMMTiling {
        let target = max(1, targetTiles)
        let rowStep = transposeA && n <= 64 ? 16 : 12
        let maxRowSplits = max(1, (m + rowStep - 1) / rowStep)
        let maxColSplits = max(1, (n + colQuantum - 1) / colQuantum)
        var best = GEMMTiling(m: m, n: n, k: k, tileRows: max(m, 1), tileCols: max(n, 1))
        var bestCost = Int.max
        for tr in 1...min(target, maxRowSplits) {
            let tc = min(target / tr, maxColSplits)
            let rows = roundUp((m + tr - 1) / tr, rowStep)
            let cols = roundUp((n + tc - 1) / tc, colQuantum)
            let cost = rows * cols + 32 * (rows + cols)
            let candidate = GEMMTiling(m: m, n: n, k: k, tileRows: rows, tileCols: cols)
            if cost < bestCost || (cost == bestCost && candidate.tileCount > best.tileCount) {
                best = candidate
                bestCost = cost
            }
        }
        return best
    }

    var rowTiles: Int { (m + tileRows - 1) / tileRows }
    var colTiles: Int { (n + tileCols - 1) / tileCols }

    /// The number of tiles (0 when C is empty).
    public var tileCount: Int { rowTiles * colTiles }

    /// The rows and columns of C covered by tile `index` (row-major order of tiles).
    public func tile(_ index: Int) -> (rows: Range<Int>, cols: Range<Int>) {
        precondition(index >= 0 && index < tileCount, "GEMMTiling: tile \(index) out of range 0..<\(tileCount)")
        let r = index / colTiles, c = index % colTiles
        let r0 = r * tileRows, c0 = c * tileCols
        return (r0..<min(m, r0 + tileRows), c0..<min(n, c0 + tileCols))
    }

    static func roundUp(_ x: Int, _ q: Int) -> Int { (x + q - 1) / q * q }
}
