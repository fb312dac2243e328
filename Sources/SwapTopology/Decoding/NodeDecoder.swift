import Foundation

/// Typed reads from a `YAMLNode`, each reporting a positioned diagnostic and
/// returning nil on a wrong type, so decoding goes on and finds every problem.
struct NodeDecoder {
    let diagnostics: DiagnosticBag

    /// The entries of a mapping whose keys are all in `allowed`; unknown keys
    /// are reported with a did-you-mean, missing `required` keys at the mapping.
    func mapping(_ node: YAMLNode, _ what: String, allowed: [String], required: [String] = []) -> MappingView? {
        guard let entries = node.entries else {
            diagnostics.error("\(what) must be a mapping, found \(node.kindName)", at: node.location)
            return nil
        }
        for entry in entries where !allowed.contains(entry.key) {
            diagnostics.error(
                "unknown key '\(entry.key)' in \(what)\(Suggestion.hint(for: entry.key, in: allowed))",
                at: entry.keyLocation
            )
        }
        for key in required where !entries.contains(where: { $0.key == key && !$0.value.isNull }) {
            diagnostics.error("\(what) is missing required key '\(key)'", at: node.location)
        }
        return MappingView(entries: entries.filter { allowed.contains($0.key) && !$0.value.isNull }, location: node.location)
    }

    /// A mapping from user-chosen names (services, topics...) to values.
    func namedEntries(_ node: YAMLNode, _ what: String) -> [YAMLEntry] {
        guard let entries = node.entries else {
            if !node.isNull { diagnostics.error("\(what) must be a mapping of names, found \(node.kindName)", at: node.location) }
            return []
        }
        return entries
    }

    func string(_ node: YAMLNode, _ what: String) -> String? {
        guard let text = node.scalar, !node.isNull else {
            diagnostics.error("\(what) must be a string, found \(node.kindName)", at: node.location)
            return nil
        }
        return text
    }

    func name(_ node: YAMLNode, _ what: String, pattern: NamePattern) -> String? {
        guard let text = string(node, what) else { return nil }
        guard pattern.matches(text) else {
            diagnostics.error("\(what) '\(text)' is not a valid name (\(pattern.rule))", at: node.location)
            return nil
        }
        return text
    }

    func int(_ node: YAMLNode, _ what: String, in range: ClosedRange<Int>) -> Int? {
        guard case let .scalar(text, plain: true) = node.content, !node.isNull else {
            diagnostics.error("\(what) must be an integer, found \(node.isNull ? "null" : node.kindName == "a scalar" ? "a string" : node.kindName)", at: node.location)
            return nil
        }
        let digits = text.replacingOccurrences(of: "_", with: "")
        guard let value = Int(digits) else {
            let isNumeric = !digits.isEmpty && digits.drop { $0 == "-" || $0 == "+" }.allSatisfy(\.isNumber)
            diagnostics.error(isNumeric ? "\(what) \(text) is out of range" : "\(what) must be an integer, found '\(text)'", at: node.location)
            return nil
        }
        guard range.contains(value) else {
            diagnostics.error("\(what) \(value) is out of range \(range.lowerBound)...\(range.upperBound)", at: node.location)
            return nil
        }
        return value
    }

    func double(_ node: YAMLNode, _ what: String, in range: ClosedRange<Double>) -> Double? {
        guard case let .scalar(text, plain: true) = node.content, let value = Double(text), value.isFinite else {
            diagnostics.error("\(what) must be a number, found \(node.scalar.map { "'\($0)'" } ?? node.kindName)", at: node.location)
            return nil
        }
        guard range.contains(value) else {
            diagnostics.error("\(what) \(text) is out of range \(range.lowerBound)...\(range.upperBound)", at: node.location)
            return nil
        }
        return value
    }

