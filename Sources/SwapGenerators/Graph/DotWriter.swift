/// The graph in Graphviz DOT (`swapctl graph --format dot | dot -Tpng`).
enum DotWriter {
    static func write(_ graph: GraphModel) -> String {
        var lines: [String] = [
            "digraph \(quote(graph.title)) {",
            "  graph [rankdir=LR, fontname=\"Helvetica\", label=\(quote("Service graph of \(graph.title)")), labelloc=t, nodesep=0.4, ranksep=0.9];",
            "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, color=\"#374151\"];",
            "  edge [fontname=\"Helvetica\", fontsize=9];",
        ]
        for node in graph.nodes {
            let label = quote(node.lines.joined(separator: "\n"))
            lines.append("  \(quote(node.id)) [label=\(label), shape=\(shape(node.kind)), fillcolor=\(quote(node.kind.fill))];")
        }
        for edge in graph.edges {
            var attributes = ["color=\(quote(edge.kind.color))"]
            if !edge.label.isEmpty { attributes.append("label=\(quote(edge.label))") }
            if edge.kind.dashes != nil { attributes.append("style=dashed") }
            if edge.kind == .hosts { attributes.append("arrowhead=none") }
            if edge.kind == .produces || edge.kind == .consumes { attributes.append("penwidth=1.5") }
            lines.append("  \(quote(edge.from)) -> \(quote(edge.to)) [\(attributes.joined(separator: ", "))];")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func shape(_ kind: GraphModel.Kind) -> String {
        switch kind {
        case .ingress: "invhouse"
        case .service: "box"
        case .topic: "box"
        case .datastore: "cylinder"
        case .broker: "box3d"
        }
    }

    /// A DOT string: quotes and backslashes escaped, newlines as `\n` (centred lines).
    static func quote(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out + "\""
    }
}
