import Foundation
import HTTPTypes
import LocalServers
import ServiceKit
import ServiceTesting
import SwapPostgres
import Testing

/// The backup drill of the operations runbook, run for real: money moved
/// through the service, the generated backup.sh, the database destroyed, the
/// generated restore.sh, then every row back (same checksums) and the service
/// working on the restored data without a restart.
@Suite("Backup and restore drill", .serialized, .timeLimit(.minutes(5)))
struct BackupRestoreDrillTests {
    static let scripts = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("generated/dev/scripts")

    @Test func everyRowComesBackAndTheServiceWorksOnIt() async throws {
        try await withFinancialService { service in
            let client = service.client()
            defer { Task { await client.close() } }
            let alice = try await service.createUser()
            let bob = try await service.createUser()
            #expect(try await client.send(.post, "/api/v1/wallet/deposits", token: service.token(alice), json: #"{"amount": 10000}"#).status == 201)
            for index in 0..<5 {
                let transfer = try await client.send(
                    .post, "/api/v1/transfers", token: service.token(alice),
                    json: #"{"to_user_id": "\#(bob.uuidString.lowercased())", "amount": \#(100 + index)}"#,
                    headers: ["Idempotency-Key": "drill-\(index)"]
                )
                #expect(transfer.status == 201)
            }
            // The relay rewrites outbox rows until every event is sent: wait for
            // that, so the checksums describe data at rest.
            try await Self.waitUntilOutboxIsSent(service.pool)
            let before = try await Self.checksums(service.pool)
            #expect(before.count >= 4, "expected the auth and financial tables: \(before.keys.sorted())")

            let work = FileManager.default.temporaryDirectory.appendingPathComponent("drill-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: work) }
            try FileManager.default.createDirectory(at: work.appendingPathComponent("dumps"), withIntermediateDirectories: true)
            let server = try await SharedServers.shared.postgresServer()
            let database = try await service.pool.query("SELECT current_database()")[0].decode(String.self, column: 0)
            let urlFile = work.appendingPathComponent("database_url")
            try Data(server.url(database: database).utf8).write(to: urlFile)
            let environment = ["DATABASE_URL_FILE": urlFile.path, "BACKUP_DIR": work.appendingPathComponent("dumps").path, "RETENTION_DAYS": "14"]

            let backup = try Self.run("backup.sh", [], environment)
            #expect(backup.status == 0, "\(backup.output)")
            let dumps = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("dumps").path)
            let dump = try #require(dumps.first { $0.hasSuffix(".dump") })
            #expect(dumps.contains(dump + ".sha256"))

            // Destroy: every table of the service and of auth is gone.
            try await service.pool.withConnection { connection in
                try await connection.executeScript("DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA auth CASCADE;")
            }
            let wrecked = try await client.send(.get, "/api/v1/wallet", token: service.token(alice))
            #expect(wrecked.status >= 400)

            let restore = try Self.run("restore.sh", ["--yes", dump], environment)
            #expect(restore.status == 0, "\(restore.output)")
            let after = try await Self.checksums(service.pool)
            #expect(after == before)

            let wallet = try await client.send(.get, "/api/v1/wallet", token: service.token(bob))
            #expect(wallet.status == 200)
            #expect(wallet.json["balance"] as? Int == 100 + 101 + 102 + 103 + 104)
            #expect(try await client.send(.post, "/api/v1/wallet/deposits", token: service.token(bob), json: #"{"amount": 1}"#).status == 201)
        }
    }

    static func waitUntilOutboxIsSent(_ pool: PostgresPool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let pending = try await pool.query("SELECT count(*)::bigint FROM swap_outbox WHERE state <> 'sent'")[0].decode(Int64.self, column: 0)
            if pending == 0 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("the outbox still holds unsent events after 60 s")
    }

    /// Row count and an order-independent checksum of every table in public and auth.
    static func checksums(_ pool: PostgresPool) async throws -> [String: String] {
        let tables = try await pool.query("""
            SELECT table_schema, table_name FROM information_schema.tables
            WHERE table_schema IN ('public', 'auth') AND table_type = 'BASE TABLE'
            """)
        var sums: [String: String] = [:]
        for row in tables {
            let (schema, table) = try row.decode((String, String).self)
            let result = try await pool.query("""
                SELECT count(*)::bigint, coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '')
                FROM \(identifier: schema).\(identifier: table) t
                """)
            let (count, sum) = try result[0].decode((Int64, String).self)
            sums["\(schema).\(table)"] = "\(count) \(sum)"
        }
        return sums
    }

    struct Outcome {
        var status: Int32
        var output: String
    }

    /// Runs a generated script to completion (stdout and stderr to one file, so nothing can block on a pipe).
    static func run(_ script: String, _ arguments: [String], _ environment: [String: String]) throws -> Outcome {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("drill-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", scripts.appendingPathComponent(script).path] + arguments
        var inherited = ProcessInfo.processInfo.environment
        inherited["PATH"] = "/usr/lib/postgresql/15/bin:" + (inherited["PATH"] ?? "/usr/bin:/bin")
        process.environment = inherited.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return Outcome(status: process.terminationStatus, output: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
