/// The fused-program evaluator: the program runs a block of up to `blockElements`
/// elements at a time, one instruction after another, each instruction a tight vector
/// loop whose op is chosen once per block (not once per vector). Values live in an
/// L1-sized scratch; contiguous inputs are read in place. Every lane computes exactly
/// what the per-vector evaluator computed (the same `apply` functions on the same
/// inputs), so results do not depend on the block size or the layout.
extension _ElementwiseKernels {
    /// Elements per block for a program of `count` instructions: scratch of at most
    /// 16 KiB, between 4 and 64 vectors.
    @inline(__always)
    static func blockElements(instructions count: Int) -> Int {
        let vectors = (16_384 / MemoryLayout<T>.stride / V.lanes) / max(1, count)
        return V.lanes * min(64, max(4, vectors))
    }

    static func runBlocks(_ program: ElementwiseProgram, _ inputs: [_UnsafeMatrix<T>], _ y: _UnsafeMatrix<T>) {
        if y.rows == 0 || y.cols == 0 { return }
        var inputs = inputs, y = y
        // A contiguous output whose inputs are contiguous or one broadcast scalar is one long row.
        let (rows, cols) = (y.rows, y.cols)
        if rows > 1, let flat = asOneRow(y, rows, cols), flat.colStride == 1,
           inputs.allSatisfy({ asOneRow($0, rows, cols) != nil }) {
            y = flat
            for k in inputs.indices { inputs[k] = asOneRow(inputs[k], rows, cols)! }
        }
        let count = program.instructions.count
        let w = V.lanes
        // Short contiguous rows with a row-broadcast operand (a bias): several rows per
        // block, the broadcast row repeated once into a tile, so that the program's
        // instructions are dispatched per block rather than per short row.
        let rowsPerBlock = blockElements(instructions: count) / max(1, y.cols)
        if y.rows > 1, rowsPerBlock >= 2, y.cols % w == 0, y.colStride == 1, y.rowStride == y.cols,
           inputs.contains(where: { $0.rowStride == 0 && $0.colStride == 1 }),
           inputs.allSatisfy({ ($0.colStride == 1 && ($0.rowStride == y.cols || $0.rowStride == 0))
                               || ($0.colStride == 0 && $0.rowStride == 0) }) {
            runRowGroups(program, inputs, y, rowsPerBlock: min(rowsPerBlock, y.rows))
            return
        }
        // A block never longer than a row (small tensors need small scratch, on the stack).
        let block = min(blockElements(instructions: count), (y.cols + w - 1) / w * w)
        withUnsafeTemporaryAllocation(of: T.self, capacity: count * block) { scratchBuffer in
        withUnsafeTemporaryAllocation(of: UnsafePointer<T>.self, capacity: count) { sourceBuffer in
            let scratch = scratchBuffer.baseAddress!
            let src = sourceBuffer.baseAddress!
            runBlocks(program, inputs, y, block: block, scratch: scratch, sources: src)
        }}
    }

