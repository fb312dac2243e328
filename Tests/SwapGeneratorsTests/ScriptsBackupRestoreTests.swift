import Foundation
import SwapGenerators
import SwapTopology
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// backup.sh and restore.sh for real, against a throwaway PostgreSQL 15
/// cluster on a free loopback port, with a password read from a file.
@Suite("backup.sh and restore.sh against PostgreSQL", .serialized, .timeLimit(.minutes(3)))
struct ScriptsBackupRestoreTests {
    static let bin = "/usr/lib/postgresql/15/bin"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "\(bin)/initdb"), "PostgreSQL 15 is not installed: run script/bootstrap"))
    func backupThenRestoreBringsRowsBack() throws {
        let server = try ScratchPostgres()
        defer { server.stop() }
        try server.psql("CREATE ROLE swap LOGIN PASSWORD 'backup-test-password';")
        try server.psql("CREATE DATABASE swap OWNER swap;")
        try server.psql("CREATE TABLE wallets (id int PRIMARY KEY, owner text); INSERT INTO wallets SELECT g, 'user' || g FROM generate_series(1, 25) g;", database: "swap", user: "swap")

        let output = ScriptsRenderer().render(try Fixture.topology("dev"))
        let folder = try OpsTestSupport.scratch(output.files)
        defer { try? FileManager.default.removeItem(at: folder) }
        let backups = folder.appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: backups, withIntermediateDirectories: true)
        // An old dump of ours and a foreign file: retention deletes only the first.
        let old = backups.appendingPathComponent("swap-dev-main-20200101T030000Z.dump")
        let foreign = backups.appendingPathComponent("notes.dump")
        for file in [old, foreign, old.appendingPathExtension("sha256")] {
            try Data("x".utf8).write(to: file)
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -40 * 86_400)], ofItemAtPath: file.path)
        }
        let passwordFile = folder.appendingPathComponent("db_password")
        try Data("backup-test-password".utf8).write(to: passwordFile)

        // The fake S3 client: keeps objects in a folder, records its calls and the key it was given.
        let s3 = folder.appendingPathComponent("s3")
        try FileManager.default.createDirectory(at: s3, withIntermediateDirectories: true)
        let fakeBin = folder.appendingPathComponent("fake-bin")
        try OpsTestSupport.fakeTool("aws", in: fakeBin, """
            echo "aws $* key=$AWS_ACCESS_KEY_ID" >>"$FAKE_S3/calls"
            [ "$1 $2" = "s3 cp" ] || exit 1
            from="${@: -2:1}"; to="${@: -1}"
            from="${from/s3:\\/\\//$FAKE_S3/}"; to="${to/s3:\\/\\//$FAKE_S3/}"
            mkdir -p "$(dirname "$to")" && cp "$from" "$to"

            """)
        try Data("spaces-access-key".utf8).write(to: folder.appendingPathComponent("s3_access"))
        try Data("spaces-secret-key".utf8).write(to: folder.appendingPathComponent("s3_secret"))

        let environment = [
            "PATH": "\(Self.bin):\(fakeBin.path):\(OpsTestSupport.path)",
            "PGHOST": "127.0.0.1", "PGPORT": String(server.port),
            "PGPASSWORD_FILE": passwordFile.path, "BACKUP_DIR": backups.path,
            "S3_BUCKET": "swap-backups", "S3_ENDPOINT": "https://fra1.digitaloceanspaces.invalid",
            "S3_ACCESS_KEY_FILE": folder.appendingPathComponent("s3_access").path,
            "S3_SECRET_KEY_FILE": folder.appendingPathComponent("s3_secret").path,
            "FAKE_S3": s3.path,
        ]
        let backup = try OpsTestSupport.runScript(folder.appendingPathComponent("dev/scripts/backup.sh"), environment: environment)
        #expect(backup.status == 0, "backup.sh:\n\(backup.output)")

        let names = try FileManager.default.contentsOfDirectory(atPath: backups.path).sorted()
        let dump = try #require(names.first { $0.hasPrefix("swap-dev-main-2") && $0.hasSuffix("Z.dump") && $0 != old.lastPathComponent }, "\(names)")
        #expect(names.contains(dump + ".sha256"), "checksum file beside the dump: \(names)")
        #expect(!names.contains(old.lastPathComponent) && !names.contains(old.lastPathComponent + ".sha256"), "retention deletes old dumps: \(names)")
        #expect(names.contains(foreign.lastPathComponent), "retention leaves other files alone")
        let checksum = try String(contentsOf: backups.appendingPathComponent(dump + ".sha256"), encoding: .utf8)
        #expect(checksum.hasSuffix("  \(dump)\n"))
        let calls = try String(contentsOf: s3.appendingPathComponent("calls"), encoding: .utf8)
        #expect(calls.contains("--endpoint-url https://fra1.digitaloceanspaces.invalid \(backups.path)/\(dump) s3://swap-backups/swap/dev/\(dump) key=spaces-access-key"), "\(calls)")
        #expect(!calls.contains("spaces-secret-key"), "the secret key never reaches a command line")

        try server.psql("DROP TABLE wallets;", database: "swap", user: "swap")

        let refused = try OpsTestSupport.runScript(folder.appendingPathComponent("dev/scripts/restore.sh"), [backups.appendingPathComponent(dump).path], environment: environment)
        #expect(refused.status == 1 && refused.output.contains("without --yes"), "\(refused.output)")
        #expect(try server.psql("SELECT to_regclass('wallets') IS NULL;", database: "swap", user: "swap") == "t")

        // Restore from the off-site copy: download, verify, restore.
        let restore = try OpsTestSupport.runScript(folder.appendingPathComponent("dev/scripts/restore.sh"), ["--yes", "--from-s3", dump], environment: environment)
        #expect(restore.status == 0, "restore.sh:\n\(restore.output)")
        #expect(try server.psql("SELECT count(*), max(owner) FROM wallets;", database: "swap", user: "swap") == "25|user9")

        // A corrupted dump is refused before anything is touched.
        let handle = try FileHandle(forWritingTo: backups.appendingPathComponent(dump))
        handle.seekToEndOfFile()
        handle.write(Data("corrupt".utf8))
        try handle.close()
        let corrupt = try OpsTestSupport.runScript(folder.appendingPathComponent("dev/scripts/restore.sh"), ["--yes", dump], environment: environment)
        #expect(corrupt.status == 1 && corrupt.output.contains("checksum mismatch"), "\(corrupt.output)")
    }
}