    func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        if case let .scalar(text, plain: true) = node.content {
            if ["true", "True", "TRUE"].contains(text) { return true }
            if ["false", "False", "FALSE"].contains(text) { return false }
        }
        diagnostics.error("\(what) must be true or false, found \(node.scalar.map { "'\($0)'" } ?? node.kindName)", at: node.location)
        return nil
    }

    func duration(_ node: YAMLNode, _ what: String) -> Duration? {
        guard let text = string(node, what) else { return nil }
        guard let duration = DurationText.parse(text) else {
            diagnostics.error("\(what) '\(text)' is not a duration (write e.g. 500ms, 10s, 5m, 2h, 7d)", at: node.location)
            return nil
        }
        return duration
    }

    func size(_ node: YAMLNode, _ what: String) -> ByteSize? {
        guard let text = string(node, what) else { return nil }
        guard let size = ByteSize(text), size.bytes > 0 else {
            diagnostics.error("\(what) '\(text)' is not a size (write e.g. 512k, 10m, 256M, 1G)", at: node.location)
            return nil
        }
        return size
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ what: String, of type: Choice.Type) -> Choice?
    where Choice.RawValue == String {
        guard let text = string(node, what) else { return nil }
        guard let value = Choice(rawValue: text) else {
            let options = Choice.allCases.map(\.rawValue)
            diagnostics.error(
                "\(what) '\(text)' must be one of \(options.joined(separator: ", "))\(Suggestion.hint(for: text, in: options))",
                at: node.location
            )
            return nil
        }
        return value
    }

    /// A list of names; duplicates are reported.
    func names(_ node: YAMLNode, _ what: String) -> [Located<String>] {
        guard let items = node.items else {
            diagnostics.error("\(what) must be a list, found \(node.kindName)", at: node.location)
            return []
        }
        var seen: [String: SourceLocation] = [:]
        return items.compactMap { item in
            guard let text = string(item, "an entry of \(what)") else { return nil }
            if let earlier = seen[text] {
                diagnostics.error("'\(text)' is listed twice in \(what)", at: item.location, related: earlier)
                return nil
            }
            seen[text] = item.location
            return Located(text, at: item.location)
        }
    }
}

/// The known entries of a mapping, read by key.
struct MappingView {
    let entries: [YAMLEntry]
    let location: SourceLocation

    subscript(key: String) -> YAMLNode? { entries.first { $0.key == key }?.value }
}

/// Naming rules for things that become DNS names, file names or variables.
enum NamePattern {
    /// Lowercase DNS label: services, datastores, brokers, the project.
    case dnsLabel
    /// Kafka topic name.
    case topic
    /// Secret names: lowercase with underscores (they become file names and `*_FILE` variables).
    case secret
    /// Environment variable names.
    case environmentVariable

    func matches(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 63 else { return false }
        switch self {
        case .dnsLabel:
            return first.isLowercaseASCIILetter && text.last != "-"
                && text.allSatisfy { $0.isLowercaseASCIILetter || $0.isASCIIDigit || $0 == "-" }
        case .topic:
            return text.allSatisfy { $0.isLowercaseASCIILetter || $0.isUppercaseASCIILetter || $0.isASCIIDigit || "._-".contains($0) }
        case .secret:
            return first.isLowercaseASCIILetter && text.allSatisfy { $0.isLowercaseASCIILetter || $0.isASCIIDigit || $0 == "_" }
        case .environmentVariable:
            return !first.isASCIIDigit && text.allSatisfy { $0.isUppercaseASCIILetter || $0.isASCIIDigit || $0 == "_" }
        }
    }

    var rule: String {
        switch self {
        case .dnsLabel: return "lowercase letters, digits and '-', starting with a letter"
        case .topic: return "letters, digits, '.', '_' and '-'"
        case .secret: return "lowercase letters, digits and '_', starting with a letter"
        case .environmentVariable: return "uppercase letters, digits and '_'"
        }
    }
}

private extension Character {
    var isLowercaseASCIILetter: Bool { ("a"..."z").contains(self) }
    var isUppercaseASCIILetter: Bool { ("A"..."Z").contains(self) }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
