import Foundation
import Synchronization
import SwapTopology
import Testing

@testable import SwapHarness

/// A small project in a temporary folder: a gateway in front of a
/// two-replica service, PostgreSQL, Redis and a broker, with stand-in
/// services (a Python script serving /health, /ready and /env on $PORT).
struct HarnessFixture {
    let root: URL

    static let topology = """
    version: 1
    project: harness
    registry: ghcr.io/test/harness
    ingress:
      domain: localhost
      tls: self-signed
      rate_limit: {rps: 200, burst: 400}
      max_body: 1m
    services:
      gateway:
        product: gateway
        port: 3000
        replicas: 1
        health: {path: /health, interval: 5s, timeout: 2s, retries: 3, start_period: 5s}
        routes:
          - path: /api/
          - path: /health
        depends_on: [things]
        uses: [main, cache]
        secrets: [jwt_secret, db_password]
      things:
        product: things-service
        port: 3001
        replicas: 2
        api: [/api/v1/things]
        health: {path: /ready, interval: 5s, timeout: 2s, retries: 3, start_period: 5s}
        uses: [main, cache, events]
        produces: [things.created]
        consumes: [things.created]
        secrets: [jwt_secret, db_password]
        settings:
          things: {limit: 7}
    datastores:
      main: {engine: postgres, version: "15", extensions: [pgcrypto]}
      cache: {engine: redis, version: "7", persistence: aof, maxmemory: 64mb}
    brokers:
      events:
        engine: kafka
        nodes: 1
        topics:
          things.created: {partitions: 3, replication: 1, retention: 1d}
    secrets:
      jwt_secret: {generate: hex32}
      db_password: {generate: alnum24}
    monitoring: {prometheus: false, grafana: false, alertmanager: false}

    """

    /// The stand-in service. `crash` exits at once; `never-ready` answers
    /// /ready with 503 forever; anything else behaves.
    static let fakeService = #"""
    import json, os, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    name = os.environ["SERVICE_NAME"]
    port = int(os.environ["PORT"])
    if mode == "crash":
        print(f"fake {name}: simulated crash at start-up", flush=True)
        sys.exit(3)

    def contract():
        keys = sorted(k for k in os.environ if k.startswith(("SERVICE_", "SWAP_", "DATABASE_", "REDIS_", "KAFKA_", "UPSTREAM_", "JWT_", "THINGS_"))
                      or k in ("PORT", "HOST", "LOG_LEVEL", "SHUTDOWN_GRACE_PERIOD"))
        env = {k: os.environ[k] for k in keys}
        env["readable_files"] = sorted(k for k in keys if k.endswith("_FILE") and os.access(os.environ[k], os.R_OK))
        return env

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            status, body = 200, {"service": name, "replica": os.environ.get("SWAP_REPLICA"), "path": self.path}
            if self.path == "/ready" and mode == "never-ready":
                print(f"fake {name}: not ready on purpose", flush=True)
                status, body = 503, {"status": "not_ready"}
            elif self.path == "/env":
                body = contract()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            pass

    print(f"fake {name} replica {os.environ.get('SWAP_REPLICA')} on {os.environ.get('HOST')}:{port}", flush=True)
    ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), port), Handler).serve_forever()
    """#

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("swap-harness-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("environments"), withIntermediateDirectories: true)
        try Self.topology.write(to: root.appendingPathComponent("topology.yaml"), atomically: true, encoding: .utf8)
        try "target: processes\n".write(to: root.appendingPathComponent("environments/local.yaml"), atomically: true, encoding: .utf8)
        try Self.fakeService.write(to: root.appendingPathComponent("fake_service.py"), atomically: true, encoding: .utf8)
    }

    var topologyPath: String { root.appendingPathComponent("topology.yaml").path }
    var stateFolder: URL { root.appendingPathComponent(".swap") }
    var caFolder: URL { root.appendingPathComponent("ca") }
    var caFile: URL { caFolder.appendingPathComponent("rootCA.pem") }

    func topology() throws -> Topology {
        let result = TopologyLoader(topologyPath: topologyPath).load(environment: "local")
        guard let topology = result.topology, !result.hasErrors else {
            throw FixtureError("fixture topology does not load: \(result.diagnostics.map(\.description))")
        }
        return topology
    }

    /// The stand-in command for a product, in a given mode.
    func command(_ mode: String = "ok") -> [String] {
        [Self.python, root.appendingPathComponent("fake_service.py").path, mode]
    }

    /// Fast settings for tests: stand-ins for both products, a CA in the fixture folder.
    func configuration(gateway: String = "ok", things: String = "ok") -> HarnessConfiguration {
        var configuration = HarnessConfiguration(topologyPath: topologyPath)
        configuration.caFolder = caFolder
        configuration.productCommands = ["gateway": command(gateway), "things-service": command(things)]
        configuration.serviceTimeout = .seconds(20)
        configuration.stopGracePeriod = .seconds(5)
        configuration.restart.initialDelay = .milliseconds(100)
        return configuration
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    static let python: String = {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") + ["/usr/bin"] {
            let candidate = "\(folder)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/python3"
    }()
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Every process identity a supervisor ever recorded (restarts included).
final class SeenProcesses: Sendable {
    private let seen = Mutex<[String: [ProcessIdentity]]>([:])

    func record(_ event: SupervisorEvent) {
        guard case .updated(let state) = event else { return }
        seen.withLock { seen in
            for component in state.components {
                guard let process = component.process, seen[component.name]?.contains(process) != true else { continue }
                seen[component.name, default: []].append(process)
            }
        }
    }

    var all: [String: [ProcessIdentity]] { seen.withLock { $0 } }

    /// Identities still alive, or live members of their process groups.
    var survivors: [String] {
        var left: [String] = []
        for (name, identities) in all {
            for identity in identities {
                if identity.isAlive { left.append("\(name) pid \(identity.pid)") }
                for member in ProcessTable.members(ofGroup: identity.pid) where member != identity.pid {
                    left.append("\(name) group member \(member)")
                }
            }
        }
        return left
    }
}

/// Runs a program to completion and captures its output.
enum Shell {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ command: [String], environment: [String: String]? = nil, in directory: URL? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try blocking(command, environment: environment, directory: directory) })
            }
        }
    }

    private static func blocking(_ command: [String], environment: [String: String]?, directory: URL?) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("shell-\(UUID().uuidString).out")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("shell-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        // Files, not pipes: a detached grandchild keeping a pipe open must not block us.
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }

    /// `curl` over HTTPS, verifying with `caFile` when given; returns (exit status, HTTP status, body).
    static func curl(_ url: String, caFile: URL?) async throws -> (status: Int32, http: Int, body: String) {
        var command = ["/usr/bin/curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}"]
        if let caFile { command += ["--cacert", caFile.path] }
        command.append(url)
        let result = try await run(command)
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let code = Int(lines.popLast() ?? "") ?? 0
        return (result.status, code, lines.joined(separator: "\n"))
    }

    /// `GET http://127.0.0.1:port/path` as JSON.
    static func json(port: Int, path: String) async throws -> [String: Any] {
        let result = try await run(["/usr/bin/curl", "-sS", "--max-time", "5", "http://127.0.0.1:\(port)\(path)"])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw FixtureError("GET \(path) on \(port) failed: \(result.stderr)\(result.stdout)")
        }
        return object
    }
}

/// Polls until `condition` holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}