/// A PostgreSQL cluster in a temporary folder, owned by the postgres user
/// when the tests run as root (PostgreSQL refuses to run as root).
private struct ScratchPostgres {
    let folder: URL
    let port: Int
    private var asRoot: Bool { getuid() == 0 }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("swap-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try Self.freePort()
        let superuserPassword = folder.appendingPathComponent("pw")
        try Data("superuser-test-password\n".utf8).write(to: superuserPassword)
        if asRoot {
            let chown = try ExternalTool.run("chown", ["-R", "postgres:postgres", folder.path])
            #expect(chown.status == 0, "\(chown.output)")
        }
        try run("\(ScriptsBackupRestoreTests.bin)/initdb", ["-D", folder.appendingPathComponent("data").path, "-U", "postgres",
                                                         "--auth=scram-sha-256", "--pwfile=\(superuserPassword.path)"])
        try run("\(ScriptsBackupRestoreTests.bin)/pg_ctl", [
            "-D", folder.appendingPathComponent("data").path, "-l", folder.appendingPathComponent("log").path, "-w",
            "-o", "-k \(folder.path) -p \(port) -c listen_addresses=127.0.0.1", "start",
        ])
    }

    /// Runs a PostgreSQL tool; descriptors above 2 are closed first, so the
    /// server pg_ctl starts does not inherit (and hold open) the output pipe.
    private func run(_ tool: String, _ arguments: [String]) throws {
        let command = asRoot ? ["runuser", "-u", "postgres", "--", tool] + arguments : [tool] + arguments
        let closeAndRun = #"for fd in /proc/$$/fd/*; do fd="${fd##*/}"; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@" </dev/null"#
        let result = try ExternalTool.run("bash", ["-c", closeAndRun, "run"] + command)
        guard result.status == 0 else { throw Failure(message: "\(tool) failed:\n\(result.output)") }
    }

    /// Runs SQL, returns the unaligned, tuples-only output.
    @discardableResult
    func psql(_ sql: String, database: String = "postgres", user: String = "postgres") throws -> String {
        let password = user == "postgres" ? "superuser-test-password" : "backup-test-password"
        let result = try ExternalTool.run("env", ["\(ScriptsBackupRestoreTests.bin)/psql",
            "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-qtAc", sql,
        ], environment: ["PGPASSWORD": password])
        guard result.status == 0 else { throw Failure(message: "psql failed:\n\(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        _ = try? run("\(ScriptsBackupRestoreTests.bin)/pg_ctl", ["-D", folder.appendingPathComponent("data").path, "-m", "fast", "-w", "stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    private static func freePort() throws -> Int {
        let socketHandle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketHandle >= 0 else { throw Failure(message: "socket() failed") }
        defer { close(socketHandle) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketHandle, $0, length) == 0 && getsockname(socketHandle, $0, &length) == 0 }
        }
        guard bound else { throw Failure(message: "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
