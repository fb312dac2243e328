import Foundation
@testable import SwapGenerators
import SwapTopology
import Testing

@Suite("ComposeRenderer")
struct ComposeRendererTests {
    @Test func goldenDev() throws {
        let output = ComposeRenderer().render(try Fixture.topology("dev"))
        try Golden.check(output.files, name: "compose")
    }

    @Test func rendersOnlyForComposeTargets() throws {
        #expect(ComposeRenderer().targets == [.compose])
        let output = ComposeRenderer().render(try Fixture.topology("dev"))
        #expect(output.files.map(\.path) == ["dev/docker-compose.yml"])
        #expect(output.files[0].contents.hasPrefix(GeneratedHeader.hash("dev")))
    }

    @Test func dockerComposeAcceptsTheFile() throws {
        for topology in [try Fixture.topology("dev"), try DockerFixture.withSeventhService("dev")] {
            let file = try #require(ComposeRenderer().render(topology).files.first)
            let result = try DockerFixture.compose(file, ["config", "-q"])
            #expect(result.status == 0, "docker compose config -q failed:\n\(result.output)")
        }
    }

    /// prod's shape (managed database, 3 Kafka nodes, Let's Encrypt, 2 nginx
    /// replicas) rendered for compose must still be a valid file.
    @Test func composeVariantOfProdIsValid() throws {
        var topology = try Fixture.topology("prod")
        topology.target = .compose
        let output = ComposeRenderer().render(topology)
        let file = try #require(output.files.first)
        let result = try DockerFixture.compose(file, ["config", "-q"])
        #expect(result.status == 0, "docker compose config -q failed:\n\(result.output)")
        let services = try DockerFixture.services(DockerFixture.composeJSON(file))
        #expect(services["main"] == nil, "a managed database has no container")
        #expect(Set(["events-1", "events-2", "events-3", "certbot"]).isSubset(of: Set(services.keys)))
        #expect(output.notes.contains { $0.message.contains("ingress replicas 2") })
        #expect(output.notes.contains { $0.message.contains("'main' is managed") })
    }

    @Test func seventhServiceAppearsWithEnvironmentHealthcheckAndSecrets() throws {
        let topology = try DockerFixture.withSeventhService("dev")
        let file = try #require(ComposeRenderer().render(topology).files.first)
        let json = try DockerFixture.composeJSON(file)
        let audit = try #require(DockerFixture.services(json)["audit"] as? [String: Any])
        #expect(audit["image"] as? String == "ghcr.io/swap-platform/swap/audit-service:dev")
        let build = try #require(audit["build"] as? [String: Any])
        #expect((build["args"] as? [String: Any])?["PRODUCT"] as? String == "audit-service")
        #expect((build["dockerfile"] as? String)?.hasSuffix("generated/docker/Dockerfile") == true)
        let environment = try #require(audit["environment"] as? [String: Any])
        for variable in ServiceEnvironment.variables(for: try #require(topology.service(named: "audit")), in: topology, addresses: .docker) {
            #expect(environment[variable.name] as? String == variable.value, "\(variable.name)")
        }
        #expect(environment["AUDIT_KEY_FILE"] as? String == "/run/secrets/audit_key")
        #expect(environment["KAFKA_TOPICS"] as? String == "financial.transactions")
        let healthcheck = try #require(audit["healthcheck"] as? [String: Any])
        #expect(healthcheck["test"] as? [String] == ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3005/ready"])
        #expect(healthcheck["interval"] as? String == "5s")
        #expect(healthcheck["retries"] as? Int == 4)
        let secrets = (audit["secrets"] as? [[String: Any]])?.compactMap { $0["source"] as? String }
        #expect(secrets == ["jwt_secret", "audit_key", "db_password"])
        let dependsOn = try #require(audit["depends_on"] as? [String: [String: Any]])
        #expect(dependsOn["financial"]?["condition"] as? String == "service_healthy")
        #expect(dependsOn["main"]?["condition"] as? String == "service_healthy")
        #expect(dependsOn["events-topics"]?["condition"] as? String == "service_completed_successfully")
        #expect((audit["deploy"] as? [String: Any])?["replicas"] as? Int == 2)
        let topLevel = try #require(json["secrets"] as? [String: [String: Any]])
        #expect((topLevel["audit_key"]?["file"] as? String)?.hasSuffix("/secrets/audit_key") == true)
    }

    @Test func everySecretIsAFileFromTheSecretsFolder() throws {
        let file = try #require(ComposeRenderer().render(try Fixture.topology("dev")).files.first)
        let json = try DockerFixture.composeJSON(file)
        let secrets = try #require(json["secrets"] as? [String: [String: Any]])
        #expect(Set(secrets.keys) == ["jwt_secret", "db_password", "grafana_admin_password"])
        for (name, secret) in secrets {
            #expect((secret["file"] as? String)?.hasSuffix("/secrets/\(name)") == true, "\(name): \(secret)")
            #expect(secret["external"] == nil && secret["environment"] == nil)
        }
        #expect(file.contents.contains("file: ../../secrets/jwt_secret"))
    }

    @Test func onlyNginxPublishesPortsAndEveryServiceRotatesLogs() throws {
        let file = try #require(ComposeRenderer().render(try Fixture.topology("dev")).files.first)
        for (name, value) in try DockerFixture.services(DockerFixture.composeJSON(file)) {
            let service = try #require(value as? [String: Any])
            let ports = (service["ports"] as? [[String: Any]])?.compactMap { $0["published"] as? String } ?? []
            #expect(ports == (name == "nginx" ? ["80", "443"] : []), "\(name) publishes \(ports)")
            let logging = try #require(service["logging"] as? [String: Any], "\(name) has no logging")
            #expect(logging["driver"] as? String == "json-file")
            #expect((logging["options"] as? [String: String])?["max-size"] == "10m")
            #expect(service["restart"] as? String == (name == "events-topics" ? "no" : "unless-stopped"), "\(name)")
        }
    }

