import Foundation
import SwapGenerators
import SwapTopology
import Testing

/// Variants of the frozen fixture for the project-wide renderers (Dockerfile,
/// workflows, graph): the same topology.yaml edited as a user would edit it.
enum ProjectRendererFixtures {
    /// A seventh service, added to topology.yaml and nowhere else.
    static let seventhService = """
          rewards:
            product: rewards-service
            port: 3005
            replicas: 1
            health: {path: /ready}
            depends_on: [points]
            uses: [main, events]
            consumes: [points.awarded]
            secrets: [jwt_secret, db_password]

        """

    /// Every environment of the fixture with the seventh service added.
    static func withSeventhService() throws -> [Topology] {
        try environments { $0.replacingOccurrences(of: "\ndatastores:", with: "\n" + seventhService + "datastores:") }
    }

    /// Every environment of the fixture with `service` switched off in the base.
    static func withDisabled(_ service: String, product: String) throws -> [Topology] {
        try environments { text in
            text.replacingOccurrences(of: "    product: \(product)\n", with: "    product: \(product)\n    enabled: false\n")
                .replacingOccurrences(of: "depends_on: [\(service)]", with: "depends_on: []")
                .replacingOccurrences(of: "[\(service), ", with: "[")
                .replacingOccurrences(of: ", \(service),", with: ",")
                .replacingOccurrences(of: ", \(service)]", with: "]")
        }
    }

    /// Loads every environment of an edited copy of the fixture.
    static func environments(editing edit: (String) -> String) throws -> [Topology] {
        let source = try String(contentsOf: Fixture.folder.appendingPathComponent("topology.yaml"), encoding: .utf8)
        let edited = edit(source)
        #expect(edited != source, "the edit must change topology.yaml")
        var files = [(path: "topology.yaml", contents: edited)]
        let environments = Fixture.folder.appendingPathComponent("environments")
        for name in try FileManager.default.contentsOfDirectory(atPath: environments.path).sorted() {
            files.append((path: "environments/\(name)", contents: try String(contentsOf: environments.appendingPathComponent(name), encoding: .utf8)))
        }
        let folder = try ExternalTool.scratch(files)
        defer { try? FileManager.default.removeItem(at: folder) }
        let loader = TopologyLoader(topologyPath: folder.appendingPathComponent("topology.yaml").path)
        return try loader.environments().map { environment in
            let result = loader.load(environment: environment)
            #expect(!result.hasErrors, "edited fixture must validate: \(result.diagnostics)")
            return try #require(result.topology)
        }
    }

    /// The enabled products of the fixture's prod environment, in file order.
    static func enabledProducts(_ environments: [Topology]) -> [String] {
        var products: [String] = []
        for topology in environments {
            for service in topology.services where !products.contains(service.product) { products.append(service.product) }
        }
        return products
    }

    static func file(_ output: RenderOutput, _ path: String) throws -> String {
        try #require(output.files.first { $0.path == path }, "no \(path) rendered").contents
    }
}
