import Foundation
import SwapGenerators
import SwapTopology
import Testing

/// Helpers of the monitoring, Kafka and scripts tests: a topology with a
/// seventh service, and running generated scripts for real.
enum OpsTestSupport {
    /// The fixture topology with one more service, `search`, added to topology.yaml
    /// only (two replicas, consumes messages.created, port 3005).
    static func withSeventhService(_ environment: String) throws -> Topology {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swap-seventh-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Files are read and written anew (never copyItem): a copied symlink
        // would let the edit below reach the frozen fixture itself.
        let environments = folder.appendingPathComponent("environments")
        try FileManager.default.createDirectory(at: environments, withIntermediateDirectories: true)
        let fixtureEnvironments = Fixture.folder.appendingPathComponent("environments")
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtureEnvironments.path) {
            let overlay = try Data(contentsOf: fixtureEnvironments.appendingPathComponent(name))
            try overlay.write(to: environments.appendingPathComponent(name))
        }
        let file = folder.appendingPathComponent("topology.yaml")
        let base = try String(contentsOf: Fixture.folder.appendingPathComponent("topology.yaml"), encoding: .utf8)
        let service = """

          search:
            product: search-service
            port: 3005
            replicas: 2
            health: {path: /ready, interval: 10s, timeout: 3s, retries: 3, start_period: 20s}
            uses: [main, events]
            consumes: [messages.created]
            secrets: [jwt_secret, db_password]
            resources: {cpus: 0.5, memory: 256M}

        datastores:
        """
        let marker = "\ndatastores:"
        #expect(base.contains(marker))
        try Data(base.replacingOccurrences(of: marker, with: service).utf8).write(to: file)
        let result = TopologyLoader(topologyPath: file.path).load(environment: environment)
        #expect(!result.hasErrors, "topology with a seventh service must validate: \(result.diagnostics)")
        return try #require(result.topology)
    }

    /// Files of one renderer over every fixture environment its targets cover.
    static func render(_ renderer: any EnvironmentRenderer, _ environments: [Topology]) -> RenderOutput {
        var output = RenderOutput()
        for topology in environments where renderer.targets.contains(topology.target) {
            output.append(renderer.render(topology))
        }
        output.files.sort { $0.path < $1.path }
        return output
    }

    static func file(_ output: RenderOutput, _ path: String) throws -> GeneratedFile {
        try #require(output.files.first { $0.path == path }, "no \(path) in \(output.files.map(\.path))")
    }

    /// Writes files into a scratch folder, scripts executable.
    static func scratch(_ files: [GeneratedFile]) throws -> URL {
        let folder = try ExternalTool.scratch(files.map { ($0.path, $0.contents) })
        for file in files where file.executable {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.appendingPathComponent(file.path).path)
        }
        return folder
    }

    /// Writes an executable fake tool into `folder`.
    static func fakeTool(_ name: String, in folder: URL, _ body: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(("#!/usr/bin/env bash\n" + body).utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    /// Runs a script with bash, stdin from /dev/null (so no TTY), extra environment on top.
    static func runScript(_ script: URL, _ arguments: [String] = [], environment: [String: String] = [:]) throws -> ExternalTool.Result {
        try ExternalTool.run("bash", ["-c", "exec bash \"$0\" \"$@\" </dev/null", script.path] + arguments, environment: environment)
    }

    static var path: String { ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin" }
}
