import Foundation
import SwapTopology
import Testing

@testable import SwapHarness

@Suite struct HarnessUnitTests {
    @Test func restartDelaysDoubleUpToTheCap() {
        var policy = RestartPolicy()
        policy.initialDelay = .milliseconds(250)
        policy.maximumDelay = .seconds(2)
        #expect((0..<6).map { policy.delay(attempt: $0) } == [
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(2), .seconds(2),
        ])
        #expect(policy.delay(attempt: 500) == .seconds(2))
    }

    @Test func productCommandsComeFromTheEnvironment() {
        let commands = HarnessConfiguration.productCommands(from: [
            "SWAP_PRODUCT_FINANCIAL_SERVICE_COMMAND": "python3 fake.py --mode ok",
            "SWAP_PRODUCT_GATEWAY_COMMAND": "",
            "PATH": "/usr/bin",
        ])
        #expect(commands == ["FINANCIAL_SERVICE": ["/bin/sh", "-c", "exec python3 fake.py --mode ok"]])
        var configuration = HarnessConfiguration(topologyPath: "/tmp/x/topology.yaml")
        configuration.productCommands = commands
        #expect(configuration.command(forProduct: "financial-service") == ["/bin/sh", "-c", "exec python3 fake.py --mode ok"])
        #expect(configuration.command(forProduct: "gateway") == nil)
        #expect(configuration.stateFolder.path == "/tmp/x/.swap")
    }

    @Test func anAggregatingHealthPathIsGatedOnReady() throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        let topology = try fixture.topology()
        #expect(ServiceComponents.readinessPath(topology.service(named: "gateway")!) == "/ready")
        #expect(ServiceComponents.readinessPath(topology.service(named: "things")!) == "/ready")
        var leaf = topology.service(named: "things")!
        leaf.health.path = "/health"
        #expect(ServiceComponents.readinessPath(leaf) == "/health", "a /health without upstreams is the service's own")
    }

    @Test func thePlanPicksDistinctPortsAndWiresDependencies() throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        let plan = try StackPlan.make(
            topology: try fixture.topology(), configuration: fixture.configuration(), layout: StateLayout(folder: fixture.stateFolder)
        )
        let ports = plan.components.flatMap { [$0.port] + $0.ports.values }
        #expect(Set(ports).count == ports.count - 1, "nginx's main port is its https port, listed twice")
        let byName = Dictionary(uniqueKeysWithValues: plan.components.map { ($0.name, $0) })
        #expect(byName["things.1"]?.dependencies == ["main", "cache", "events"])
        #expect(byName["gateway"]?.dependencies == ["main", "cache", "things.1", "things.2"])
        #expect(byName["nginx"]?.dependencies == ["gateway"])
        #expect(plan.secretsNeeded == ["jwt_secret", "db_password"])
        #expect(plan.urls.https == "https://localhost:\(byName["nginx"]!.ports["https"]!)")
    }

    @Test func bootReportFindsTheCriticalPath() {
        func component(_ name: String, _ start: Int, _ ready: Int, _ dependencies: [String]) -> ComponentState {
            ComponentState(
                name: name, kind: name == "nginx" ? .nginx : .service, group: name, port: 1, ports: [:], status: .ready,
                startedAtMs: start, readyAtMs: ready, restarts: 0, logFiles: [], health: HealthProbe(kind: .tcp, port: 1),
                dependencies: dependencies
            )
        }
        let state = StackState(
            bootID: "x", project: "p", environment: "local", root: "/", supervisor: ProcessIdentity(pid: 1, startTime: 1),
            detached: false, infrastructureOnly: false, phase: .ready, startedAt: Date(), bootMilliseconds: 950,
            components: [
                component("db", 0, 700, []), component("cache", 0, 50, []),
                component("api", 700, 900, ["db", "cache"]), component("nginx", 900, 950, ["api"]),
            ]
        )
        let report = BootReport(state)
        #expect(report.criticalPath == ["db", "api", "nginx"])
        #expect(report.totalMilliseconds == 950)
        #expect(report.lines.contains("critical path: db (700 ms) -> api (200 ms) -> nginx (50 ms)"))
    }

    @Test func theLocalCASignsALeafForLocalhostAndLoopback() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swap-ca-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let ca = LocalCA(folder: folder.appendingPathComponent("ca"))
        try await ca.issueCertificate(for: ["localhost", "127.0.0.1", "::1"], into: folder.appendingPathComponent("leaf"))
        let caKey = try FileManager.default.attributesOfItem(atPath: ca.keyFile.path)[.posixPermissions] as? Int
        #expect(caKey == 0o600)
        let leaf = folder.appendingPathComponent("leaf/fullchain.pem").path
        let verify = try await Shell.run(["/usr/bin/openssl", "verify", "-CAfile", ca.certificateFile.path, "-purpose", "sslserver", leaf])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let names = try await Shell.run(["/usr/bin/openssl", "x509", "-in", leaf, "-noout", "-ext", "subjectAltName"])
        #expect(names.stdout.contains("DNS:localhost"))
        #expect(names.stdout.contains("IP Address:127.0.0.1"))
        // Created once: a second run reuses the same CA.
        let first = try Data(contentsOf: ca.certificateFile)
        try await ca.ensure()
        #expect(try Data(contentsOf: ca.certificateFile) == first)
    }

    @Test func processIdentityNeedsTheSameStartTime() {
        let me = ProcessIdentity.current
        #expect(me.isAlive)
        #expect(!ProcessIdentity(pid: me.pid, startTime: me.startTime + 1).isAlive)
        #expect(!ProcessIdentity(pid: Int32.max - 1, startTime: 0).isAlive)
    }

    @Test func logsFollowNewLinesPerComponent() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swap-logs-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a.log")
        try "one\ntwo\nthr".write(to: file, atomically: true, encoding: .utf8)
        let source = LogStreams.Source(name: "a", files: [file])
        var lines: [String] = []
        await LogStreams.stream([source], folder: folder, tail: 1, follow: false) { lines.append("\($0)|\($1)") }
        #expect(lines == ["a|two"], "an unfinished line waits for its newline")
        let collected = LinesBox()
        let follower = Task {
            await LogStreams.stream([source], folder: folder, tail: 0, follow: true) { collected.append("\($0)|\($1)") }
        }
        try await Task.sleep(for: .milliseconds(300))
        LogFiles.append("ee\nfour\n", to: file)
        #expect(await eventually(timeout: .seconds(20)) { collected.lines == ["a|three", "a|four"] }, "\(collected.lines)")
        try FileManager.default.removeItem(at: folder)
        await follower.value
    }
}

final class LinesBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func append(_ line: String) { lock.withLock { stored.append(line) } }
}
