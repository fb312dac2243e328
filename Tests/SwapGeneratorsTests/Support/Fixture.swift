import Foundation
import SwapGenerators
import SwapTopology
import Testing

/// The frozen Swap topology the golden files are rendered from (a copy, so
/// that editing the real topology.yaml does not churn every golden file).
enum Fixture {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixture")

    static func topology(_ environment: String) throws -> Topology {
        let result = TopologyLoader(topologyPath: folder.appendingPathComponent("topology.yaml").path).load(environment: environment)
        #expect(!result.hasErrors, "fixture must validate: \(result.diagnostics)")
        return try #require(result.topology)
    }

    static func allEnvironments() throws -> [Topology] {
        try ["dev", "local", "prod", "staging"].map(topology)
    }
}
