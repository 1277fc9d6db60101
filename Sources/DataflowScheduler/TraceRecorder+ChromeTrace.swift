extension TraceRecorder {
    /// The recorded events as Chrome trace JSON, which opens in Perfetto
    /// (ui.perfetto.dev) and chrome://tracing.
    ///
    /// One complete ("X") event per task execution: `name` is the task's name, `tid` the
    /// worker slot, `ts`/`dur` microseconds from the first recorded start, `cat` and
    /// `args.kind` the task's kind (named through `kindNames` when given).
    ///
    /// ```swift
    /// let json = trace.chromeTrace(for: graph, kindNames: [1: "matmul", 2: "weight grad"])
    /// ```
    /// - Parameters:
    ///   - graph: The graph that was run, for names and kinds.
    ///   - kindNames: Readable names for `kind` tags.
    /// - Returns: A JSON object `{"traceEvents": [...], "displayTimeUnit": "ns"}`.
    public func chromeTrace(for graph: TaskGraph, kindNames: [Int: String] = [:]) -> String {
        let events = self.events
        let origin = events.map(\.start).min() ?? 0
        var out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":["
        var first = true
        let workers = Set(events.map(\.worker)).sorted()
        for w in workers {
            if !first { out += "," }
            first = false
            let label = w == 0 ? "caller (worker 0)" : "worker \(w)"
            out += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":\(w),\"args\":{\"name\":\(TraceRecorder.jsonString(label))}}"
        }
        for e in events where e.task.index < graph.count {
            if !first { out += "," }
            first = false
            let kind = graph.kind(of: e.task)
            let kindName = kindNames[kind] ?? "kind \(kind)"
            let ts = Double(e.start - origin) / 1000
            let dur = Double(e.end &- e.start) / 1000
            let name = TraceRecorder.jsonString(graph.name(of: e.task)), category = TraceRecorder.jsonString(kindName)
            out += "{\"name\":\(name),\"cat\":\(category),\"ph\":\"X\",\"pid\":1,\"tid\":\(e.worker),"
            out += "\"ts\":\(ts),\"dur\":\(dur),\"args\":{\"task\":\(e.task.index),\"kind\":\(kind),\"kindName\":\(category)}}"
        }
        out += "]}"
        return out
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var s = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    s += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    s.unicodeScalars.append(scalar)
                }
            }
        }
        return s + "\""
    }
}
