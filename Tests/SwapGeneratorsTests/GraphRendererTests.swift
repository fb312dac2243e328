import Foundation
import SwapGenerators
import SwapTopology
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("GraphRenderer")
struct GraphRendererTests {
    /// Parses XML and collects element names and the parser's error, if any.
    private final class XMLCheck: NSObject, XMLParserDelegate {
        var elements: [String] = []
        var attributes: [[String: String]] = []
        var error: (any Error)?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append(name)
            self.attributes.append(attributes)
        }

        func parser(_ parser: XMLParser, parseErrorOccurred error: any Error) { self.error = error }

        static func parse(_ text: String) -> XMLCheck {
            let check = XMLCheck()
            let parser = XMLParser(data: Data(text.utf8))
            parser.delegate = check
            if !parser.parse(), check.error == nil { check.error = parser.parserError }
            return check
        }
    }

    private func files(_ environments: [Topology]) throws -> (mermaid: String, svg: String) {
        let output = GraphRenderer().render(environments)
        #expect(Set(output.files.map(\.path)) == ["topology.mmd", "topology.svg"])
        return (try ProjectRendererFixtures.file(output, "topology.mmd"), try ProjectRendererFixtures.file(output, "topology.svg"))
    }

    @Test func matchesGoldenFiles() throws {
        try Golden.check(GraphRenderer().render(Fixture.allEnvironments()).files, name: "graph")
    }

    @Test func svgIsWellFormedXML() throws {
        let (_, svg) = try files(Fixture.allEnvironments())
        let check = XMLCheck.parse(svg)
        #expect(check.error == nil, "topology.svg does not parse: \(String(describing: check.error))")
        #expect(check.elements.first == "svg")
        #expect(check.elements.filter { $0 == "rect" }.count >= 13)
        #expect(svg.contains("<desc>\(GeneratedHeader.text)</desc>"))
        // The file's first comment must itself be legal XML: no "--" inside.
        let comment = try #require(svg.split(separator: "\n").dropFirst().first)
        #expect(comment.hasPrefix("<!-- ") && !comment.dropFirst(4).dropLast(3).contains("--"))
    }

    @Test func svgBoxesDoNotOverlap() throws {
        let check = XMLCheck.parse(ServiceGraph.svg(try Fixture.topology("prod")))
        let boxes = check.attributes.filter { $0["rx"] == "6" }.map { attributes in
            (x: Int(attributes["x"] ?? "") ?? 0, y: Int(attributes["y"] ?? "") ?? 0,
             width: Int(attributes["width"] ?? "") ?? 0, height: Int(attributes["height"] ?? "") ?? 0)
        }
        #expect(boxes.count == 13)
        for (index, a) in boxes.enumerated() {
            for b in boxes[(index + 1)...] {
                let apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y
                #expect(apart, "boxes overlap: \(a) \(b)")
            }
        }
    }

    @Test func mermaidHasEveryNodeWithPortsAndReplicasOfProd() throws {
        let prod = try Fixture.topology("prod")
        let (mermaid, _) = try files(Fixture.allEnvironments())
        #expect(mermaid.hasPrefix("%% " + GeneratedHeader.text + "\n"))
        #expect(mermaid.contains("\nflowchart LR\n"))
        for service in prod.services {
            let replicas = service.replicas.value == 1 ? "1 replica" : "\(service.replicas.value) replicas"
            #expect(mermaid.contains("svc_\(service.name)[\"\(service.name)<br/>port \(service.port.value), \(replicas)\"]"))
        }
        #expect(mermaid.contains("svc_gateway[\"gateway<br/>port 3000, 3 replicas\"]"))
        #expect(mermaid.contains("ds_main[(\"main<br/>postgres 15, managed\")]"))
        #expect(mermaid.contains("broker_events[[\"events<br/>kafka, 3 nodes\"]]"))
        #expect(mermaid.contains("topic_points_awarded([\"points.awarded<br/>3 partitions, rf 3"))
        #expect(mermaid.contains("ingress[/\"ingress (nginx)<br/>api.swap.example.com"))
    }

    @Test func mermaidHasEveryKindOfEdge() throws {
        let mermaid = ServiceGraph.mermaid(try Fixture.topology("prod"))
        #expect(mermaid.contains("  ingress -->|\"/api/, /auth/, /health\"| svc_gateway\n"))
        #expect(mermaid.contains("  ingress -->|\"/ws (ws)\"| svc_realtime\n"))
        #expect(mermaid.contains("  svc_gateway -->|\"depends on\"| svc_financial\n"))
        #expect(mermaid.contains("  svc_financial -.->|\"uses\"| broker_events\n"))
        #expect(mermaid.contains("  svc_map -.->|\"uses\"| ds_cache\n"))
        #expect(mermaid.contains("  svc_financial ==>|\"produces\"| topic_financial_transactions\n"))
        #expect(mermaid.contains("  topic_financial_transactions ==>|\"consumes\"| svc_points\n"))
        #expect(mermaid.contains("  topic_points_awarded -.- broker_events\n"))
    }

    @Test func dotIsWellFormed() throws {
        let dot = ServiceGraph.dot(try Fixture.topology("prod"))
        #expect(dot.hasPrefix("digraph \"swap (prod)\" {\n") && dot.hasSuffix("}\n"))
        #expect(dot.filter { $0 == "\"" }.count % 2 == 0, "unbalanced quotes")
        #expect(dot.filter { $0 == "[" }.count == dot.filter { $0 == "]" }.count)
        #expect(dot.contains("  \"ingress\" -> \"svc_gateway\" [color=\"#2563eb\", label=\"/api/, /auth/, /health\"];\n"))
        #expect(dot.contains("  \"topic_points_awarded\" -> \"svc_realtime\""))
        #expect(dot.contains("\"ds_main\" [label=\"main\\npostgres 15, managed\", shape=cylinder"))
    }

    /// Graphviz is not part of script/bootstrap, so this runs only where it is installed.
    @Test(.enabled(if: ExternalTool.path("dot") != nil, "graphviz is not installed"))
    func dotRendersWithGraphviz() throws {
        let folder = try ExternalTool.scratch([("graph.dot", ServiceGraph.dot(try Fixture.topology("prod")))])
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ExternalTool.run("dot", ["-Tsvg", "-o", "graph.svg", "graph.dot"], in: folder)
        #expect(result.status == 0 && result.output.isEmpty, "dot:\n\(result.output)")
    }

    @Test func aSeventhServiceAppearsInEveryNotation() throws {
        let environments = try ProjectRendererFixtures.withSeventhService()
        let (mermaid, svg) = try files(environments)
        #expect(mermaid.contains("svc_rewards[\"rewards<br/>port 3005, 1 replica\"]"))
        #expect(mermaid.contains("  svc_rewards -->|\"depends on\"| svc_points\n"))
        #expect(mermaid.contains("  topic_points_awarded ==>|\"consumes\"| svc_rewards\n"))
        #expect(svg.contains("<g id=\"svc_rewards\">"))
        #expect(XMLCheck.parse(svg).error == nil)
        let prod = try #require(environments.first { $0.environment == "prod" })
        #expect(ServiceGraph.dot(prod).contains("\"svc_rewards\" -> \"svc_points\""))
    }

    @Test func aDisabledServiceIsNotDrawn() throws {
        let (mermaid, svg) = try files(ProjectRendererFixtures.withDisabled("map", product: "map-service"))
        #expect(!mermaid.contains("svc_map"))
        #expect(!svg.contains("svc_map"))
    }

    @Test func graphsProdAndIsDeterministic() throws {
        let environments = try Fixture.allEnvironments()
        let first = GraphRenderer().render(environments).files
        #expect(first == GraphRenderer().render(environments.reversed()).files)
        #expect(first.allSatisfy { $0.contents.contains("swap (prod)") })
    }
}
