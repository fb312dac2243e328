import Foundation
import SwapTopology
import Testing

/// A topology written to a temporary folder, loaded as a user would load it.
struct Scratch {
    let folder: URL

    init(topology: String, environments: [String: String] = ["test": "target: compose\n"]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("swap-topology-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("environments"), withIntermediateDirectories: true)
        try topology.write(to: folder.appendingPathComponent("topology.yaml"), atomically: true, encoding: .utf8)
        for (name, text) in environments {
            try text.write(to: folder.appendingPathComponent("environments/\(name).yaml"), atomically: true, encoding: .utf8)
        }
    }

    func load(_ environment: String = "test") -> TopologyLoader.Result {
        defer { try? FileManager.default.removeItem(at: folder) }
        return TopologyLoader(topologyPath: folder.appendingPathComponent("topology.yaml").path).load(environment: environment)
    }

    /// Loads and returns the printed diagnostics (`file:line:col: severity: message`).
    static func diagnostics(_ topology: String, environments: [String: String] = ["test": "target: compose\n"], environment: String = "test") throws -> [String] {
        try Scratch(topology: topology, environments: environments).load(environment).diagnostics.map(\.description)
    }
}

/// A small valid topology the rule tests start from; line numbers matter.
enum Minimal {
    static let text = """
    version: 1
    project: swap
    services:
      gateway:
        product: gateway
        port: 3000
        routes: [{path: /api/}]
        depends_on: [financial]
        uses: [cache]
        secrets: [jwt_secret]
      financial:
        product: financial-service
        port: 3002
        uses: [main, events]
        produces: [financial.transactions]
        secrets: [jwt_secret]
    datastores:
      main: {engine: postgres, version: "15"}
      cache: {engine: redis, persistence: aof}
    brokers:
      events:
        engine: kafka
        nodes: 1
        topics:
          financial.transactions: {partitions: 6, replication: 1}
    secrets:
      jwt_secret: {generate: hex32}
      db_password: {generate: alnum24}

    """

    /// The minimal text with one line replaced (1-based), for rule tests.
    static func replacing(line: Int, with replacement: String) -> String {
        var lines = text.components(separatedBy: "\n")
        lines[line - 1] = replacement
        return lines.joined(separator: "\n")
    }
}
