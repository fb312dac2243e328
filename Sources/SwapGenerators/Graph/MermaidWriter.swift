/// The graph as a Mermaid flowchart (GitHub renders `.mmd` and ```mermaid blocks).
enum MermaidWriter {
    static func write(_ graph: GraphModel, notice: String?) -> String {
        var lines: [String] = []
        if let notice { lines.append("%% " + notice) }
        lines.append("%% Service graph of \(graph.title)")
        lines.append("flowchart LR")
        for node in graph.nodes {
            let label = "\"" + node.lines.map(escape).joined(separator: "<br/>") + "\""
            lines.append("  \(node.id)\(shape(node.kind, label)):::\(className(node.kind))")
        }
        for edge in graph.edges {
            lines.append("  \(edge.from) \(arrow(edge))\(edge.to)")
        }
        for kind in GraphModel.Kind.allCases {
            lines.append("  classDef \(className(kind)) fill:\(kind.fill),stroke:#374151,color:#111827")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func shape(_ kind: GraphModel.Kind, _ label: String) -> String {
        switch kind {
        case .ingress: "[/\(label)\\]"
        case .service: "[\(label)]"
        case .topic: "([\(label)])"
        case .datastore: "[(\(label))]"
        case .broker: "[[\(label)]]"
        }
    }

    private static func arrow(_ edge: GraphModel.Edge) -> String {
        let label = edge.label.isEmpty ? "" : "|\"\(escape(edge.label))\"| "
        switch edge.kind {
        case .hosts: return "-.- "
        case .uses: return "-.->\(label)"
        case .produces, .consumes: return "==>\(label)"
        case .route, .dependsOn: return "-->\(label)"
        }
    }

    private static func className(_ kind: GraphModel.Kind) -> String { "\(kind)" }

    /// Mermaid entity codes for what would end a quoted label or start HTML.
    static func escape(_ text: String) -> String {
        text.map { character -> String in
            switch character {
            case "\"": "#quot;"
            case "<": "#lt;"
            case ">": "#gt;"
            case "#": "#35;"
            default: String(character)
            }
        }.joined()
    }
}