    /// `y` contiguous with `cols` a whole number of vectors; every input contiguous, a
    /// row broadcast or a scalar. Runs groups of `rowsPerBlock` rows as single rows of
    /// rowsPerBlock·cols elements: contiguous inputs are read in place, each row
    /// broadcast from a tile holding its row rowsPerBlock times (copied once per call).
    static func runRowGroups(_ program: ElementwiseProgram, _ inputs: [_UnsafeMatrix<T>], _ y: _UnsafeMatrix<T>,
                             rowsPerBlock: Int) {
        let count = program.instructions.count
        let cols = y.cols, long = rowsPerBlock * cols
        let tiled = inputs.indices.filter { inputs[$0].rowStride == 0 && inputs[$0].colStride == 1 }
        withUnsafeTemporaryAllocation(of: T.self, capacity: tiled.count * long) { tileBuffer in
        withUnsafeTemporaryAllocation(of: T.self, capacity: count * long) { scratchBuffer in
        withUnsafeTemporaryAllocation(of: UnsafePointer<T>.self, capacity: count) { sourceBuffer in
            let tiles = tileBuffer.baseAddress!
            var grouped = inputs
            for (t, k) in tiled.enumerated() {
                let tile = tiles + t * long
                for r in 0..<rowsPerBlock { (tile + r * cols).update(from: inputs[k].base, count: cols) }
                grouped[k] = _UnsafeMatrix(base: tile, rows: 1, cols: long, rowStride: 0, colStride: 1)
            }
            // Whole groups as rows of `long` elements, then the remaining rows as one shorter row.
            let groups = y.rows / rowsPerBlock, rest = y.rows - groups * rowsPerBlock
            func part(_ firstRow: Int, rows: Int, length: Int) -> ([_UnsafeMatrix<T>], _UnsafeMatrix<T>) {
                let ins = grouped.map { m -> _UnsafeMatrix<T> in
                    if m.colStride == 1 && m.rowStride == cols {   // contiguous
                        return _UnsafeMatrix(base: m.base + firstRow * cols, rows: rows, cols: length, rowStride: length, colStride: 1)
                    }
                    return _UnsafeMatrix(base: m.base, rows: rows, cols: length, rowStride: 0, colStride: m.colStride)
                }
                return (ins, _UnsafeMatrix(base: y.base + firstRow * cols, rows: rows, cols: length, rowStride: length, colStride: 1))
            }
            if groups > 0 {
                let (ins, out) = part(0, rows: groups, length: long)
                runBlocks(program, ins, out, block: long, scratch: scratchBuffer.baseAddress!, sources: sourceBuffer.baseAddress!)
            }
            if rest > 0 {
                let (ins, out) = part(groups * rowsPerBlock, rows: 1, length: rest * cols)
                runBlocks(program, ins, out, block: long, scratch: scratchBuffer.baseAddress!, sources: sourceBuffer.baseAddress!)
            }
        }}}
    }

    static func runBlocks(_ program: ElementwiseProgram, _ inputs: [_UnsafeMatrix<T>], _ y: _UnsafeMatrix<T>, block: Int,
                          scratch: UnsafeMutablePointer<T>, sources src: UnsafeMutablePointer<UnsafePointer<T>>) {
        let count = program.instructions.count
        let w = V.lanes
        // Constants are filled once; other values point into scratch or (contiguous inputs) into memory.
        for (index, instruction) in program.instructions.enumerated() {
            if case .constant(let c) = instruction {
                let v = V(repeating: T(c))
                for k in stride(from: 0, to: block, by: w) { v.store(scratch + index * block + k) }
            }
        }
        program.instructions.withUnsafeBufferPointer { code in
        inputs.withUnsafeBufferPointer { ins in
            for i in 0..<y.rows {
                var j = 0
                while j < y.cols {
                    let n = min(block, y.cols - j)
                    let vectors = (n + w - 1) / w
                    let whole = n % w == 0
                    for (index, instruction) in code.enumerated() {
                        let out = scratch + index * block
                        switch instruction {
                        case .input(let k):
                            let m = ins[k]
                            let p = m.at(i, j)
                            if m.colStride == 1 && whole {
                                src[index] = UnsafePointer(p)
                            } else if m.colStride == 0 {
                                let v = V(repeating: p[0])
                                for k in 0..<vectors { v.store(out + k * w) }
                                src[index] = UnsafePointer(out)
                            } else {
                                for k in 0..<vectors {
                                    load(p + k * w * m.colStride, m.colStride, min(w, n - k * w)).store(out + k * w)
                                }
                                src[index] = UnsafePointer(out)
                            }
                        case .constant:
                            src[index] = UnsafePointer(out)
                        case .unary(let op, let x):
                            unaryBlock(op, src[x], out, vectors)
                            src[index] = UnsafePointer(out)
                        case .binary(let op, let a, let b):
                            binaryBlock(op, src[a], src[b], out, vectors)
                            src[index] = UnsafePointer(out)
                        case .ternary(let op, let a, let b, let c):
                            let pa = src[a], pb = src[b], pc = src[c]
                            for k in 0..<vectors {
                                let o = k * w
                                V.apply(op, V.load(pa + o), V.load(pb + o), V.load(pc + o)).store(out + o)
                            }
                            src[index] = UnsafePointer(out)
                        }
                    }
                    let last = src[count - 1]
                    let py = y.at(i, j)
                    if y.colStride == 1 && whole {
                        for k in 0..<vectors { V.load(last + k * w).store(py + k * w) }
                    } else {
                        for k in 0..<vectors {
                            store(V.load(last + k * w), py + k * w * y.colStride, y.colStride, min(w, n - k * w))
                        }
                    }
                    j += block
                }
            }
        }}
    }

