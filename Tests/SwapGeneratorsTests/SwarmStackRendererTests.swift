import Foundation
@testable import SwapGenerators
import SwapTopology
import Testing

@Suite("SwarmStackRenderer")
struct SwarmStackRendererTests {
    static let tag = ["SWAP_TAG": "test"]

    /// Config names end in a digest of files other renderers write; the
    /// goldens mask it so they do not change with those files
    /// (`configNamesFollowTheirFiles` checks the digests).
    static func masked(_ file: GeneratedFile) -> GeneratedFile {
        var file = file
        file.contents = file.contents.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("    name: "), let underscore = line.lastIndex(of: "_") else { return String(line) }
            let suffix = line[line.index(after: underscore)...]
            guard suffix.count == 12, suffix.allSatisfy(\.isHexDigit) else { return String(line) }
            return String(line[...underscore]) + "<digest>"
        }.joined(separator: "\n")
        return file
    }

    static func stack(_ topology: Topology) throws -> GeneratedFile {
        try #require(SwarmStackRenderer().render(topology).files.first)
    }

    static func stackJSON(_ topology: Topology) throws -> [String: Any] {
        try DockerFixture.composeJSON(stack(topology), environment: tag)
    }

    @Test func goldenStagingAndProd() throws {
        let files = try ["staging", "prod"].flatMap { SwarmStackRenderer().render(try Fixture.topology($0)).files }
        #expect(files.map(\.path) == ["staging/stack.yml", "prod/stack.yml"])
        try Golden.check(files.map(Self.masked), name: "swarm")
    }

    @Test func rendersOnlyForSwarmTargets() {
        #expect(SwarmStackRenderer().targets == [.swarm])
    }

    @Test func dockerStackConfigAcceptsEveryStack() throws {
        let topologies = try [Fixture.topology("staging"), Fixture.topology("prod"), DockerFixture.withSeventhService("prod")]
        for topology in topologies {
            let file = try Self.stack(topology)
            let root = try ExternalTool.scratch([(path: file.path, contents: file.contents)])
            defer { try? FileManager.default.removeItem(at: root) }
            let result = try ExternalTool.run(
                "docker", ["stack", "config", "-c", root.appendingPathComponent(file.path).path], environment: Self.tag
            )
            #expect(result.status == 0, "docker stack config -c \(file.path) failed:\n\(result.output)")
        }
    }

    @Test func prodRunsThreeKafkaNodesAndNoDatabase() throws {
        let topology = try Fixture.topology("prod")
        let output = SwarmStackRenderer().render(topology)
        let services = try DockerFixture.services(Self.stackJSON(topology))
        #expect(services["main"] == nil, "the managed database must not run in the stack")
        #expect(!output.files[0].contents.contains("postgis/postgis"))
        #expect(output.notes.contains { $0.message.contains("'main' is managed") })
        for index in 1...3 {
            let node = try #require(services["events-\(index)"] as? [String: Any], "events-\(index) missing")
            let environment = try #require(node["environment"] as? [String: String])
            #expect(environment["KAFKA_NODE_ID"] == String(index))
            #expect(environment["KAFKA_MIN_INSYNC_REPLICAS"] == "2")
            #expect(environment["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3")
            #expect(environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3")
            #expect(environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@events-1:9093,2@events-2:9093,3@events-3:9093")
            #expect(environment["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://events-\(index):9092")
            let deploy = try #require(node["deploy"] as? [String: Any])
            let constraints = (deploy["placement"] as? [String: Any])?["constraints"] as? [String]
            #expect(constraints == ["node.labels.swap.data == true", "node.labels.swap.data.events == \(index)"])
            #expect((node["volumes"] as? [[String: Any]])?.first?["source"] as? String == "events-\(index)-data")
        }
        #expect(services["events-4"] == nil)
        let gateway = try #require(services["gateway"] as? [String: Any])
        let environment = try #require(gateway["environment"] as? [String: String])
        #expect(environment["DATABASE_URL_FILE"] == "/run/secrets/database_url")
        #expect(environment["DATABASE_HOST"] == nil)
        let secrets = (gateway["secrets"] as? [[String: Any]])?.compactMap { $0["source"] as? String } ?? []
        #expect(secrets.contains("database_url") && !secrets.contains("db_password"))
        #expect((gateway["deploy"] as? [String: Any])?["replicas"] as? Int == 3)
    }

    @Test func stagingRunsTheDatabaseOnDataNodesWithItsBackup() throws {
        let services = try DockerFixture.services(Self.stackJSON(try Fixture.topology("staging")))
        let main = try #require(services["main"] as? [String: Any])
        #expect(main["image"] as? String == "postgis/postgis:15-3.4")
        let placement = ((main["deploy"] as? [String: Any])?["placement"] as? [String: Any])?["constraints"] as? [String]
        #expect(placement == ["node.labels.swap.data == true"])
        let backup = try #require(services["main-backup"] as? [String: Any])
        let environment = try #require(backup["environment"] as? [String: String])
        #expect(environment["BACKUP_SCHEDULE"] == "0 3 * * *")
        #expect(environment["RETENTION_DAYS"] == "14")
        #expect(environment["PGHOST"] == "main" && environment["PGUSER"] == "swap" && environment["PGDATABASE"] == "swap")
        #expect(environment["PGPASSWORD_FILE"] == "/run/secrets/db_password")
        #expect((backup["configs"] as? [[String: Any]])?.first?["target"] as? String == "/opt/swap/backup.sh")
        #expect(services["events"] != nil && services["events-1"] == nil, "staging has one Kafka node")
    }

    @Test func everySecretIsExternalAndNamedAfterTheProject() throws {
        for environment in ["staging", "prod"] {
            let json = try Self.stackJSON(try Fixture.topology(environment))
            let secrets = try #require(json["secrets"] as? [String: [String: Any]])
            #expect(!secrets.isEmpty)
            for (name, secret) in secrets {
                #expect(secret["external"] as? Bool == true, "\(environment): \(name)")
                #expect(secret["name"] as? String == "swap_\(name)", "\(environment): \(name)")
                #expect(secret["file"] == nil)
            }
            let used = try DockerFixture.services(json).values.flatMap { service in
                ((service as? [String: Any])?["secrets"] as? [[String: Any]] ?? []).compactMap { $0["source"] as? String }
            }
            #expect(Set(used) == Set(secrets.keys), "\(environment): declared and used secrets differ")
        }
    }

    @Test func noDependsOnButANote() throws {
        for environment in ["staging", "prod"] {
            let output = SwarmStackRenderer().render(try Fixture.topology(environment))
            #expect(!output.files[0].contents.contains("    depends_on:"))
            #expect(!output.files[0].contents.contains("build:"))
            #expect(output.notes.contains { $0.message.contains("depends_on is not expressed") })
        }
    }

    @Test func seventhServiceAppearsWithEnvironmentHealthcheckAndSecrets() throws {
        let topology = try DockerFixture.withSeventhService("staging")
        let json = try Self.stackJSON(topology)
        let audit = try #require(DockerFixture.services(json)["audit"] as? [String: Any])
        #expect(audit["image"] as? String == "ghcr.io/swap-platform/swap/audit-service:test")
        let environment = try #require(audit["environment"] as? [String: String])
        for variable in ServiceEnvironment.variables(for: try #require(topology.service(named: "audit")), in: topology, addresses: .docker) {
            #expect(environment[variable.name] == variable.value, "\(variable.name)")
        }
        let healthcheck = try #require(audit["healthcheck"] as? [String: Any])
        #expect(healthcheck["test"] as? [String] == ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3005/ready"])
        let secrets = (audit["secrets"] as? [[String: Any]])?.compactMap { $0["source"] as? String }
        #expect(secrets == ["jwt_secret", "audit_key", "db_password"])
        let topLevel = try #require(json["secrets"] as? [String: [String: Any]])
        #expect(topLevel["audit_key"]?["external"] as? Bool == true)
        #expect(topLevel["audit_key"]?["name"] as? String == "swap_audit_key")
        let deploy = try #require(audit["deploy"] as? [String: Any])
        #expect(deploy["replicas"] as? Int == 2)
        let update = try #require(deploy["update_config"] as? [String: Any])
        #expect(update["order"] as? String == "start-first" && update["failure_action"] as? String == "rollback")
        #expect(update["monitor"] as? String == "35s", "start period 15s + 4 × 5s")
        let limits = (deploy["resources"] as? [String: Any])?["limits"] as? [String: Any]
        #expect(limits?["cpus"] as? Double == 0.25)
        #expect((audit["networks"] as? [String: Any])?.keys.sorted() == ["backend"])
    }

    @Test func ingressAndMonitoringFollowTheTopology() throws {
        let services = try DockerFixture.services(Self.stackJSON(try Fixture.topology("prod")))
        let nginx = try #require(services["nginx"] as? [String: Any])
        let ports = try #require(nginx["ports"] as? [[String: Any]])
        #expect(ports.map { $0["mode"] as? String } == ["host", "host"])
        #expect(ports.compactMap { $0["published"] as? String } == ["80", "443"])
        #expect((nginx["deploy"] as? [String: Any])?["replicas"] as? Int == 2)
        #expect(services["certbot"] != nil)
        for name in ["node-exporter", "cadvisor"] {
            let service = try #require(services[name] as? [String: Any], "\(name) missing")
            #expect((service["deploy"] as? [String: Any])?["mode"] as? String == "global")
        }
        for name in ["prometheus", "alertmanager", "grafana"] { #expect(services[name] != nil, "\(name) missing") }
        for (name, value) in services where name != "nginx" {
            #expect((value as? [String: Any])?["ports"] == nil, "\(name) publishes ports")
        }
    }

    /// A changed monitoring file deploys as a new config; unchanged ones keep their names.
    @Test func configNamesFollowTheirFiles() throws {
        var topology = try Fixture.topology("staging")
        let before = try Self.stack(topology).contents
        topology.monitoring.scrapeInterval = .seconds(30)
        let after = try Self.stack(topology).contents
        func name(_ key: String, in text: String) -> String? {
            guard let range = text.range(of: "  \(key):\n    name: ") else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\n" })
        }
        let prometheus = try #require(name("prometheus_yml", in: before))
        #expect(prometheus.hasPrefix("swap_prometheus_yml_"))
        #expect(prometheus != name("prometheus_yml", in: after))
        #expect(name("nginx_conf", in: before) == name("nginx_conf", in: after))
        let monitoring = MonitoringRenderer().render(topology).files.first { $0.path == "staging/monitoring/prometheus.yml" }
        #expect(name("prometheus_yml", in: after) == "swap_prometheus_yml_\(SwarmConfigs.digest(try #require(monitoring).contents))")
    }

    @Test func noSecretValueInAnyOutput() throws {
        for environment in ["staging", "prod"] {
            let topology = try Fixture.topology(environment)
            let file = try Self.stack(topology)
            let values = DockerFixture.secretValues(topology)
            let root = try ExternalTool.scratch([(path: file.path, contents: file.contents)] + values.map { (path: "secrets/\($0.key)", contents: $0.value) })
            defer { try? FileManager.default.removeItem(at: root) }
            let result = try ExternalTool.run("docker", ["stack", "config", "-c", root.appendingPathComponent(file.path).path], environment: Self.tag)
            #expect(result.status == 0, "\(result.output)")
            for (name, value) in values {
                #expect(!file.contents.contains(value) && !result.output.contains(value), "value of \(name) leaked")
            }
        }
    }

    @Test func outputIsDeterministic() throws {
        let topology = try Fixture.topology("prod")
        #expect(SwarmStackRenderer().render(topology).files == SwarmStackRenderer().render(topology).files)
        #expect(SwarmStackRenderer().render(topology).notes == SwarmStackRenderer().render(topology).notes)
    }
}
