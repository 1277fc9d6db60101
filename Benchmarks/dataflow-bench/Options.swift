import Foundation

/// A user mistake on the command line: printed without a stack trace, exit 2.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// A subcommand of `dataflow-bench`.
protocol BenchCommand {
    static var summary: String { get }
    static var spec: OptionSpec { get }
    static func run(_ options: Options) throws
}

/// The options one subcommand accepts: `--name value` options and `--flag`s.
struct OptionSpec {
    struct Entry {
        var name: String
        var takesValue: Bool
        var help: String
        var defaultValue: String?

        static func option(_ name: String, _ help: String, default value: String? = nil) -> Entry {
            Entry(name: name, takesValue: true, help: help, defaultValue: value)
        }

        static func flag(_ name: String, _ help: String) -> Entry {
            Entry(name: name, takesValue: false, help: help, defaultValue: nil)
        }
    }
    var entries: [Entry]

    init(_ entries: [Entry]) {
        self.entries = entries + [Entry(name: "help", takesValue: false, help: "print this help", defaultValue: nil)]
    }


    func help(command: String, summary: String) -> String {
        var lines = ["usage: dataflow-bench \(command) [options]", "", summary, "", "options:"]
        for entry in entries {
            let left = entry.takesValue ? "--\(entry.name) VALUE" : "--\(entry.name)"
            let def = entry.defaultValue.map { " (default: \($0))" } ?? ""
            lines.append("  " + left.padding(toLength: 26, withPad: " ", startingAt: 0) + entry.help + def)
        }
        return lines.joined(separator: "\n")
    }
}

/// Parsed command-line options, validated against an `OptionSpec`.
struct Options {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    let spec: OptionSpec

    init(_ arguments: [String], spec: OptionSpec) throws {
        self.spec = spec
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else {
                throw CLIError("unexpected argument '\(argument)' (options start with --; try --help)")
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let eq = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let entry = spec.entries.first(where: { $0.name == name }) else {
                throw CLIError("unknown option '--\(name)' (try --help)")
            }
            if entry.takesValue {
                if let inlineValue {
                    values[name] = inlineValue
                } else {
                    guard index + 1 < arguments.count else {
                        throw CLIError("option '--\(name)' needs a value")
                    }
                    values[name] = arguments[index + 1]
                    index += 1
                }
            } else {
                if inlineValue != nil { throw CLIError("option '--\(name)' takes no value") }
                flags.insert(name)
            }
            index += 1
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func string(_ name: String) -> String? {
        values[name] ?? spec.entries.first(where: { $0.name == name })?.defaultValue
    }

    func int(_ name: String, range: ClosedRange<Int> = 1...Int.max) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw CLIError("option '--\(name)' expects an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// A comma-separated list of integers, e.g. `--threads 1,2,4`.
    func intList(_ name: String, range: ClosedRange<Int> = 1...Int.max) throws -> [Int]? {
        guard let text = string(name) else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var result: [Int] = []
        for part in parts {
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw CLIError("option '--\(name)' expects a comma-separated list of integers in "
                    + "\(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            result.append(value)
        }
        guard !result.isEmpty else { throw CLIError("option '--\(name)' is empty") }
        return result
    }

    func choice(_ name: String, among allowed: [String]) throws -> String? {
        guard let text = string(name) else { return nil }
        guard allowed.contains(text) else {
            throw CLIError("option '--\(name)' expects one of \(allowed.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }
}

/// One JSON object per line, keys in the order given.
func jsonLine(_ fields: KeyValuePairs<String, Any>) -> String {
    var parts: [String] = []
    for (key, value) in fields {
        parts.append("\"\(key)\":\(jsonValue(value))")
    }
    return "{" + parts.joined(separator: ",") + "}"
}

private func jsonValue(_ value: Any) -> String {
    switch value {
    case let v as String:
        var escaped = ""
        for scalar in v.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default:
                if scalar.value < 0x20 { escaped += String(format: "\\u%04x", scalar.value) } else { escaped.unicodeScalars.append(scalar) }
            }
        }
        return "\"\(escaped)\""
    case let v as Bool: return v ? "true" : "false"
    case let v as Int: return String(v)
    case let v as Double: return v.isFinite ? String(v) : "null"
    case let v as Float: return v.isFinite ? String(v) : "null"
    case let v as [Any]: return "[" + v.map(jsonValue).joined(separator: ",") + "]"
    case Optional<Any>.none: return "null"
    default: return "\"\(value)\""
    }
}

/// Progress on standard error, so that `--json` output on standard output stays clean.
func progress(_ message: String) {
    FileHandle.standardError.write(Data("… \(message)\n".utf8))
}

/// Monotonic seconds.
func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// Median of a non-empty sample.
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
