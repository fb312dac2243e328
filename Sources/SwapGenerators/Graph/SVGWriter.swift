/// The graph as a standalone SVG, laid out here without Graphviz: fixed
/// columns (ingress, services by dependency depth, topics, datastores and
/// brokers), boxes stacked in each column, cubic curves between box sides.
/// Integer coordinates only, so the output is byte-stable.
enum SVGWriter {
    static let charWidth = 7
    static let lineHeight = 16
    static let padding = 10
    static let columnGap = 90
    static let rowGap = 22
    static let margin = 24
    static let titleHeight = 30
    static let legendHeight = 40

    struct Box {
        var x: Int, y: Int, width: Int, height: Int
        var midY: Int { y + height / 2 }
        var right: Int { x + width }
    }

    static func write(_ graph: GraphModel, notice: String?) -> String {
        let boxes = layout(graph)
        let contentBottom = boxes.values.map { $0.y + $0.height }.max() ?? (margin + titleHeight)
        let legendWidth = GraphModel.EdgeKind.allCases.reduce(0) { $0 + legendEntryWidth($1) }
        let width = max(boxes.values.map(\.right).max() ?? 0, margin + legendWidth) + margin
        let height = contentBottom + margin + legendHeight

        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        if let notice {
            // "--" may not appear inside an XML comment.
            out += "<!-- \(notice.replacing("--", with: "")) -->\n"
        }
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\""
        out += " font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\" aria-labelledby=\"graph-title\">\n"
        out += "  <title id=\"graph-title\">\(escape("Service graph of \(graph.title)"))</title>\n"
        if let notice { out += "  <desc>\(escape(notice))</desc>\n" }
        out += "  <defs>\n"
        for kind in GraphModel.EdgeKind.allCases where kind != .hosts {
            out += "    <marker id=\"arrow-\(kind)\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
            out += "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"\(kind.color)\"/></marker>\n"
        }
        out += "  </defs>\n"
        out += "  <rect width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        out += "  <text x=\"\(margin)\" y=\"\(margin + 8)\" font-size=\"15\" font-weight=\"bold\" fill=\"#111827\">\(escape("Service graph of \(graph.title)"))</text>\n"

        out += "  <g id=\"edges\" fill=\"none\" stroke-width=\"1.5\">\n"
        let ports = Ports(graph: graph, boxes: boxes)
        let nodeIndex = graph.nodeIndex
        for (index, edge) in graph.edges.enumerated() {
            guard let path = edgePath(index, graph: graph, boxes: boxes, ports: ports) else { continue }
            var attributes = "d=\"\(path)\" stroke=\"\(edge.kind.color)\""
            if let dashes = edge.kind.dashes { attributes += " stroke-dasharray=\"\(dashes)\"" }
            if edge.kind != .hosts { attributes += " marker-end=\"url(#arrow-\(edge.kind))\"" }
            let from = nodeIndex[edge.from].flatMap { graph.nodes[$0].lines.first } ?? edge.from
            let to = nodeIndex[edge.to].flatMap { graph.nodes[$0].lines.first } ?? edge.to
            let caption = edge.kind == .route ? "routes \(edge.label)" : edge.kind.caption
            out += "    <path \(attributes)><title>\(escape("\(from) \(caption) \(to)"))</title></path>\n"
        }
        out += "  </g>\n"

        out += "  <g id=\"nodes\">\n"
        for node in graph.nodes {
            guard let box = boxes[node.id] else { continue }
            out += "    <g id=\"\(escape(node.id))\">\n"
            out += "      <rect x=\"\(box.x)\" y=\"\(box.y)\" width=\"\(box.width)\" height=\"\(box.height)\" rx=\"6\" fill=\"\(node.kind.fill)\" stroke=\"#374151\"/>\n"
            let centre = box.x + box.width / 2
            for (line, text) in node.lines.enumerated() {
                let y = box.y + padding + lineHeight * line + 12
                let weight = line == 0 ? " font-weight=\"bold\"" : ""
                out += "      <text x=\"\(centre)\" y=\"\(y)\" text-anchor=\"middle\"\(weight) fill=\"#111827\">\(escape(text))</text>\n"
            }
            out += "    </g>\n"
        }
        out += "  </g>\n"
        out += legend(top: contentBottom + margin)
        out += "</svg>\n"
        return out
    }

    // MARK: Layout

    /// Boxes by node id: columns left to right, each column's boxes stacked and
    /// ordered by the mean position of their neighbours in earlier columns.
    static func layout(_ graph: GraphModel) -> [String: Box] {
        let columnCount = (graph.columns.values.max() ?? 0) + 1
        var columns = [[GraphModel.Node]](repeating: [], count: columnCount)
        for node in graph.nodes { columns[graph.columns[node.id] ?? 0].append(node) }

        var rank: [String: Double] = [:]
        for index in columns.indices {
            let keyed = columns[index].enumerated().map { position, node -> (GraphModel.Node, Double, Int) in
                let neighbours = graph.edges.compactMap { edge -> String? in
                    edge.from == node.id ? edge.to : edge.to == node.id ? edge.from : nil
                }.compactMap { rank[$0] }
                let key = neighbours.isEmpty ? Double(position) : neighbours.reduce(0, +) / Double(neighbours.count)
                return (node, key, position)
            }
            columns[index] = keyed.sorted { ($0.1, $0.2) < ($1.1, $1.2) }.map(\.0)
            for (position, node) in columns[index].enumerated() { rank[node.id] = Double(position) }
        }

        let heights = columns.map { column in
            column.map(boxHeight).reduce(0, +) + rowGap * max(0, column.count - 1)
        }
        let tallest = heights.max() ?? 0
        var boxes: [String: Box] = [:]
        var x = margin
        for (index, column) in columns.enumerated() {
            let width = column.map(boxWidth).max() ?? 0
            var y = margin + titleHeight + (tallest - heights[index]) / 2
            for node in column {
                let height = boxHeight(node)
                boxes[node.id] = Box(x: x + (width - boxWidth(node)) / 2, y: y, width: boxWidth(node), height: height)
                y += height + rowGap
            }
            if width > 0 { x += width + columnGap }
        }
        return boxes
    }

