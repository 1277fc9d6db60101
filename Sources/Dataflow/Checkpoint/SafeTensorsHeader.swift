/// The JSON header of a safetensors file: tensor entries and the optional
/// `__metadata__` map, with a strict writer and a strict parser.
///
/// Goals, in order: (1) never trap on any input — every malformed byte becomes a
/// thrown `CheckpointError`; (2) accept every header the reference implementation
/// (huggingface/safetensors, `tensor.rs`) writes, and write byte-for-byte what it
/// writes for the same tensors; (3) be small. It parses only the shape a header can
/// have (an object of objects), so there is no recursion and no depth to limit.
///
/// Departures from a general JSON reader, all on purpose:
/// - duplicate keys (tensor names, fields, metadata keys) are errors, where
///   serde_json would keep the last one;
/// - unknown fields in a tensor entry are errors (the reference ignores them);
/// - dimensions and offsets must be non-negative integers without fraction or
///   exponent that fit in `Int`;
/// - the header must start with `{` (the specification says it MUST).
struct SafeTensorsHeader: Equatable {
    /// One tensor entry, in header order.
    struct Entry: Equatable {
        var name: String
        /// The dtype exactly as written, e.g. `"F32"` or `"BF16"`.
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    var entries: [Entry]
    var metadata: [String: String]
    /// Whether the header had a `__metadata__` key (possibly empty).
    var hasMetadata: Bool

