import Foundation
import SwapTopology
import Testing

/// One failing topology per rule of DESIGN.md, asserting the message and its line:col.
@Suite("Validation rules")
struct ValidationRuleTests {
    @Test func unknownKeyGetsDidYouMean() throws {
        let text = Minimal.replacing(line: 7, with: "    rootes: [{path: /api/}]")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:7:5: error: unknown key 'rootes' in service 'gateway'; did you mean 'routes'?"])
    }

    @Test func wrongTypeIsNamed() throws {
        let text = Minimal.replacing(line: 9, with: "    uses: cache")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:9:11: error: service 'gateway' uses must be a list, found a scalar"])
    }

    @Test func quotedNumberIsNotAnInteger() throws {
        let text = Minimal.replacing(line: 6, with: "    port: \"3000\"")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:6:11: error: port must be an integer, found a string"])
    }

    @Test func badDuration() throws {
        let text = Minimal.replacing(line: 6, with: "    port: 3000\n    health: {interval: 10 seconds}")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:7:24: error: service 'gateway' health interval '10 seconds' is not a duration (write e.g. 500ms, 10s, 5m, 2h, 7d)"])
    }

    @Test func badSize() throws {
        let text = Minimal.replacing(line: 6, with: "    port: 3000\n    resources: {memory: 12 parsecs}")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:7:25: error: service 'gateway'.resources.memory '12 parsecs' is not a size (write e.g. 512k, 10m, 256M, 1G)"])
    }

    @Test func duplicatePortPointsAtBoth() throws {
        let text = Minimal.replacing(line: 13, with: "    port: 3000")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:13:11: error: port 3000 is already used by service 'gateway' (topology.yaml:6:11)"])
    }

    @Test func portOutOfRange() throws {
        let text = Minimal.replacing(line: 13, with: "    port: 70000")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:13:11: error: port 70000 is out of range 1...65535"])
    }

    @Test func duplicateRoutePath() throws {
        let text = Minimal.replacing(line: 13, with: "    port: 3002\n    routes: [{path: /api/}]")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:14:21: error: route '/api/' is already routed to service 'gateway' (topology.yaml:7:21)"])
    }

    @Test func unknownReferences() throws {
        var text = Minimal.replacing(line: 8, with: "    depends_on: [finance]")
        text = text.replacingOccurrences(of: "    uses: [cache]", with: "    uses: [cahce]")
        text = text.replacingOccurrences(of: "produces: [financial.transactions]", with: "produces: [financial.transaction]")
        text = text.replacingOccurrences(of: "    secrets: [jwt_secret]\n  financial", with: "    secrets: [jwt]\n  financial")
        let diagnostics = try Scratch.diagnostics(text)
        #expect(diagnostics.contains("topology.yaml:8:18: error: unknown service 'finance'; did you mean 'financial'?"))
        #expect(diagnostics.contains("topology.yaml:9:12: error: unknown datastore or broker 'cahce'; did you mean 'cache'?"))
        #expect(diagnostics.contains("topology.yaml:10:15: error: unknown secret 'jwt'"))
        #expect(diagnostics.contains("topology.yaml:15:16: error: unknown topic 'financial.transaction'; did you mean 'financial.transactions'?"))
    }

    @Test func dependencyCycleIsPrinted() throws {
        let text = Minimal.replacing(line: 13, with: "    port: 3002\n    depends_on: [gateway]")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:14:18: error: dependency cycle: gateway -> financial -> gateway"])
    }

    @Test func dependingOnADisabledService() throws {
        let text = Minimal.replacing(line: 13, with: "    port: 3002\n    enabled: false")
        let diagnostics = try Scratch.diagnostics(text)
        #expect(diagnostics.contains("topology.yaml:8:18: error: service 'gateway' depends on 'financial', which is disabled (topology.yaml:11:3)"))
    }

    @Test func replicationAboveNodes() throws {
        let text = Minimal.replacing(line: 25, with: "      financial.transactions: {partitions: 6, replication: 3}")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:25:60: error: topic 'financial.transactions' has replication 3 but broker 'events' has 1 node"])
    }