    @inline(__always)
    static func map1(_ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ vectors: Int, _ f: (V) -> V) {
        let w = V.lanes
        for k in 0..<vectors { f(V.load(x + k * w)).store(out + k * w) }
    }

    @inline(__always)
    static func map2(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ vectors: Int,
                     _ f: (V, V) -> V) {
        let w = V.lanes
        for k in 0..<vectors { f(V.load(a + k * w), V.load(b + k * w)).store(out + k * w) }
    }

    static func unaryBlock(_ op: UnaryOp, _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ n: Int) {
        switch op {
        case .neg: map1(x, out, n) { V.apply(.neg, $0) }
        case .exp: map1(x, out, n) { V.apply(.exp, $0) }
        case .log: map1(x, out, n) { V.apply(.log, $0) }
        case .sigmoid: map1(x, out, n) { V.apply(.sigmoid, $0) }
        case .tanh: map1(x, out, n) { V.apply(.tanh, $0) }
        case .relu: map1(x, out, n) { V.apply(.relu, $0) }
        case .square: map1(x, out, n) { V.apply(.square, $0) }
        case .sqrt: map1(x, out, n) { V.apply(.sqrt, $0) }
        case .reciprocal: map1(x, out, n) { V.apply(.reciprocal, $0) }
        case .abs: map1(x, out, n) { V.apply(.abs, $0) }
        case .rsqrt: map1(x, out, n) { V.apply(.rsqrt, $0) }
        case .log1p: map1(x, out, n) { V.apply(.log1p, $0) }
        case .expm1: map1(x, out, n) { V.apply(.expm1, $0) }
        case .sign: map1(x, out, n) { V.apply(.sign, $0) }
        case .pow(let p): map1(x, out, n) { V.apply(.pow(p), $0) }
        }
    }

    static func binaryBlock(_ op: BinaryOp, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>,
                            _ n: Int) {
        switch op {
        case .add: map2(a, b, out, n) { V.apply(.add, $0, $1) }
        case .sub: map2(a, b, out, n) { V.apply(.sub, $0, $1) }
        case .mul: map2(a, b, out, n) { V.apply(.mul, $0, $1) }
        case .div: map2(a, b, out, n) { V.apply(.div, $0, $1) }
        case .maximum: map2(a, b, out, n) { V.apply(.maximum, $0, $1) }
        case .minimum: map2(a, b, out, n) { V.apply(.minimum, $0, $1) }
        case .sigmoidBackward: map2(a, b, out, n) { V.apply(.sigmoidBackward, $0, $1) }
        case .tanhBackward: map2(a, b, out, n) { V.apply(.tanhBackward, $0, $1) }
        case .reluBackward: map2(a, b, out, n) { V.apply(.reluBackward, $0, $1) }
        case .greater: map2(a, b, out, n) { V.apply(.greater, $0, $1) }
        case .equal: map2(a, b, out, n) { V.apply(.equal, $0, $1) }
        case .greaterEqual: map2(a, b, out, n) { V.apply(.greaterEqual, $0, $1) }
        case .less: map2(a, b, out, n) { V.apply(.less, $0, $1) }
        case .lessEqual: map2(a, b, out, n) { V.apply(.lessEqual, $0, $1) }
        case .notEqual: map2(a, b, out, n) { V.apply(.notEqual, $0, $1) }
        }
    }
}
