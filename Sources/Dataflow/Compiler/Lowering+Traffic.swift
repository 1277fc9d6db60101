import DataflowKernels

/// Bytes each task moves to and from main memory, for the scale model's bandwidth
/// share (`ScheduleSimulator`): an estimate, not a measurement. A value's traffic is
/// split among its tasks in proportion to their costs.
///
/// - Matrix product m×n×k (element size e), blocked as the GEMM driver does
///   (kc = 1024 / 512, nc = 2048 for Float / Double): A is read once per column
///   panel, B once, C written once and read back for every further k block:
///   `e·(m·k·⌈n/nc⌉ + k·n + m·n·(2⌈k/kc⌉ − 1))`, plus epilogue operands.
/// - Everything else (element-wise, reductions, row ops, copies, convolutions): each
///   distinct input once and the output once.
/// - Updates: an axpy reads the parameter, the scale and the gradient and writes the
///   parameter (3 passes); an assignment or a copy 2 passes.
extension Lowering {
    /// `bodies` (the tasks of value i) with their share of the value's traffic.
    func withTraffic(_ i: Int, _ bodies: [PendingTask]) -> [PendingTask] {
        let total = Double(valueBytes(i))
        let cost = bodies.reduce(0) { $0 + $1.cost }
        return bodies.map { task in
            var task = task
            let share = cost > 0 ? task.cost / cost : 1 / Double(max(bodies.count, 1))
            task.bytes = Int(total * share)
            return task
        }
    }

    /// The estimated main-memory traffic of computing value i.
    func valueBytes(_ i: Int) -> Int {
        let v = ir.values[i]
        let e = v.dtype.byteSize
        let inputs = Set(v.inputs.map(root))
        if case .gemm(let ta, _, let epilogueKind) = v.kind {
            let out = v.concrete
            let a = ir.values[v.inputs[0]].concrete
            let (m, n) = (out.dropLast().reduce(1, *), out.last ?? 1)
            let k = ta ? a[a.count - 2] : (a.last ?? 1)
            let (kc, nc) = e == 4 ? (1024, 2048) : (512, 2048)
            func ceil(_ x: Int, _ y: Int) -> Int { (x + y - 1) / y }
            let core = m * k * ceil(n, nc) + k * n + m * n * (2 * ceil(k, kc) - 1)
            if epilogueKind == .sumOfProducts {
                // Every pair streams its operands; C is read back by every pair after the first.
                let pairs = v.inputs.count / 2
                return e * (pairs * core + (pairs - 1) * 2 * m * n)
            }
            let epilogue = v.inputs.dropFirst(2).reduce(0) { $0 + ir.values[$1].concrete.reduce(1, *) }
            return e * (core + epilogue)
        }
        let read = inputs.reduce(0) { $0 + ir.values[$1].concrete.reduce(1, *) * ir.values[$1].dtype.byteSize }
        return read + v.concrete.reduce(1, *) * e
    }

    /// Traffic of an update task: 3 passes over the parameter for an axpy, 2 for an assignment.
    func updateBytes(_ update: IR.Update) -> Int {
        switch update {
        case .axpy(let p, _, _, _): 3 * ir.values[p].concrete.reduce(1, *) * ir.values[p].dtype.byteSize
        case .assign(let p, _): 2 * ir.values[p].concrete.reduce(1, *) * ir.values[p].dtype.byteSize
        }
    }

    /// Traffic of copying value p (a snapshot or a staged commit).
    func copyBytes(_ p: Int) -> Int { 2 * ir.values[p].concrete.reduce(1, *) * ir.values[p].dtype.byteSize }
}
