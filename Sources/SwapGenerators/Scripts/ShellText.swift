import SwapTopology

/// Helpers for the generated Bash scripts (scripts/, kafka/).
enum ShellText {
    /// A word Bash reads back as exactly `text`: bare when it is plainly safe,
    /// single-quoted otherwise.
    static func quote(_ text: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:,=@+%")
        if !text.isEmpty && text.allSatisfy({ safe.contains($0) }) { return text }
        return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// `text` escaped for use inside double quotes, e.g. as the default of
    /// `"${NAME:-default}"` (where single quotes would stay literal).
    static func inDoubleQuotes(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\"\\$`".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// `text` padded with spaces to `width` columns (for aligned usage texts).
    static func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }

    /// `#!/usr/bin/env bash`, the generated-file header, a description, strict mode.
    static func prologue(_ topology: Topology, purpose: [String]) -> String {
        var text = "#!/usr/bin/env bash\n" + GeneratedHeader.hash(topology.environment) + "#\n"
        text += purpose.map { $0.isEmpty ? "#\n" : "# \($0)\n" }.joined()
        return text + "set -euo pipefail\n"
    }

    /// The `-h` handling shared by the scripts: prints `usage` (a function
    /// every script defines) and exits 0; unknown options exit 2.
    static let helpOnly = """
    case "${1:-}" in
        -h | --help) usage; exit 0 ;;
        "") ;;
        *) usage >&2; exit 2 ;;
    esac

    """

    /// A Bash array literal of quoted words.
    static func array(_ words: [String]) -> String {
        "(" + words.map(quote).joined(separator: " ") + ")"
    }
}