    /// The key the format reserves for the metadata map.
    static let metadataKey = "__metadata__"
}

// MARK: - Writing

extension SafeTensorsHeader {
    /// The compact JSON serde_json writes for the reference's header: `__metadata__`
    /// first (when present, keys in UTF-8 byte order), then the entries in order.
    func json() -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
        }
        if hasMetadata {
            separator()
            Self.appendString(Self.metadataKey, to: &out)
            out.append(contentsOf: Array(":{".utf8))
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                Self.appendString(metadata[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        for entry in entries {
            separator()
            Self.appendString(entry.name, to: &out)
            out.append(contentsOf: Array(":{\"dtype\":".utf8))
            Self.appendString(entry.dtype, to: &out)
            out.append(contentsOf: Array(",\"shape\":[".utf8))
            out.append(contentsOf: Array(entry.shape.map(String.init).joined(separator: ",").utf8))
            out.append(contentsOf: Array("],\"data_offsets\":[\(entry.begin),\(entry.end)]}".utf8))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Appends `s` as a JSON string, escaped as serde_json does: `\"`, `\\`, the
    /// short escapes `\b \f \n \r \t`, other control characters as `\u00xx`
    /// (lower-case hex); everything else, non-ASCII included, as raw UTF-8.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - Parsing

extension SafeTensorsHeader {
    /// Parses a header: one JSON object of tensor entries and `__metadata__`,
    /// followed only by whitespace.
    ///
    /// - Parameter bytes: the header bytes (between the length and the data).
    /// - Throws: `CheckpointError.malformedHeader` with the byte offset,
    ///   `.duplicateTensor`, or `.invalidTensorEntry` naming the tensor.
    init(parsing bytes: [UInt8]) throws {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            // Find the first bad byte for the message: the longest valid prefix.
            var offset = 0
            var it = bytes.makeIterator()
            var decoder = UTF8()
            loop: while true {
                switch decoder.decode(&it) {
                case .scalarValue(let s): offset += UTF8.width(s)
                case .emptyInput, .error: break loop
                }
            }
            throw CheckpointError.malformedHeader(offset: offset, reason: "the header is not valid UTF-8")
        }
        var parser = _HeaderParser(bytes: bytes)
        self = try parser.parseHeader()
    }
}

/// A cursor over the header bytes. The bytes are valid UTF-8 (checked before), so
/// a string's bytes between two ASCII quotes always decode.
private struct _HeaderParser {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ reason: String) -> CheckpointError {
        .malformedHeader(offset: position, reason: reason)
    }

    var atEnd: Bool { position >= bytes.count }

    /// A short, printable description of the byte at the cursor.
    var found: String {
        guard !atEnd else { return "the end of the header" }
        let b = bytes[position]
        return b >= 0x20 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
    }

    mutating func skipWhitespace() {
        while !atEnd, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    /// Consumes `byte` after optional whitespace, or throws naming `what`.
    mutating func expect(_ byte: UInt8, _ what: String) throws {
        skipWhitespace()
        guard !atEnd, bytes[position] == byte else { throw fail("expected \(what), found \(found)") }
        position += 1
    }

    /// Consumes `byte` after optional whitespace if it is there.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard !atEnd, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// The members of an object whose `{` has been consumed: calls `member` with
    /// each key once the `:` is consumed, until the closing `}`.
    mutating func parseMembers(_ member: (inout _HeaderParser, String) throws -> Void) throws {
        if consume(UInt8(ascii: "}")) { return }
        while true {
            skipWhitespace()
            let key = try parseString()
            try expect(UInt8(ascii: ":"), "':' after a key")
            try member(&self, key)
            if consume(UInt8(ascii: ",")) { continue }
            try expect(UInt8(ascii: "}"), "',' or '}'")
            return
        }
    }

    mutating func parseHeader() throws -> SafeTensorsHeader {
        guard !atEnd, bytes[0] == UInt8(ascii: "{") else {
            throw fail("the header must start with '{', found \(found)")
        }
        position = 1
        var header = SafeTensorsHeader(entries: [], metadata: [:], hasMetadata: false)
        var names: Set<String> = []
        try parseMembers { p, key in
            if key == SafeTensorsHeader.metadataKey {
                guard !header.hasMetadata else { throw p.fail("\"__metadata__\" appears twice") }
                header.hasMetadata = true
                header.metadata = try p.parseMetadata()
            } else {
                guard names.insert(key).inserted else { throw CheckpointError.duplicateTensor(name: key) }
                header.entries.append(try p.parseEntry(named: key))
            }
        }
        skipWhitespace()
        guard atEnd else { throw fail("only whitespace may follow the header object, found \(found)") }
        return header
    }

    mutating func parseMetadata() throws -> [String: String] {
        try expect(UInt8(ascii: "{"), "'{' opening \"__metadata__\"")
        var metadata: [String: String] = [:]
        try parseMembers { p, key in
            p.skipWhitespace()
            guard !p.atEnd, p.bytes[p.position] == UInt8(ascii: "\"") else {
                throw p.fail("\"__metadata__\" value of \(CheckpointError.quote(key)) must be a string, found \(p.found)")
            }
            let value = try p.parseString()
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw p.fail("\"__metadata__\" key \(CheckpointError.quote(key)) appears twice")
            }
        }
        return metadata
    }

    mutating func parseEntry(named name: String) throws -> SafeTensorsHeader.Entry {
        func invalid(_ reason: String) -> CheckpointError { .invalidTensorEntry(tensor: name, reason: reason) }
        skipWhitespace()
        guard consume(UInt8(ascii: "{")) else { throw invalid("expected an object {dtype, shape, data_offsets}, found \(found)") }
        var dtype: String?
        var shape: [Int]?
        var offsets: [Int]?
        try parseMembers { p, field in
            switch field {
            case "dtype":
                guard dtype == nil else { throw invalid("field \"dtype\" appears twice") }
                p.skipWhitespace()
                guard !p.atEnd, p.bytes[p.position] == UInt8(ascii: "\"") else {
                    throw invalid("\"dtype\" must be a string, found \(p.found)")
                }
                dtype = try p.parseString()
            case "shape":
                guard shape == nil else { throw invalid("field \"shape\" appears twice") }
                shape = try p.parseIntegers(field: field, tensor: name)
            case "data_offsets":
                guard offsets == nil else { throw invalid("field \"data_offsets\" appears twice") }
                let o = try p.parseIntegers(field: field, tensor: name)
                guard o.count == 2 else { throw invalid("\"data_offsets\" must hold 2 integers [begin, end], found \(o.count)") }
                offsets = o
            default:
                throw invalid("unknown field \(CheckpointError.quote(field)); expected dtype, shape, data_offsets")
            }
        }
        guard let dtype else { throw invalid("missing field \"dtype\"") }
        guard let shape else { throw invalid("missing field \"shape\"") }
        guard let offsets else { throw invalid("missing field \"data_offsets\"") }
        return .init(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// A JSON array of non-negative integers that fit in `Int`.
    mutating func parseIntegers(field: String, tensor: String) throws -> [Int] {
        func invalid(_ reason: String) -> CheckpointError {
            .invalidTensorEntry(tensor: tensor, reason: "\"\(field)\" \(reason)")
        }
        skipWhitespace()
        guard consume(UInt8(ascii: "[")) else { throw invalid("must be an array of integers, found \(found)") }
        var values: [Int] = []
        if consume(UInt8(ascii: "]")) { return values }
        while true {
            skipWhitespace()
            guard !atEnd else { throw invalid("is not closed before the end of the header") }
            if bytes[position] == UInt8(ascii: "-") { throw invalid("holds a negative number") }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else {
                throw invalid("must hold non-negative integers, found \(found)")
            }
            let start = position
            var value = 0
            var overflow = false
            while !atEnd, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                value = a
                position += 1
            }
            if bytes[start] == UInt8(ascii: "0"), position - start > 1 {
                throw invalid("holds a number with a leading zero (not JSON)")
            }
            if !atEnd, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
                throw invalid("must hold integers, found a fraction or exponent")
            }
            if overflow {
                let digits = String(decoding: bytes[start..<position].prefix(40), as: UTF8.self)
                throw invalid("holds \(digits), which does not fit in 64 bits")
            }
            values.append(value)
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw invalid("expected ',' or ']', found \(found)") }
            return values
        }
    }

    /// A JSON string at the cursor (after whitespace), escapes decoded.
    mutating func parseString() throws -> String {
        skipWhitespace()
        guard !atEnd, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a string, found \(found)") }
        position += 1
        var out: [UInt8] = []
        while true {
            guard !atEnd else { throw fail("unterminated string") }
            let b = bytes[position]
            switch b {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                guard !atEnd else { throw fail("unterminated escape") }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    position -= 1
                    throw fail("invalid escape '\\\(found)'")
                }
            case 0..<0x20:
                throw fail("control character 0x\(String(b, radix: 16)) inside a string")
            default:
                out.append(b)
                position += 1
            }
        }
    }

    /// The scalar of `\uXXXX` (the `\u` consumed), joining a surrogate pair.
    mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let high = try parseHex4()
        if (0xDC00...0xDFFF).contains(high) { throw fail("lone low surrogate \\u\(String(high, radix: 16))") }
        guard (0xD800...0xDBFF).contains(high) else { return Unicode.Scalar(high)! }
        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
            throw fail("high surrogate \\u\(String(high, radix: 16)) without its low half")
        }
        position += 2
        let low = try parseHex4()
        guard (0xDC00...0xDFFF).contains(low) else {
            throw fail("high surrogate \\u\(String(high, radix: 16)) followed by \\u\(String(low, radix: 16))")
        }
        return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
    }

    mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard !atEnd else { throw fail("unterminated \\u escape") }
            let b = bytes[position]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw fail("expected a hex digit in \\u escape, found \(found)")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
