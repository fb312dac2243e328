import Foundation
import SwapTopology
import Testing

@Suite("Environment overlays")
struct OverlayMergeTests {
    @Test func mappingsMergeDeeply() throws {
        let overlay = "target: swarm\nservices:\n  gateway: {replicas: 3}\n"
        let topology = try #require(try Scratch(topology: Minimal.text, environments: ["test": overlay]).load().topology)
        let gateway = try #require(topology.service(named: "gateway"))
        #expect(gateway.replicas.value == 3)
        #expect(gateway.replicas.location.file == "environments/test.yaml")
        // Untouched keys keep the base's values and positions.
        #expect(gateway.port.value == 3000)
        #expect(gateway.port.location.description == "topology.yaml:6:11")
        #expect(topology.target == .swarm)
    }

    @Test func listsReplace() throws {
        let overlay = "services:\n  gateway: {routes: [{path: /v2/}]}\n"
        let topology = try #require(try Scratch(topology: Minimal.text, environments: ["test": overlay]).load().topology)
        #expect(topology.service(named: "gateway")?.routes.map(\.path.value) == ["/v2/"])
    }

    @Test func nullRemoves() throws {
        let overlay = "services:\n  gateway: {depends_on: null, secrets: null}\n"
        let result = try Scratch(topology: Minimal.text, environments: ["test": overlay]).load()
        let gateway = try #require(result.topology?.service(named: "gateway"))
        #expect(gateway.dependsOn.isEmpty)
        #expect(gateway.secrets.isEmpty)
    }

    @Test func overlayErrorsPointAtTheOverlay() throws {
        let overlay = "services:\n  gateway:\n    replicas: many\n"
        #expect(try Scratch.diagnostics(Minimal.text, environments: ["test": overlay]) == [
            "environments/test.yaml:3:15: error: replicas must be an integer, found 'many'",
        ])
    }

    @Test func realTopologyValidatesInEveryEnvironment() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let loader = TopologyLoader(topologyPath: root.appendingPathComponent("topology.yaml").path)
        #expect(loader.environments() == ["dev", "local", "prod", "staging"])
        for environment in loader.environments() {
            let result = loader.load(environment: environment)
            #expect(!result.hasErrors, "\(environment): \(result.diagnostics)")
        }
        let prod = try #require(loader.load(environment: "prod").topology)
        #expect(prod.brokers.first?.nodes.value == 3)
        #expect(prod.brokers.first?.effectiveMinInsync == 2)
        #expect(prod.topics.allSatisfy { $0.topic.replication.value == 3 })
        #expect(prod.service(named: "realtime")?.replicas.value == 3)
        #expect((prod.service(named: "gateway")?.replicas.value ?? 0) >= 2)
        #expect(prod.ingress.tls == .letsencrypt)
        #expect(prod.datastore(named: "main")?.managed == true)
        let local = try #require(loader.load(environment: "local").topology)
        #expect(local.target == .processes)
        #expect(local.services.map(\.port.value).sorted() == [3000, 3001, 3002, 3003, 3004, 3100])
    }
}
