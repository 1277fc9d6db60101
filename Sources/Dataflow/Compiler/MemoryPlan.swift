/// Where every value of a specialised program lives, and how much scratch memory
/// the program needs.
///
/// Goals, in order: never let two values that may be alive at the same time share
/// memory (in *any* parallel schedule, not just the sequential one); no copies of
/// feeds, parameters, constants or reshapes; then a small arena.
///
/// Intermediates are placed in one arena per element type by a linear scan in
/// topological order with a free list (best fit). A freed block is reused by value
/// `u` only when every reader of its previous owner is an ancestor of `u` in the
/// dataflow graph, so the reuse is safe under any schedule without extra edges.
/// For graphs too large for the ancestor bitsets (more than `exactLimit` values),
/// the reuse is made safe instead by extra dependency edges from the previous
/// owner's readers to `u`'s producer (`extraEdges`).
struct MemoryPlan {
    enum Location: Equatable {
        case feed(String)
        case parameter(ParameterID)
        case constant(Int)          // index into `constants`
        case arena(DType, offset: Int)
        case output(Int)            // index into `outputSlots`
        case alias(of: Int)         // same storage as value #n (resolved: never an alias itself)
    }

    var locations: [Location]
    var constants: [TensorValue] = []
    /// Elements per dtype arena.
    var arenaSize: [DType: Int] = [:]
    /// One dedicated buffer per distinct output/updated value: (value index, element count).
    var outputSlots: [(value: Int, count: Int, dtype: DType)] = []
    /// Extra (reader → writer) ordering edges for large graphs (by value index).
    var extraEdges: [(Int, Int)] = []
    /// Arena scratch of the values that need some while they run (convolutions:
    /// `IR.scratchCount`): value index → offset in the arena of the value's dtype.
    /// A scratch block is placed like a value read only by its owner, so it is free
    /// again for any value that the owner precedes.
    var scratchOffsets: [Int: Int] = [:]

    /// Peak bytes of intermediate buffers (the arenas).
    var peakIntermediateBytes: Int {
        arenaSize.reduce(0) { $0 + $1.value * $1.key.byteSize }
    }

    static let exactLimit = 4096
    static let alignment = 16

    init(ir: IR, graph: Graph) {
        let n = ir.count
        locations = Array(repeating: .arena(.float32, offset: 0), count: n)
        var dedicated = Set(ir.outputs)
        for u in ir.updates { if case .assign(_, let value) = u { dedicated.insert(value) } }

        // 1. Leaves, aliases, dedicated outputs.
        var isArena = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let v = ir.values[i]
            switch v.kind {
            case .op(.placeholder(let name)): locations[i] = .feed(name)
            case .op(.parameter(let id)): locations[i] = .parameter(id)
            case .op(.constant(let id)):
                constants.append(graph.constantForCompiler(id)); locations[i] = .constant(constants.count - 1)
            case .folded(let c):
                constants.append(c.value); locations[i] = .constant(constants.count - 1)
            case .op(.scalar(let x)):
                constants.append(TensorValue(scalar: x, v.dtype)); locations[i] = .constant(constants.count - 1)
            case .op(.reshape), .op(.stopGradient):
                locations[i] = MemoryPlan.resolve(.alias(of: v.inputs[0]), locations)
            case .op(let op) where (op == .broadcastLike || op == .sumToShapeOf) && ir.values[v.inputs[0]].concrete == v.concrete:
                locations[i] = MemoryPlan.resolve(.alias(of: v.inputs[0]), locations)
            default:
                isArena[i] = true
            }
            if isArena[i] && dedicated.contains(i) {
                outputSlots.append((i, v.concrete.reduce(1, *), v.dtype))
                locations[i] = .output(outputSlots.count - 1)
                isArena[i] = false
            }
        }
        // An alias of an arena value that is an output: promote the root to a dedicated slot.
        for o in dedicated {
            if case .alias(let root) = locations[o], isArena[root] {
                outputSlots.append((root, ir.values[root].concrete.reduce(1, *), ir.values[root].dtype))
                locations[root] = .output(outputSlots.count - 1)
                isArena[root] = false
            }
        }

