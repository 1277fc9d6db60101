import Dispatch
import Synchronization

/// Running items: a task and its chain of inline successors, or a range of roots.
extension ExecutorCore {
    /// Runs one item taken from a deque (or the root range a run starts with).
    @inline(__always)
    func execute(_ item: WorkItem, _ ctx: WorkerContext) {
        if ctx.batchRun != item.run {
            flush(ctx)
            ctx.batchRun = item.run
        }
        ExecutorCore.runState(item.run)._withUnsafeGuaranteedRef { run in
            if item.code >= 0 {
                runChain(from: item.code, run, item.run, ctx)
            } else {
                let bits = ~item.code
                let start = bits >> 32
                var end = bits & 0xFFFF_FFFF
                // Lazy binary splitting: keep the best half, offer the rest to thieves.
                while end - start > run.grain {
                    let mid = start + (end - start) / 2
                    push(run.item(rootsFrom: mid, to: end), ctx)
                    end = mid
                }
                var p = start
                while p < end {
                    runChain(from: Int(run.roots[p]), run, item.run, ctx)
                    p += 1
                }
            }
        }
    }

    /// Runs `first`, then, while some successor became ready, the best ready successor
    /// inline; the other ready successors go to the own deque, worst first, so the
    /// next best is on top.
    @inline(__always)
    private func runChain(from first: Int, _ run: RunState, _ runBits: Int, _ ctx: WorkerContext) {
        var task = first
        while true {
            if !run.shouldSkip() {
                invoke(task, run, ctx)
                // A nested run inside the body may have switched the batch to its run.
                if ctx.batchRun != runBits {
                    flush(ctx)
                    ctx.batchRun = runBits
                }
            }
            ctx.batchCount += 1
            var next = -1
            var k = Int(run.successorStart[task])
            let end = Int(run.successorStart[task + 1])
            while k < end {
                let s = Int(run.successors[k])
                // acq_rel: publishes this task's writes; whoever reaches zero sees every
                // predecessor's writes.
                if run.join.decrementAcquiringAndReleasing(s) == 0 {
                    if next >= 0 { push(WorkItem(run: runBits, code: next), ctx) }
                    next = s
                }
                k += 1
            }
            if next < 0 { return }
            task = next
        }
    }

    @inline(__always)
    private func invoke(_ task: Int, _ run: RunState, _ ctx: WorkerContext) {
        if let observer = run.observer {
            invokeObserved(task, run, ctx, observer)
            return
        }
        do {
            try run.bodies[task].run()
        } catch {
            run.fail(error)
        }
    }

    @inline(never)
    private func invokeObserved(_ task: Int, _ run: RunState, _ ctx: WorkerContext, _ observer: any TaskObserver) {
        let id = TaskID(index: task)
        let start = DispatchTime.now().uptimeNanoseconds
        observer.taskStarted(id, worker: ctx.slot, at: start)
        do {
            try run.bodies[task].run()
        } catch {
            run.fail(error)
        }
        let end = DispatchTime.now().uptimeNanoseconds
        observer.taskFinished(TaskEvent(task: id, worker: ctx.slot, start: start, end: end))
    }
}