    @Test func infrastructureFollowsTheTopology() throws {
        let topology = try Fixture.topology("dev")
        let file = try #require(ComposeRenderer().render(topology).files.first)
        let services = try DockerFixture.services(DockerFixture.composeJSON(file))
        let main = try #require(services["main"] as? [String: Any])
        #expect(main["image"] as? String == "postgis/postgis:15-3.4")
        let postgres = try #require(main["environment"] as? [String: String])
        #expect(postgres == ["POSTGRES_USER": "swap", "POSTGRES_DB": "swap", "POSTGRES_PASSWORD_FILE": "/run/secrets/db_password"])
        let cache = try #require(services["cache"] as? [String: Any])
        let command = try #require(cache["command"] as? [String])
        #expect(command.contains("--appendonly") && command.contains("256mb"))
        let kafka = try #require((services["events"] as? [String: Any])?["environment"] as? [String: String])
        #expect(kafka["KAFKA_PROCESS_ROLES"] == "broker,controller")
        #expect(kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@events:9093")
        #expect(kafka["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data")
        #expect(kafka["CLUSTER_ID"]?.count == 22)
        let topics = try #require(services["events-topics"] as? [String: Any])
        #expect((topics["environment"] as? [String: String])?["KAFKA_BOOTSTRAP"] == "events:9092")
        #expect((topics["volumes"] as? [[String: Any]])?.first?["read_only"] as? Bool == true)
        let realtime = try #require(services["realtime"] as? [String: Any])
        #expect((realtime["deploy"] as? [String: Any])?["replicas"] as? Int == 2)
        for name in ["prometheus", "alertmanager", "grafana"] { #expect(services[name] != nil, "\(name) missing") }
    }

    @Test func noSecretValueInAnyOutput() throws {
        let topology = try Fixture.topology("dev")
        let file = try #require(ComposeRenderer().render(topology).files.first)
        let values = DockerFixture.secretValues(topology)
        let result = try DockerFixture.compose(file, ["config"], secrets: values)
        #expect(result.status == 0, "\(result.output)")
        for (name, value) in values {
            #expect(!file.contents.contains(value), "value of \(name) in docker-compose.yml")
            #expect(!result.output.contains(value), "value of \(name) in docker compose config")
        }
    }

    @Test func outputIsDeterministic() throws {
        let topology = try Fixture.topology("dev")
        #expect(ComposeRenderer().render(topology).files == ComposeRenderer().render(topology).files)
    }
}

/// Topologies and Docker runs shared by the compose and Swarm tests.
enum DockerFixture {
    static let here = SourceLocation(file: "test", line: 1, column: 1)

    /// The fixture plus a seventh service, `audit`, with its own secret.
    static func withSeventhService(_ environment: String) throws -> Topology {
        var topology = try Fixture.topology(environment)
        func located<Value>(_ value: Value) -> Located<Value> { Located(value, at: here) }
        topology.secrets.append(Secret(name: "audit_key", nameLocation: here, generate: SecretFormat("hex32")))
        topology.allServices.append(Service(
            name: "audit", nameLocation: here, product: "audit-service", port: located(3005), replicas: located(2),
            health: HealthCheck(path: "/ready", interval: .seconds(5), timeout: .seconds(2), retries: 4, startPeriod: .seconds(15)),
            dependsOn: [located("financial")], uses: [located("main"), located("events")],
            consumes: [located("financial.transactions")], secrets: [located("jwt_secret"), located("audit_key")],
            env: [EnvironmentVariable(name: "LOG_LEVEL", value: "debug")],
            resources: Resources(cpus: 0.25, memory: ByteSize("128M"))
        ))
        return topology
    }

    /// A random value per declared secret, as `swapctl secrets init` would write.
    static func secretValues(_ topology: Topology) -> [String: String] {
        Dictionary(uniqueKeysWithValues: topology.secrets.map { ($0.name, "s3cr3t-\($0.name)-\(UInt64.random(in: 1...UInt64.max))") })
    }

    /// Runs `docker compose -f <file> ARGS` with the file at its place under
    /// generated/ and the secrets as files in the scratch repository's secrets/.
    static func compose(
        _ file: GeneratedFile, _ arguments: [String], secrets: [String: String] = [:], environment: [String: String] = [:]
    ) throws -> ExternalTool.Result {
        var files = [(path: "generated/\(file.path)", contents: file.contents)]
        files += secrets.map { (path: "secrets/\($0.key)", contents: $0.value) }
        let root = try ExternalTool.scratch(files)
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("generated/\(file.path)").path
        return try ExternalTool.run("docker", ["compose", "-f", path] + arguments, environment: environment)
    }

    /// The file as `docker compose config` resolves it, parsed.
    static func composeJSON(_ file: GeneratedFile, environment: [String: String] = [:]) throws -> [String: Any] {
        let result = try compose(file, ["config", "--format", "json"], environment: environment)
        #expect(result.status == 0, "docker compose config failed:\n\(result.output)")
        // Warnings (e.g. about `version`) come first on the merged output.
        let text = result.output[(result.output.range(of: "{\n")?.lowerBound ?? result.output.startIndex)...]
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any])
    }

    static func services(_ json: [String: Any]) throws -> [String: Any] {
        try #require(json["services"] as? [String: Any])
    }
}