    static func boxWidth(_ node: GraphModel.Node) -> Int {
        max(110, (node.lines.map(\.count).max() ?? 0) * charWidth + 2 * padding)
    }

    static func boxHeight(_ node: GraphModel.Node) -> Int { node.lines.count * lineHeight + 2 * padding - 4 }

    // MARK: Edges

    enum Side { case left, right }

    /// Where an edge leaves or enters a box: the facing sides of the two
    /// columns (right to right within a column), spread along the side in the
    /// order of the other ends so that curves do not share a point.
    static func edgePath(_ index: Int, graph: GraphModel, boxes: [String: Box], ports: Ports) -> String? {
        let edge = graph.edges[index]
        guard let source = boxes[edge.from], let target = boxes[edge.to] else { return nil }
        let (sourceSide, targetSide) = sides(source, target)
        let start = (x: sourceSide == .left ? source.x : source.right, y: ports.y(edge.from, sourceSide, index, boxes))
        let end = (x: targetSide == .left ? target.x : target.right, y: ports.y(edge.to, targetSide, index, boxes))
        let reach = max(40, abs(end.x - start.x) / 2)
        let c1 = start.x + (sourceSide == .right ? reach : -reach)
        let c2 = end.x + (targetSide == .right ? reach : -reach)
        return "M\(start.x),\(start.y) C\(c1),\(start.y) \(c2),\(end.y) \(end.x),\(end.y)"
    }

    static func sides(_ source: Box, _ target: Box) -> (Side, Side) {
        if target.x > source.right { return (.right, .left) }
        if source.x > target.right { return (.left, .right) }
        return (.right, .right)
    }

    /// Every edge that touches one side of one box, ordered by the other
    /// end's height: computed once for all edges, so drawing stays linear.
    struct Ports {
        private struct Key: Hashable {
            var id: String
            var left: Bool
        }

        private var slots: [Key: [Int: Int]] = [:]
        private var counts: [Key: Int] = [:]

        init(graph: GraphModel, boxes: [String: Box]) {
            var attached: [Key: [(otherY: Int, edge: Int)]] = [:]
            for (index, edge) in graph.edges.enumerated() {
                guard let a = boxes[edge.from], let b = boxes[edge.to] else { continue }
                let (fromSide, toSide) = SVGWriter.sides(a, b)
                attached[Key(id: edge.from, left: fromSide == .left), default: []].append((b.midY, index))
                attached[Key(id: edge.to, left: toSide == .left), default: []].append((a.midY, index))
            }
            for (key, list) in attached {
                let sorted = list.sorted { ($0.otherY, $0.edge) < ($1.otherY, $1.edge) }
                var slot: [Int: Int] = [:]
                for (position, entry) in sorted.enumerated() where slot[entry.edge] == nil { slot[entry.edge] = position }
                slots[key] = slot
                counts[key] = sorted.count
            }
        }

        func y(_ id: String, _ side: Side, _ edge: Int, _ boxes: [String: Box]) -> Int {
            guard let box = boxes[id] else { return 0 }
            let key = Key(id: id, left: side == .left)
            let slot = slots[key]?[edge] ?? 0
            return box.y + box.height * (slot + 1) / ((counts[key] ?? 0) + 1)
        }
    }

    // MARK: Legend and text

    static func legendEntryWidth(_ kind: GraphModel.EdgeKind) -> Int { 36 + kind.caption.count * charWidth + 20 }

    static func legend(top: Int) -> String {
        var out = "  <g id=\"legend\" fill=\"#111827\">\n"
        var x = margin
        let y = top + 12
        for kind in GraphModel.EdgeKind.allCases {
            var attributes = "x1=\"\(x)\" y1=\"\(y)\" x2=\"\(x + 28)\" y2=\"\(y)\" stroke=\"\(kind.color)\" stroke-width=\"1.5\""
            if let dashes = kind.dashes { attributes += " stroke-dasharray=\"\(dashes)\"" }
            if kind != .hosts { attributes += " marker-end=\"url(#arrow-\(kind))\"" }
            out += "    <line \(attributes)/>\n"
            out += "    <text x=\"\(x + 36)\" y=\"\(y + 4)\">\(escape(kind.caption))</text>\n"
            x += legendEntryWidth(kind)
        }
        return out + "  </g>\n"
    }

    /// XML text and attribute escaping.
    static func escape(_ text: String) -> String {
        text.map { character -> String in
            switch character {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            case "'": "&apos;"
            default: String(character)
            }
        }.joined()
    }
}
