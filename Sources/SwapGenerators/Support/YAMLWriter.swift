/// A small ordered YAML tree and its deterministic emitter, for renderers
/// whose output is YAML (compose, stacks, Prometheus, Grafana, workflows).
public indirect enum YAMLValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case list([YAMLValue])
    case map([(String, YAMLValue)])
    /// A literal block (`|`), for multi-line scripts and rules.
    case block(String)

    public static func == (lhs: YAMLValue, rhs: YAMLValue) -> Bool { lhs.render() == rhs.render() }

    /// A mapping that drops nil values, keeping the order written.
    public static func map(_ pairs: [(String, YAMLValue?)]) -> YAMLValue {
        .map(pairs.compactMap { key, value in value.map { (key, $0) } })
    }

    public static func strings(_ items: [String]) -> YAMLValue { .list(items.map(YAMLValue.string)) }

    /// The document text, ending with a newline.
    public func render() -> String {
        var out = ""
        YAMLEmitter.emit(self, indent: 0, into: &out, inline: false)
        return out
    }
}

enum YAMLEmitter {
    static func emit(_ value: YAMLValue, indent: Int, into out: inout String, inline: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case let .map(pairs):
            if pairs.isEmpty { out += "{}\n"; return }
            if inline { out += "\n" }
            for (key, child) in pairs {
                out += pad + quoteKey(key) + ":"
                emitChild(child, indent: indent, into: &out)
            }
        case let .list(items):
            if items.isEmpty { out += "[]\n"; return }
            if inline { out += "\n" }
            for item in items {
                out += pad + "-"
                switch item {
                case let .map(pairs) where !pairs.isEmpty:
                    // First pair on the dash line, the rest aligned under it.
                    var first = true
                    for (key, child) in pairs {
                        out += (first ? " " : pad + "  ") + quoteKey(key) + ":"
                        emitChild(child, indent: indent + 2, into: &out)
                        first = false
                    }
                default:
                    emitChild(item, indent: indent, into: &out)
                }
            }
        default:
            out += scalar(value, indent: indent) + "\n"
        }
    }

    private static func emitChild(_ child: YAMLValue, indent: Int, into out: inout String) {
        switch child {
        case .map(let pairs) where !pairs.isEmpty:
            emit(child, indent: indent + 2, into: &out, inline: true)
        case .list(let items) where !items.isEmpty:
            emit(child, indent: indent + 2, into: &out, inline: true)
        default:
            out += " "
            emit(child, indent: indent, into: &out, inline: true)
        }
    }

    static func scalar(_ value: YAMLValue, indent: Int) -> String {
        switch value {
        case let .string(text): return quote(text)
        case let .int(number): return String(number)
        case let .double(number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case let .bool(flag): return flag ? "true" : "false"
        case .null: return "null"
        case .map: return "{}"
        case .list: return "[]"
        case let .block(text):
            let pad = String(repeating: " ", count: indent + 2)
            let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
            let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : pad + $0 }
            return "|" + (text.hasSuffix("\n") ? "" : "-") + "\n" + lines.joined(separator: "\n")
        }
    }

    static func quoteKey(_ key: String) -> String {
        needsQuotes(key) ? quote(key, force: true) : key
    }

    /// Plain when YAML would read it back as the same string, double-quoted otherwise.
    static func quote(_ text: String, force: Bool = false) -> String {
        if !force && !needsQuotes(text) { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 { escaped += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2) } else { escaped.unicodeScalars.append(scalar) }
            }
        }
        return "\"" + escaped + "\""
    }

    private static let reserved: Set<String> = [
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
        "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
    ]

    static func needsQuotes(_ text: String) -> Bool {
        if reserved.contains(text) { return true }
        if Double(text) != nil || Int(text) != nil { return true }
        if text.hasPrefix("0") && text.count > 1 && text.allSatisfy({ $0.isNumber || $0 == ":" || $0 == "." }) { return true }
        guard let first = text.first, let last = text.last else { return true }
        if " \t".contains(last) || " \t".contains(first) { return true }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) { return true }
        if text.contains(": ") || text.contains(" #") || text.hasSuffix(":") { return true }
        if text.contains(where: { $0 == "\n" || $0 == "\t" || $0 == "\"" || $0 == "\\" }) { return true }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 }) { return true }
        // Sexagesimal-looking and date-looking values read as numbers or dates in YAML 1.1.
        if text.allSatisfy({ $0.isNumber || $0 == ":" || $0 == "-" || $0 == "." || $0 == "_" }) { return true }
        return false
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
