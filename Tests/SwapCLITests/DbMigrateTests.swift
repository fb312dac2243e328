import Foundation
import LocalServers
import Testing

/// `swapctl db migrate`, `db backup` and `db restore` against real PostgreSQL
/// servers: a Supabase-shaped source (auth schema with bcrypt hashes, an
/// application schema with RLS policies calling auth.uid(), PostGIS in the
/// `extensions` schema) moved into an empty server.
@Suite("swapctl db", .serialized, .timeLimit(.minutes(10)))
struct DbMigrateTests {
    /// Looks like a pasted dashboard password: '@', ':' and '/' unescaped.
    static let password = "Pw@d:b/\(UUID().uuidString.prefix(8))"

    static func url(_ server: PostgresServer, _ database: String, password: String = DbMigrateTests.password) -> String {
        "postgresql://postgres:\(password)@127.0.0.1:\(server.port)/\(database)?sslmode=disable"
    }

    static func options(_ database: String) -> PostgresServer.Options {
        var options = PostgresServer.Options()
        options.database = database
        return options
    }

    @Test func dryRunThenCopyThenVerifyCatchesACorruptedRow() async throws {
        try await withPostgres(Self.options("supabase")) { source in
            try await withPostgres(Self.options("swap")) { target in
                try await source.psql(SupabaseFixture.sql, database: "supabase")
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swapctl-db-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                let fromFile = folder.appendingPathComponent("supabase_url")
                try (Self.url(source, "supabase") + "\n").write(to: fromFile, atomically: true, encoding: .utf8)
                let to = Self.url(target, "swap")
                let base = ["db", "migrate", "--from-file", fromFile.path, "--to", to]

                // 1. Dry run: what moves, with row counts; what differs; nothing written.
                let dry = try Swapctl.run(base + ["--dry-run"])
                #expect(dry.status == 0, "\(dry.stdout)\n\(dry.stderr)")
                let plan = dry.stdout
                for line in ["app.listings            3", "app.events            201", "app.profiles            3", "auth.users              3"] {
                    #expect(plan.contains(line), "dry run lacks '\(line)':\n\(plan)")
                }
                #expect(plan.contains("2 of 3 users with a bcrypt password hash"))
                #expect(plan.contains("auth.refresh_tokens     -  not copied"))
                #expect(plan.contains("postgis 3.") && plan.contains("(schema extensions)"))
                #expect(plan.contains("created NOLOGIN on the target: anon, authenticated"))
                #expect(plan.contains("storage (2 tables)"))
                #expect(plan.contains("app.profiles profiles_avatar_id_fkey -> storage.objects"))
                #expect(plan.contains("Dry run: nothing was changed."))
                #expect(plan.contains("postgresql://postgres:***@127.0.0.1:\(target.port)/swap"))
                try Self.expectNoPassword(dry)
                #expect(try await target.value("SELECT count(*) FROM pg_namespace WHERE nspname IN ('app', 'auth')", database: "swap") == "0")

                // 2. The copy, then the verification: every table matches.
                let copy = try Swapctl.run(base)
                #expect(copy.status == 0, "\(copy.stdout)\n\(copy.stderr)")
                #expect(copy.stdout.contains("All 4 tables match."), "\(copy.stdout)")
                try Self.expectNoPassword(copy)
                #expect(try await target.value("SELECT count(*) FROM app.listings", database: "swap") == "3")
                #expect(try await target.value(
                    "SELECT encrypted_password FROM auth.users WHERE email = 'ana@example.com'", database: "swap"
                ) == SupabaseFixture.anaHash)
                #expect(try await target.value(
                    "SELECT extensions.ST_AsText(location::extensions.geometry) FROM app.listings WHERE title = 'Bike'", database: "swap"
                ) == "POINT(13.4 52.5)")
                #expect(try await target.value("SELECT count(*) FROM pg_policy", database: "swap") == "2")
                // The trigger on auth.users stayed behind, so no profile was created twice.
                #expect(try await target.value("SELECT count(*) FROM app.profiles", database: "swap") == "3")
                // Identity sequences continue after the copied ids.
                #expect(try await target.value(
                    "INSERT INTO app.listings (owner, title, price) VALUES ('11111111-1111-1111-1111-111111111111', 'New', 1) RETURNING id",
                    database: "swap"
                ) == "4")
                try await target.psql("DELETE FROM app.listings WHERE id = 4", database: "swap")

                // 3. A corrupted row on the target: exit 1, naming the table.
                try await target.psql("UPDATE app.listings SET price = price + 1 WHERE title = 'Bike'", database: "swap")
                let verify = try Swapctl.run(base + ["--verify-only"])
                #expect(verify.status == 1, "\(verify.stdout)\n\(verify.stderr)")
                #expect(verify.stderr.contains("error: 1 table differs: app.listings"), "\(verify.stderr)")
                let row = verify.stdout.split(separator: "\n").first { $0.contains("app.listings") && $0.contains("DIFFERS") }
                #expect(row != nil, "\(verify.stdout)")
                #expect(verify.stdout.split(separator: "\n").filter { $0.contains(" ok") }.count == 3)

                // 4. A second copy refuses to overwrite; --clean replaces and matches again.
                let again = try Swapctl.run(base)
                #expect(again.status == 1 && again.stdout.contains("pass --clean"), "\(again.stdout)\n\(again.stderr)")
                let clean = try Swapctl.run(base + ["--clean"])
                #expect(clean.status == 0, "\(clean.stdout)\n\(clean.stderr)")
                #expect(clean.stdout.contains("All 4 tables match."))
            }
        }
    }

    @Test func usageErrorsNeverEchoTheURL() throws {
        let secret = "key=value password=\(Self.password)"
        let bad = try Swapctl.run(["db", "migrate", "--from", secret, "--to", "postgresql://x@127.0.0.1:1/x", "--dry-run"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("expected a postgresql:// or postgres:// URL"))
        try Self.expectNoPassword(bad)
        #expect(try Swapctl.run(["db", "migrate", "--to", "postgresql://x@h/x"]).status == 2)
        #expect(try Swapctl.run(["db", "migrate", "--from", "postgresql://a@h/x", "--from-file", "/nonexistent", "--to", "postgresql://b@h/x"]).status == 2)
    }

    /// Fill, back up with `db backup`, drop the database, restore with
    /// `db restore`: every table's checksum is what it was.
    @Test func backupDropRestoreDrill() async throws {
        try await withPostgres(Self.options("drill")) { server in
            try await server.psql(SupabaseFixture.sql, database: "drill")
            let url = Self.url(server, "drill")
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swapctl-drill-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let before = try await SupabaseFixture.checksums(server, database: "drill")

            let backup = try Swapctl.run(["db", "backup", "--env", "dev", "--url", url, "--dir", folder.path])
            #expect(backup.status == 0, "\(backup.stdout)\n\(backup.stderr)")
            try Self.expectNoPassword(backup)
            let line = try #require(backup.stdout.split(separator: "\n").first { $0.hasPrefix("backup: ") }, "\(backup.stdout)")
            let dump = String(line.dropFirst("backup: ".count))
            #expect(dump.hasSuffix(".dump") && (dump as NSString).lastPathComponent.hasPrefix("swap-dev-main-"))
            #expect(FileManager.default.fileExists(atPath: dump + ".sha256"))

            try await server.dropDatabase("drill")
            try await server.createDatabase("drill")
            #expect(try await server.value("SELECT count(*) FROM pg_namespace WHERE nspname = 'app'", database: "drill") == "0")

            let restore = try Swapctl.run(["db", "restore", "--env", "dev", "--url", url, "--file", dump, "--yes"])
            #expect(restore.status == 0, "\(restore.stdout)\n\(restore.stderr)")
            try Self.expectNoPassword(restore)
            #expect(try await SupabaseFixture.checksums(server, database: "drill") == before)
        }
    }

    /// Without generated/ (a fresh checkout), the same script is rendered
    /// from the topology; an environment without backups is refused.
    @Test func backupRendersTheScriptWhenGeneratedIsAbsent() async throws {
        try await withPostgres(Self.options("lone")) { server in
            try await server.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);", database: "lone")
            let project = try Swapctl.copyOfProject()
            defer { try? FileManager.default.removeItem(at: project) }
            let dir = project.appendingPathComponent("dumps")
            let url = Self.url(server, "lone")
            let backup = try Swapctl.run(["db", "backup", "--env", "staging", "--url", url, "--dir", dir.path], in: project)
            #expect(backup.status == 0, "\(backup.stdout)\n\(backup.stderr)")
            #expect(backup.stdout.contains("/swap-staging-main-"))
            let local = try Swapctl.run(["db", "backup", "--env", "local", "--url", url, "--dir", dir.path], in: project)
            #expect(local.status == 1)
            #expect(local.stderr.contains("environment 'local' has no backup.sh"), "\(local.stderr)")
        }
    }

    static func expectNoPassword(_ result: Swapctl.Result, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(!result.stdout.contains(password) && !result.stderr.contains(password), "the password was printed", sourceLocation: sourceLocation)
        let encoded = try #require(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        #expect(!result.stdout.contains(encoded) && !result.stderr.contains(encoded), sourceLocation: sourceLocation)
    }
}