    @Test func minInsyncAboveReplication() throws {
        let text = Minimal.replacing(line: 23, with: "    nodes: 3\n    min_insync: 2")
        let diagnostics = try Scratch.diagnostics(text)
        #expect(diagnostics == ["topology.yaml:24:17: error: broker 'events' has min_insync 2, above the replication 1 of topic 'financial.transactions'; producers with acks=all would always fail (topology.yaml:26:60)"])
    }

    @Test func websocketOnReplicasNeedsStickyAndRedis() throws {
        let text = Minimal.replacing(line: 13, with: "    port: 3002\n    replicas: 2\n    routes: [{path: /ws, websocket: true}]")
        let diagnostics = try Scratch.diagnostics(text)
        #expect(diagnostics == [
            "topology.yaml:15:21: error: websocket route '/ws' of service 'financial' has 2 replicas but is not sticky",
            "topology.yaml:15:21: error: service 'financial' serves websockets on 2 replicas but uses no Redis datastore to fan events out between them",
        ])
    }

    @Test func letsencryptNeedsDomainAndEmail() throws {
        let text = Minimal.replacing(line: 2, with: "project: swap\ningress: {domain: localhost, tls: letsencrypt}")
        let diagnostics = try Scratch.diagnostics(text)
        #expect(diagnostics == [
            "topology.yaml:3:35: error: ingress tls 'letsencrypt' needs a public domain, found 'localhost'",
            "topology.yaml:3:35: error: ingress tls 'letsencrypt' needs acme_email",
        ])
    }

    @Test func overlayCannotInventServicesTopicsOrDatastores() throws {
        let overlay = """
        target: swarm
        services:
          gatway: {replicas: 2}
        datastores:
          search: {engine: postgres}
        brokers:
          events:
            topics:
              points.awarded: {partitions: 3}

        """
        let diagnostics = try Scratch.diagnostics(Minimal.text, environments: ["test": overlay])
        #expect(diagnostics == [
            "environments/test.yaml:3:3: error: service 'gatway' is not declared in the base topology; did you mean 'gateway'?",
            "environments/test.yaml:5:3: error: datastore 'search' is not declared in the base topology",
            "environments/test.yaml:9:7: error: topic 'points.awarded' is not declared in the base topology",
        ])
    }

    @Test func unusedSecretAndUnproducedTopicAreWarnings() throws {
        var text = Minimal.text.replacingOccurrences(of: "  db_password: {generate: alnum24}\n", with: "  db_password: {generate: alnum24}\n  api_key: {generate: hex32}\n")
        text = text.replacingOccurrences(of: "    produces: [financial.transactions]", with: "    consumes: [financial.transactions]")
        let result = try Scratch(topology: text).load()
        #expect(!result.hasErrors)
        #expect(result.diagnostics.map(\.description) == [
            "topology.yaml:15:16: warning: service 'financial' consumes topic 'financial.transactions' that no enabled service produces",
            "topology.yaml:29:3: warning: secret 'api_key' is declared but no service uses it",
        ])
    }

    @Test func topicNeedsItsBrokerInUses() throws {
        let text = Minimal.replacing(line: 14, with: "    uses: [main]")
        #expect(try Scratch.diagnostics(text) == ["topology.yaml:15:16: error: service 'financial' uses topic 'financial.transactions' but not the broker that holds it (add it to uses)"])
    }

    @Test func managedDatastoreNeedsURLSecret() throws {
        let overlay = "target: swarm\ndatastores:\n  main: {managed: true}\n"
        #expect(try Scratch.diagnostics(Minimal.text, environments: ["test": overlay]) == [
            "topology.yaml:18:3: error: managed datastore 'main' needs url_secret, the secret holding its connection URL",
        ])
    }

    @Test func invalidNames() throws {
        let text = Minimal.replacing(line: 4, with: "  Gate_way:")
        let diagnostics = try Scratch.diagnostics(text)
        #expect(diagnostics.first == "topology.yaml:4:3: error: service name 'Gate_way' is not a valid name (lowercase letters, digits and '-', starting with a letter)")
    }
}
