/// Applies an environment overlay to the base topology tree.
///
/// Mappings merge deeply, lists replace, and `null` removes a key. An
/// overlay may tune what the base declares but not invent services,
/// datastores, brokers or topics: those must exist in topology.yaml so every
/// environment deploys the same system.
public enum OverlayMerge {
    public static func apply(_ overlay: YAMLNode, to base: YAMLNode, diagnostics: DiagnosticBag) -> YAMLNode {
        merge(base, overlay, path: [], diagnostics: diagnostics)
    }

    /// Paths whose children are named things that only the base may introduce.
    private static func namedCollection(_ path: [String]) -> String? {
        switch path.count {
        case 1 where path[0] == "services": return "service"
        case 1 where path[0] == "datastores": return "datastore"
        case 1 where path[0] == "brokers": return "broker"
        case 3 where path[0] == "brokers" && path[2] == "topics": return "topic"
        default: return nil
        }
    }

    private static func merge(_ base: YAMLNode, _ overlay: YAMLNode, path: [String], diagnostics: DiagnosticBag) -> YAMLNode {
        guard let baseEntries = base.entries, let overlayEntries = overlay.entries else {
            return overlay
        }
        var merged = baseEntries
        for entry in overlayEntries {
            let index = merged.firstIndex { $0.key == entry.key }
            if entry.value.isNull {
                if let index { merged.remove(at: index) }
                continue
            }
            if let index {
                merged[index].value = merge(merged[index].value, entry.value, path: path + [entry.key], diagnostics: diagnostics)
                continue
            }
            if let kind = namedCollection(path) {
                let known = baseEntries.map(\.key)
                diagnostics.error(
                    "\(kind) '\(entry.key)' is not declared in the base topology\(Suggestion.hint(for: entry.key, in: known))",
                    at: entry.keyLocation
                )
                continue
            }
            merged.append(entry)
        }
        return YAMLNode(.mapping(merged), at: base.location)
    }
}
