import Foundation
import Yams

/// Parses YAML text into a `YAMLNode` tree, turning every problem into a
/// diagnostic instead of a crash: non-YAML text, empty files, duplicate keys,
/// non-scalar keys, alias bombs and pathological nesting.
public enum YAMLLoader {
    /// Limits that keep hostile input from exhausting the stack or memory.
    static let maxBytes = 4 << 20
    static let maxDepth = 64
    static let maxNodes = 200_000

    /// Returns the document's root, or nil after reporting why there is none.
    public static func load(_ text: String, file: String, into diagnostics: DiagnosticBag) -> YAMLNode? {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard text.utf8.count <= maxBytes else {
            diagnostics.error("file is larger than \(maxBytes >> 20) MiB", at: start)
            return nil
        }
        // libyaml is iterative, but Yams composes recursively: refuse deep flow
        // nesting before it can overflow the stack.
        if let deep = NestingScanner.firstTooDeep(text, limit: maxDepth) {
            diagnostics.error("nesting deeper than \(maxDepth) levels", at: SourceLocation(file: file, line: deep.line, column: deep.column))
            return nil
        }
        let root: Node?
        do {
            let parser = try Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
            root = try parser.singleRoot()
        } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
            reportDuplicates(duplicates, first: context.mark, text: text, file: file, into: diagnostics)
            return nil
        } catch let error as YamlError {
            report(error, file: file, into: diagnostics)
            return nil
        } catch {
            diagnostics.error("cannot read YAML: \(error)", at: start)
            return nil
        }
        guard let root else {
            diagnostics.error("file is empty; expected a mapping", at: start)
            return nil
        }
        var converter = Converter(file: file, diagnostics: diagnostics)
        return converter.convert(root, depth: 0)
    }

    /// Yams rejects duplicate keys itself and names only the first; find the
    /// repeat below it (same column, same key) so both places are reported.
    private static func reportDuplicates(_ keys: [String], first: Mark, text: String, file: String, into diagnostics: DiagnosticBag) {
        let firstLocation = SourceLocation(file: file, line: first.line, column: first.column)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for key in keys {
            var repeatLocation: SourceLocation?
            for index in first.line..<lines.count {
                let line = Array(lines[index].unicodeScalars)
                let start = first.column - 1
                guard start < line.count, line[..<start].allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
                let rest = String(String.UnicodeScalarView(line[start...]))
                if rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") {
                    repeatLocation = SourceLocation(file: file, line: index + 1, column: first.column)
                    break
                }
            }
            if let repeatLocation {
                diagnostics.error("duplicate key '\(key)'", at: repeatLocation, related: firstLocation)
            } else {
                diagnostics.error("duplicate key '\(key)'", at: firstLocation)
            }
        }
    }

    private static func report(_ error: YamlError, file: String, into diagnostics: DiagnosticBag) {
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " \(context.text)" }
            diagnostics.error(message, at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case let .reader(problem, _, _, _):
            diagnostics.error("invalid YAML: \(problem)", at: SourceLocation(file: file, line: 1, column: 1))
        default:
            diagnostics.error("invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }
}

/// Converts Yams nodes, checking keys and counting nodes (aliases are
/// expanded by Yams, so a "billion laughs" document is caught by the count).
private struct Converter {
    let file: String
    let diagnostics: DiagnosticBag
    var nodes = 0
    var exhausted = false

    init(file: String, diagnostics: DiagnosticBag) {
        self.file = file
        self.diagnostics = diagnostics
    }

    func location(_ mark: Mark?) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func convert(_ node: Node, depth: Int) -> YAMLNode? {
        nodes += 1
        guard nodes <= YAMLLoader.maxNodes, depth <= YAMLLoader.maxDepth else {
            if !exhausted {
                exhausted = true
                let reason = depth > YAMLLoader.maxDepth
                    ? "nesting deeper than \(YAMLLoader.maxDepth) levels"
                    : "document expands to more than \(YAMLLoader.maxNodes) nodes (aliases?)"
                diagnostics.error(reason, at: location(node.mark))
            }
            return nil
        }
        switch node {
        case let .scalar(scalar):
            return YAMLNode(.scalar(scalar.string, plain: scalar.style == .plain), at: location(node.mark))
        case let .sequence(sequence):
            var items: [YAMLNode] = []
            for item in sequence {
                guard let converted = convert(item, depth: depth + 1) else { return nil }
                items.append(converted)
            }
            return YAMLNode(.sequence(items), at: location(node.mark))
        case let .mapping(mapping):
            return convertMapping(mapping, at: location(node.mark), depth: depth)
        case let .alias(alias):
            // Yams reports aliases it could not resolve this way.
            diagnostics.error("unresolved alias '\(alias.anchor)'", at: location(node.mark))
            return nil
        }
    }

    mutating func convertMapping(_ mapping: Node.Mapping, at where_: SourceLocation, depth: Int) -> YAMLNode? {
        var entries: [YAMLEntry] = []
        var merged: [YAMLEntry] = []
        var firstSeen: [String: SourceLocation] = [:]
        for (keyNode, valueNode) in mapping {
            guard case let .scalar(keyScalar) = keyNode else {
                diagnostics.error("mapping keys must be plain names, not \(keyNode.isMapping ? "a mapping" : "a list")", at: location(keyNode.mark))
                continue
            }
            let key = keyScalar.string
            let keyLocation = location(keyNode.mark)
            guard let value = convert(valueNode, depth: depth + 1) else { return nil }
            if key == "<<", keyScalar.style == .plain {
                // YAML merge key: `<<: *defaults` or `<<: [*a, *b]`; explicit keys win.
                let sources = value.items ?? [value]
                for source in sources {
                    guard let sourceEntries = source.entries else {
                        diagnostics.error("a merge key '<<' takes a mapping or a list of mappings", at: source.location)
                        continue
                    }
                    merged.append(contentsOf: sourceEntries)
                }
                continue
            }
            if let earlier = firstSeen[key] {
                diagnostics.error("duplicate key '\(key)'", at: keyLocation, related: earlier)
                continue
            }
            firstSeen[key] = keyLocation
            entries.append(YAMLEntry(key: key, keyLocation: keyLocation, value: value))
        }
        for entry in merged where firstSeen[entry.key] == nil {
            firstSeen[entry.key] = entry.keyLocation
            entries.append(entry)
        }
        return YAMLNode(.mapping(entries), at: where_)
    }
}

private extension Node {
    var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }
}
