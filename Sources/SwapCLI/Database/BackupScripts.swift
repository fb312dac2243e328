import Foundation
import SwapGenerators
import SwapTopology

/// Runs an environment's generated backup.sh or restore.sh, so that
/// `swapctl db backup/restore` and the scheduled job share one
/// implementation. The script is generated/<env>/scripts/<name>, or, when
/// that tree is absent, the same file rendered from the topology.
struct BackupScripts {
    let topologyPath: String
    let environment: String

    func run(_ name: String, arguments: [String], url: DatabaseURL, clients: PostgresClients, backupDirectory: String?) throws -> Int32 {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swapctl-db-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: scratch) }
        let script = try locate(name, scratch: scratch)

        // The scripts read the URL from a file (the *_FILE convention); the
        // password goes in their environment, never in that file or argv.
        let urlFile = scratch.appendingPathComponent("database_url")
        guard FileManager.default.createFile(atPath: urlFile.path, contents: Data(url.withoutPassword.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CommandFailure(code: 1, message: "error: cannot write \(urlFile.path)")
        }
        var environment = url.clientEnvironment
        environment["DATABASE_URL_FILE"] = urlFile.path
        environment["PGDATABASE"] = url.database
        environment["PATH"] = clients.directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        if let backupDirectory { environment["BACKUP_DIR"] = backupDirectory }
        return try ToolRunner.runAttached("/bin/bash", [script] + arguments, environment: environment)
    }

    private func locate(_ name: String, scratch: URL) throws -> String {
        let loader = TopologyLoader(topologyPath: topologyPath)
        let generated = loader.root.appendingPathComponent("generated/\(environment)/scripts/\(name)")
        if FileManager.default.fileExists(atPath: generated.path) { return generated.path }
        let result = loader.load(environment: environment)
        Console.report(result.diagnostics)
        guard let topology = result.topology, !result.hasErrors else { throw CommandFailure.topology() }
        let path = "\(environment)/scripts/\(name)"
        guard let file = GenerationPipeline.renderEnvironment(topology).files.first(where: { $0.path == path }) else {
            throw CommandFailure(code: 1, message: "error: environment '\(environment)' has no \(name) "
                + "(target \(topology.target.rawValue), or no PostgreSQL datastore with backup:); use --env dev, staging or prod")
        }
        let url = scratch.appendingPathComponent(name)
        try Data(file.contents.utf8).write(to: url)
        return url.path
    }
}
