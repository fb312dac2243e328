/// Comments for rendered workflow YAML. `YAMLValue` has no comments, so they
/// are added to the emitted text: the tag after each pinned `uses:` SHA, and
/// explanations above given lines.
enum WorkflowText {
    /// `uses: actions/checkout@<sha>` -> `uses: actions/checkout@<sha> # v7.0.1`.
    static func pinComments(_ text: String) -> String {
        mapLines(text) { line in
            guard let action = PinnedAction.allCases.first(where: { line.hasSuffix("uses: \($0.uses)") }) else { return [line] }
            return [line + "  # " + action.tag]
        }
    }

    /// Puts comment lines, indented like it, above the first line equal to `anchor`.
    static func comment(_ comment: [String], above anchor: String, in text: String) -> String {
        var done = false
        return mapLines(text) { line in
            guard !done, line == anchor else { return [line] }
            done = true
            let indent = String(line.prefix { $0 == " " })
            return comment.map { indent + "# " + $0 } + [line]
        }
    }

    private static func mapLines(_ text: String, _ transform: (String) -> [String]) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { transform(String($0)) }.joined(separator: "\n")
    }
}
