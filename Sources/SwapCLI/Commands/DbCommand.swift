import ArgumentParser
import Foundation

struct DbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Move the database between servers, back it up and restore it.",
        subcommands: [Migrate.self, Backup.self, Restore.self]
    )

    /// A connection URL given inline or, by the *_FILE convention, in a file.
    struct Connection {
        static func resolve(url: String?, file: String?, name: String) throws -> DatabaseURL {
            switch (url, file) {
            case (nil, nil): throw CommandFailure.usage("give --\(name) URL or --\(name)-file PATH")
            case (.some, .some): throw CommandFailure.usage("give either --\(name) or --\(name)-file, not both")
            case let (.some(text), nil):
                do { return try DatabaseURL(text) } catch { throw CommandFailure.usage("--\(name): \(error)") }
            case let (nil, .some(path)):
                do { return try DatabaseURL.read(file: path) } catch { throw CommandFailure.usage("--\(name)-file: \(error)") }
            }
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the application schemas and the auth users from one PostgreSQL server to another, then verify.",
            discussion: """
                Plans first (schemas and tables with row counts, auth.users and its password hashes, \
                and what differs: server versions, extensions, roles), then copies with parallel \
                pg_dump -Fd / pg_restore (--no-owner --no-privileges), then compares every copied \
                table's row count and checksum on both sides: exit 1 naming each table that differs. \
                Supabase's own schemas (storage, realtime, extensions, graphql, vault, ...) stay behind \
                unless --include-schema names them. Passwords in URLs are never printed.
                """
        )

        @Option(help: "The source database URL (e.g. Supabase's session pooler).") var from: String?
        @Option(help: "A file holding the source URL.") var fromFile: String?
        @Option(help: "The target database URL.") var to: String?
        @Option(help: "A file holding the target URL (e.g. the database_url secret).") var toFile: String?
        @Flag(help: "Print the plan and what differs; change nothing.") var dryRun = false
        @Flag(help: "Only compare row counts and checksums of the tables a copy moves.") var verifyOnly = false
        @Flag(help: "Replace tables the target already has (a rehearsal's copy, before the final sync).") var clean = false
        @Option(help: "Parallel jobs of pg_dump and pg_restore.") var jobs: Int = 4
        @Option(help: "Copy this Supabase schema too (repeatable).") var includeSchema: [String] = []
        @Option(help: "Leave this schema behind (repeatable).") var excludeSchema: [String] = []
        @Option(help: "Folder of psql, pg_dump and pg_restore (default: PostgreSQL 15's, or PATH).") var binDir: String?
        @Option(help: "Folder for the dump (default: a temporary folder, removed afterwards).") var workDir: String?

        func validate() throws {
            guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be between 1 and 64") }
            if dryRun && verifyOnly { throw ValidationError("--dry-run and --verify-only exclude each other") }
        }

        func run() throws {
            let sourceURL = try Connection.resolve(url: from, file: fromFile, name: "from")
            let targetURL = try Connection.resolve(url: to, file: toFile, name: "to")
            if sourceURL.withoutPassword == targetURL.withoutPassword {
                throw CommandFailure.usage("--from and --to name the same database")
            }
            let clients = try PostgresClients.locate(binDir)
            let source = PostgresDatabase(url: sourceURL, clients: clients, role: "source")
            let target = PostgresDatabase(url: targetURL, clients: clients, role: "target")
            do {
                try migrate(source: source, target: target, clients: clients)
            } catch let failure as PostgresDatabase.Failure {
                throw CommandFailure(code: 1, message: "error: \(failure.message)")
            }
        }

        private func migrate(source: PostgresDatabase, target: PostgresDatabase, clients: PostgresClients) throws {
            let plan = try MigrationPlan.make(
                source: try Inventory.read(source), target: try Inventory.read(target), sourceDatabase: source, targetDatabase: target,
                include: Set(includeSchema), exclude: Set(excludeSchema), clean: clean, client: try clients.version()
            )
            print(MigrationReport.text(plan, source: source, target: target, jobs: jobs, showBlockers: !verifyOnly))
            print("")
            if dryRun {
                print(plan.blockers.isEmpty ? "Dry run: nothing was changed." : "Dry run: nothing was changed; the copy would refuse to start.")
                if !plan.blockers.isEmpty { throw CommandFailure(code: 1, message: "") }
                return
            }
            if !verifyOnly {
                if !plan.blockers.isEmpty { throw CommandFailure(code: 1, message: "error: nothing was copied") }
                try copy(plan, source: source, target: target)
            }
            try verify(plan, source: source, target: target)
        }

        private func copy(_ plan: MigrationPlan, source: PostgresDatabase, target: PostgresDatabase) throws {
            let manager = FileManager.default
            let work: URL
            if let workDir {
                work = URL(fileURLWithPath: workDir).appendingPathComponent("swapctl-migrate-\(UUID().uuidString)")
            } else {
                work = manager.temporaryDirectory.appendingPathComponent("swapctl-migrate-\(UUID().uuidString)")
            }
            try manager.createDirectory(at: work, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            defer { try? manager.removeItem(at: work) }
            print("Copying:")
            try MigrationCopy(plan: plan, source: source, target: target, jobs: jobs, work: work) { print("  \($0)") }.run()
            print("")
        }

        private func verify(_ plan: MigrationPlan, source: PostgresDatabase, target: PostgresDatabase) throws {
            let targetTables = Set(try Inventory.read(target).tables.keys)
            let comparisons = try TableVerification.compare(plan.verifiedTables, source: source, target: target, targetTables: targetTables)
            print("Verification (row counts and checksums of every copied table):")
            print(TableVerification.render(comparisons))
            let differing = comparisons.filter { !$0.matches }
            guard differing.isEmpty else {
                throw CommandFailure(code: 1, message: "error: \(differing.count == 1 ? "1 table differs" : "\(differing.count) tables differ"): "
                    + differing.map(\.table.description).joined(separator: ", "))
            }
            print("All \(comparisons.count) tables match.")
        }
    }

    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up a database with the environment's generated scripts/backup.sh.",
            discussion: "Writes <dir>/<project>-<env>-<datastore>-<UTC time>.dump and its .sha256; S3_BUCKET and the other variables backup.sh documents are passed through."
        )

        @OptionGroup var options: TopologyOptions
        @Option(help: "The environment whose backup.sh to run.") var env: String = "prod"
        @Option(help: "The database URL.") var url: String?
        @Option(help: "A file holding the database URL.") var urlFile: String?
        @Option(help: "The folder for the dumps (default: backup.sh's BACKUP_DIR).") var dir: String?
        @Option(help: "Folder of pg_dump (default: PostgreSQL 15's, or PATH).") var binDir: String?

        func run() throws {
            let database = try Connection.resolve(url: url, file: urlFile, name: "url")
            let clients = try PostgresClients.locate(binDir)
            let before = Set(dumps(in: dir))
            let status = try BackupScripts(topologyPath: options.topology, environment: env)
                .run("backup.sh", arguments: [], url: database, clients: clients, backupDirectory: dir)
            guard status == 0 else { throw CommandFailure(code: status == 2 ? 2 : 1, message: "error: backup.sh failed (exit \(status))") }
            for dump in dumps(in: dir) where !before.contains(dump) { print("backup: \(dump)") }
        }

        private func dumps(in folder: String?) -> [String] {
            guard let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
            return names.filter { $0.hasSuffix(".dump") }.sorted().map { (folder as NSString).appendingPathComponent($0) }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a dump with the environment's generated scripts/restore.sh (checksum checked first).",
            discussion: "Replaces the objects the dump holds, in one transaction. Without --yes restore.sh asks on the terminal."
        )

        @OptionGroup var options: TopologyOptions
        @Option(help: "The environment whose restore.sh to run.") var env: String = "prod"
        @Option(help: "The database URL.") var url: String?
        @Option(help: "A file holding the database URL.") var urlFile: String?
        @Option(help: "The .dump file written by backup.sh (its .sha256 beside it), or its name with --from-s3.") var file: String
        @Flag(help: "Do not ask for confirmation.") var yes = false
        @Flag(help: "Download the dump and its checksum from S3_BUCKET first.") var fromS3 = false
        @Option(help: "Folder of pg_restore (default: PostgreSQL 15's, or PATH).") var binDir: String?

        func run() throws {
            let database = try Connection.resolve(url: url, file: urlFile, name: "url")
            let clients = try PostgresClients.locate(binDir)
            var arguments: [String] = []
            if yes { arguments.append("--yes") }
            if fromS3 { arguments.append("--from-s3") }
            // restore.sh runs in this folder: a relative path works as given, and a
            // bare name it does not find here is looked up in its BACKUP_DIR.
            let status = try BackupScripts(topologyPath: options.topology, environment: env)
                .run("restore.sh", arguments: arguments + [file], url: database, clients: clients, backupDirectory: nil)
            guard status == 0 else { throw CommandFailure(code: status == 2 ? 2 : 1, message: "error: restore.sh failed (exit \(status))") }
            print("restored \((file as NSString).lastPathComponent) into \(database.masked)")
        }
    }
}
