// Row gather by integer index (embedding lookup) and its gradient.
//
// Goals, in order: every index checked (a bad one is named with its position); a
// gradient that is bitwise the same for any split into tasks: the work is split by
// rows of the *table* gradient, each task scanning all indices in position order and
// summing only the rows it owns, so every table row's sum has one fixed order
// (increasing position) and no two tasks write the same row; then speed (rows are
// contiguous copies and additions).

/// Gathers rows of a table by index, and scatters their gradient back.
public enum Gather {
    /// output[p, :] = table[indices[p], :] (an embedding lookup).
    ///
    /// ```swift
    /// // tokens: n Int32 ids in 0..<V; table: V×D; out: n×D
    /// try Gather.rows(table, indices: tokens, into: out)
    /// ```
    /// - Parameters:
    ///   - table: V×D (any strides).
    ///   - indices: n Int32 values in 0..<V, a line (n×1 or 1×n).
    ///   - output: n×D (must not overlap table).
    /// - Throws: `KernelError` naming "indices[p]" and its value when it is outside 0..<V,
    ///   or the operand of a shape mismatch.
    /// - Complexity: n·D copies.
    public static func rows<T: TensorElement>(_ table: MatrixView<T>, indices: MatrixView<Int32>,
                                              into output: MatrixView<T>) throws(KernelError) {
        let name = "Gather.rows"
        try _checkBounds(table, "table", name)
        try _checkShape(output, "output", rows: output.rows, cols: table.cols, name)
        try _checkWritable(output, "output", name)
        try _checkDisjoint(output, "output", table, "table", name)
        let stride = try checkIndices(indices, count: output.rows, vocabulary: table.rows, name)
        table.withUnsafeMatrix { pt in
        indices.withUnsafeMatrix { pi in
        output.withUnsafeMatrix { po in
            for p in 0..<po.rows {
                let row = Int(pi.base[p * stride])
                _copy(_UnsafeMatrix(base: pt.at(row, 0), rows: 1, cols: po.cols, rowStride: 0, colStride: pt.colStride),
                      _UnsafeMatrix(base: po.at(p, 0), rows: 1, cols: po.cols, rowStride: 0, colStride: po.colStride))
            }
        }}}
    }

    /// tableGradient[v, :] = Σ outputGradient[p, :] over positions p with indices[p] == v,
    /// summed in increasing p from zero (or from the current value when `accumulate`),
    /// for the table rows v in `vocabularyRows`; other rows are not touched. Tasks that
    /// split 0..<V into ranges produce exactly the bits of one call over all of it.
    ///
    /// ```swift
    /// try Gather.rowsBackward(dOut, indices: tokens, into: dTable, vocabularyRows: 0..<V / 2)
    /// try Gather.rowsBackward(dOut, indices: tokens, into: dTable, vocabularyRows: V / 2..<V)
    /// ```
    /// - Parameters:
    ///   - outputGradient: n×D.
    ///   - indices: the n indices of the forward `rows` call.
    ///   - tableGradient: V×D with colStride 1 and rowStride ≥ D (rows must not overlap
    ///     each other or outputGradient).
    ///   - vocabularyRows: the table rows this call owns; all of 0..<V by default.
    ///   - accumulate: add to tableGradient instead of overwriting it.
    /// - Throws: `KernelError` naming "indices[p]" when it is outside 0..<V (every index is
    ///   checked, not only those in the range), or the operand of a shape mismatch.
    /// - Complexity: n index reads plus (matches)·D additions.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func rowsBackward<T: KernelScalar>(_ outputGradient: MatrixView<T>, indices: MatrixView<Int32>,
                                                     into tableGradient: MatrixView<T>, vocabularyRows: Range<Int>? = nil,
                                                     accumulate: Bool = false) throws(KernelError) {
        let name = "Gather.rowsBackward"
        try _checkBounds(outputGradient, "outputGradient", name)
        try _checkPixels(tableGradient, "tableGradient", rows: tableGradient.rows, cols: outputGradient.cols, name, output: true)
        try _checkDisjoint(tableGradient, "tableGradient", outputGradient, "outputGradient", name)
        let stride = try checkIndices(indices, count: outputGradient.rows, vocabulary: tableGradient.rows, name)
        let owned = vocabularyRows ?? 0..<tableGradient.rows
        try _checkRange(owned, "vocabularyRows", 0..<tableGradient.rows, name)
        outputGradient.withUnsafeMatrix { pg in
        indices.withUnsafeMatrix { pi in
        tableGradient.withUnsafeMatrix { pt in
            switch _KernelKind(T.self) {
            case .float:
                _GatherKernels<Float>.scatterAdd(pg.cast(to: Float.self), pi.base, stride, pt.cast(to: Float.self), owned, accumulate)
            case .double:
                _GatherKernels<Double>.scatterAdd(pg.cast(to: Double.self), pi.base, stride, pt.cast(to: Double.self), owned, accumulate)
            }
        }}}
    }

    /// Checks every index against 0..<vocabulary; returns the line's pointer stride.
    @inline(never)
    static func checkIndices(_ indices: MatrixView<Int32>, count: Int, vocabulary: Int, _ name: String) throws(KernelError) -> Int {
        let stride = try _lineStride(indices, "indices", count: count, name)
        let bad: (Int, Int32)? = indices.withUnsafeMatrix { pi in
            for p in 0..<count {
                let v = pi.base[p * stride]
                if v < 0 || Int(v) >= vocabulary { return (p, v) }
            }
            return nil
        }
        if let (p, v) = bad {
            throw KernelError("\(name): indices[\(p)] = \(v) is out of range 0..<\(vocabulary) (the table's rows)")
        }
        return stride
    }
}

enum _GatherKernels<T: KernelScalar> {
    static func scatterAdd(_ g: _UnsafeMatrix<T>, _ indices: UnsafeMutablePointer<Int32>, _ stride: Int,
                           _ t: _UnsafeMatrix<T>, _ owned: Range<Int>, _ accumulate: Bool) {
        let d = t.cols
        if !accumulate {
            for v in owned {
                let row = t.at(v, 0)
                if t.colStride == 1 { row.update(repeating: 0, count: d) } else { for j in 0..<d { row[j * t.colStride] = 0 } }
            }
        }
        for p in 0..<g.rows {
            let v = Int(indices[p * stride])
            guard owned.contains(v) else { continue }
            let dst = t.at(v, 0), src = g.at(p, 0)
            if t.colStride == 1 && g.colStride == 1 {
                for j in 0..<d { dst[j] += src[j] }
            } else {
                for j in 0..<d { dst[j * t.colStride] += src[j * g.colStride] }
            }
        }
    }
}