        // 2. Readers of each storage root (reads through aliases count for the root).
        func root(_ i: Int) -> Int { if case .alias(let r) = locations[i] { return r } else { return i } }
        var readers = [[Int]](repeating: [], count: n)
        for (j, v) in ir.values.enumerated() {
            if case .alias = locations[j] { continue }   // aliases run no task; their readers read the root
            for input in Set(v.inputs) { readers[root(input)].append(j) }
        }
        // Values read by parameter updates stay alive to the end: pin them.
        var pinned = [Bool](repeating: false, count: n)
        for u in ir.updates { for i in u.reads { pinned[root(i)] = true } }

        // 3. Ancestor bitsets (exact mode).
        let exact = n <= MemoryPlan.exactLimit
        let words = (n + 63) / 64
        var ancestors: [[UInt64]] = []
        if exact {
            ancestors.reserveCapacity(n)
            // Over the task-level DAG: a consumer waits for the storage root of each input,
            // not for an alias's other inputs (an alias runs no task), so ancestry goes
            // through roots only.
            for v in ir.values {
                var bits = [UInt64](repeating: 0, count: words)
                for input in v.inputs {
                    let r = root(input)
                    bits[r >> 6] |= 1 << UInt64(r & 63)
                    for w in 0..<words { bits[w] |= ancestors[r][w] }
                }
                ancestors.append(bits)
            }
        }
        func isAncestor(_ a: Int, of b: Int) -> Bool { ancestors[b][a >> 6] & (1 << UInt64(a & 63)) != 0 }

        // 4. Linear scan with a free list per dtype.
        struct Block { var offset: Int; var size: Int; var previousReaders: [Int] }
        var free: [DType: [Block]] = [:]
        var releaseAt = [[Int]](repeating: [], count: n + 1)
        var blockOf = [Block?](repeating: nil, count: n)
        for i in 0..<n where isArena[i] && !pinned[i] {
            let last = readers[i].max() ?? i
            releaseAt[last].append(i)
        }
        /// A block of `need` elements for value `u` (best fit among the free blocks
        /// that are safe for `u`, else new space at the end of the arena).
        func allocate(_ u: Int, _ dtype: DType, _ need: Int, readers: [Int]) -> Block {
            let size = (need + MemoryPlan.alignment - 1) / MemoryPlan.alignment * MemoryPlan.alignment
            var list = free[dtype, default: []]
            var best: Int?
            for (b, block) in list.enumerated() where block.size >= size {
                if exact && !block.previousReaders.allSatisfy({ isAncestor($0, of: u) }) { continue }
                if best == nil || block.size < list[best!].size { best = b }
            }
            let block: Block
            if let best {
                block = Block(offset: list[best].offset, size: list[best].size, previousReaders: readers)
                if !exact { for r in list[best].previousReaders where r != u { extraEdges.append((r, u)) } }
                list.remove(at: best)
            } else {
                let offset = arenaSize[dtype, default: 0]
                arenaSize[dtype] = offset + size
                block = Block(offset: offset, size: size, previousReaders: readers)
            }
            free[dtype] = list
            return block
        }
        for u in 0..<n {
            if isArena[u] {
                let dtype = ir.values[u].dtype
                let block = allocate(u, dtype, max(1, ir.values[u].concrete.reduce(1, *)), readers: readers[u])
                blockOf[u] = block
                locations[u] = .arena(dtype, offset: block.offset)
            }
            // Scratch used only while u runs: taken now (disjoint from u's inputs and
            // output, which are all live), free again after u.
            let scratch = ir.scratchCount(u)
            var scratchBlock: Block?
            if scratch > 0 {
                let block = allocate(u, ir.values[u].dtype, scratch, readers: [u])
                scratchOffsets[u] = block.offset
                scratchBlock = block
            }
            // Values whose last reader is u are free after u (for values produced later).
            for dead in releaseAt[u] {
                if var block = blockOf[dead] {
                    block.previousReaders = readers[dead].isEmpty ? [dead] : readers[dead]
                    free[ir.values[dead].dtype, default: []].append(block)
                }
            }
            if let scratchBlock { free[ir.values[u].dtype, default: []].append(scratchBlock) }
        }
    }

    private static func resolve(_ location: Location, _ locations: [Location]) -> Location {
        if case .alias(let i) = location, case .alias(let r) = locations[i] { return .alias(of: r) }
        return location
    }
}

