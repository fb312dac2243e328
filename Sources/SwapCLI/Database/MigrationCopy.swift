import Foundation

/// Carries out a ``MigrationPlan``: prepares the target (extension schemas,
/// extensions, policy roles), copies the auth tables the gateway reads, then
/// the application schemas with parallel pg_dump/pg_restore.
struct MigrationCopy {
    let plan: MigrationPlan
    let source: PostgresDatabase
    let target: PostgresDatabase
    let jobs: Int
    let work: URL
    let log: (String) -> Void

    func run() throws {
        try prepareTarget()
        try copyAuth()
        try copyApplicationSchemas()
    }

    private func timed(_ what: String, _ body: () throws -> Void) throws {
        let start = Date()
        try body()
        log("\(what): done in \(String(format: "%.1f", Date().timeIntervalSince(start)))s")
    }

    private func prepareTarget() throws {
        var sql: [String] = []
        for ext in plan.extensionsToCreate {
            sql.append("CREATE SCHEMA IF NOT EXISTS \(SQLText.identifier(ext.schema));")
            sql.append("CREATE EXTENSION IF NOT EXISTS \(SQLText.identifier(ext.name)) WITH SCHEMA \(SQLText.identifier(ext.schema)) CASCADE;")
        }
        for role in plan.rolesToCreate { sql.append("CREATE ROLE \(SQLText.identifier(role)) NOLOGIN;") }
        guard !sql.isEmpty else { return }
        try timed("target prepared (\(plan.extensionsToCreate.count) extensions, \(plan.rolesToCreate.count) roles)") {
            try target.execute(sql.joined(separator: "\n"), singleTransaction: true)
        }
    }

    // MARK: auth

    private func copyAuth() throws {
        let copied = plan.authTables.filter { !$0.isSkipped }
        let created = copied.filter { $0.action == .create }
        if !created.isEmpty || !plan.authFunctionsToCreate.isEmpty {
            try target.execute("CREATE SCHEMA IF NOT EXISTS auth;")
        }
        if !created.isEmpty {
            try timed("auth tables created: \(created.map(\.table.description).joined(separator: ", "))") {
                let dump = work.appendingPathComponent("auth-tables.dump").path
                try source.tool("pg_dump", ["--format=custom", "--schema-only", "--no-owner", "--no-privileges", "--file", dump]
                    + created.flatMap { ["--table", pattern($0.table)] })
                try restore(dump, list: "auth-tables.list", parallel: false) { entry in
                    switch entry.kind {
                    case "FK CONSTRAINT": return !isDroppedForeignKey(entry)
                    case "TRIGGER", "POLICY", "ROW SECURITY", "SCHEMA": return false
                    default: return true
                    }
                }
            }
        }
        if !plan.authFunctionsToCreate.isEmpty {
            try timed("auth functions created: \(plan.authFunctionsToCreate.joined(separator: ", "))") {
                let dump = work.appendingPathComponent("auth-functions.dump").path
                try source.tool("pg_dump", ["--format=custom", "--schema-only", "--no-owner", "--no-privileges", "--schema", "\"auth\"", "--file", dump])
                let wanted = Set(plan.authFunctionsToCreate)
                try restore(dump, list: "auth-functions.list", parallel: false) { $0.kind == "FUNCTION" && wanted.contains($0.tag) }
            }
        }
        let conflicting = copied.filter { $0.action == .copyInto && plan.conflicts.contains($0.table) }
        if plan.clean && !conflicting.isEmpty {
            try target.execute("TRUNCATE \(conflicting.map(\.table.sql).joined(separator: ", ")) CASCADE;")
            log("emptied \(conflicting.map(\.table.description).joined(separator: ", ")) on the target (--clean)")
        }
        for auth in copied {
            try timed("\(auth.table) copied (\(auth.columns.count) columns)") { try copyRows(auth) }
        }
    }

    /// COPY through a file in the work folder: the source's rows out, the
    /// target's table in, triggers held off when the role may, then serial
    /// sequences moved past the copied ids.
    private func copyRows(_ auth: MigrationPlan.AuthTable) throws {
        let columns = auth.columns.map(SQLText.identifier).joined(separator: ", ")
        let file = SQLText.literal(work.appendingPathComponent("\(auth.table.schema).\(auth.table.name).copy").path)
        try source.execute("\\copy (SELECT \(columns) FROM \(auth.table.sql)) TO \(file)")
        let serial = try target.query("""
            SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = \(SQLText.literal(auth.table.sql))::regclass AND a.attnum > 0 AND NOT a.attisdropped
              AND pg_get_serial_sequence(\(SQLText.literal(auth.table.sql)), a.attname) IS NOT NULL
            """).compactMap { $0.first ?? nil }.filter(auth.columns.contains)
        var sql = [
            "DO $swap$ BEGIN SET session_replication_role = replica; EXCEPTION WHEN insufficient_privilege THEN NULL; END $swap$;",
            "\\copy \(auth.table.sql) (\(columns)) FROM \(file)",
        ]
        for column in serial {
            let name = SQLText.identifier(column)
            sql.append("SELECT setval(pg_get_serial_sequence(\(SQLText.literal(auth.table.sql)), \(SQLText.literal(column))), max(\(name))) "
                + "FROM \(auth.table.sql) HAVING max(\(name)) IS NOT NULL;")
        }
        sql.append("RESET session_replication_role;")
        try target.execute(sql.joined(separator: "\n"), singleTransaction: true)
    }

    // MARK: application schemas

    private func copyApplicationSchemas() throws {
        guard !plan.appSchemas.isEmpty else { return }
        let dump = work.appendingPathComponent("app").path
        try timed("pg_dump of \(plan.appSchemas.joined(separator: ", ")) (-j \(jobs))") {
            try source.tool("pg_dump", ["--format=directory", "--jobs=\(jobs)", "--no-owner", "--no-privileges", "--file", dump]
                + plan.appSchemas.flatMap { ["--schema", SQLText.identifier($0)] })
        }
        let existingSchemas = Set(plan.target.schemas)
        try timed("pg_restore into the target (-j \(jobs))") {
            try restore(dump, list: "app.list", parallel: true) { entry in
                switch entry.kind {
                case "FK CONSTRAINT": return !isDroppedForeignKey(entry)
                case "SCHEMA": return !existingSchemas.contains(entry.tag)
                case "COMMENT" where entry.namespace == "-" && entry.tag.hasPrefix("SCHEMA "):
                    return !existingSchemas.contains(String(entry.tag.dropFirst("SCHEMA ".count)))
                case "PUBLICATION", "PUBLICATION TABLE", "PUBLICATION TABLES IN SCHEMA", "EVENT TRIGGER", "SUBSCRIPTION":
                    return false
                default: return true
                }
            }
        }
    }

    // MARK: pg_restore with a filtered table of contents

    private func restore(_ dump: String, list name: String, parallel: Bool, keep: (TOCEntry) -> Bool) throws {
        let listing = try ToolRunner.run(target.clients.path("pg_restore"), ["--list", dump])
        guard listing.status == 0 else { throw target.failure(listing.stderr, tool: "pg_restore --list") }
        let filtered = listing.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { line in
            guard let entry = TOCEntry(line) else { return true }
            return keep(entry)
        }
        let listFile = work.appendingPathComponent(name)
        try filtered.joined(separator: "\n").write(to: listFile, atomically: true, encoding: .utf8)
        var arguments = ["--no-owner", "--no-privileges", "--exit-on-error", "--use-list", listFile.path]
        arguments += parallel ? ["--jobs=\(jobs)"] : ["--single-transaction"]
        if plan.clean && parallel { arguments += ["--clean", "--if-exists"] }
        try target.tool("pg_restore", arguments + [dump])
    }

    private func isDroppedForeignKey(_ entry: TOCEntry) -> Bool {
        plan.droppedForeignKeys.contains { $0.table.schema == entry.namespace && entry.tag == "\($0.table.name) \($0.name)" }
    }

    private func pattern(_ table: TableRef) -> String { "\(SQLText.identifier(table.schema)).\(SQLText.identifier(table.name))" }
}

/// One line of `pg_restore --list`: `ID; TABLEOID OID KIND NAMESPACE TAG OWNER`,
/// where KIND may have spaces (`FK CONSTRAINT`, `TABLE DATA`).
struct TOCEntry {
    static let kinds = [
        "FK CONSTRAINT", "TABLE DATA", "SEQUENCE SET", "SEQUENCE OWNED BY", "PUBLICATION TABLES IN SCHEMA", "PUBLICATION TABLE",
        "EVENT TRIGGER", "ROW SECURITY", "DEFAULT ACL", "MATERIALIZED VIEW DATA", "MATERIALIZED VIEW", "INDEX ATTACH",
        "CHECK CONSTRAINT", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "FOREIGN TABLE", "LARGE OBJECT",
    ]

    var kind: String
    var namespace: String
    var tag: String

    init?(_ line: String) {
        guard !line.hasPrefix(";"), let semicolon = line.firstIndex(of: ";") else { return nil }
        // After "ID;": table oid and oid, then the kind.
        let fields = line[line.index(after: semicolon)...].split(separator: " ", maxSplits: 2)
        guard fields.count == 3 else { return nil }
        let rest = String(fields[2])
        let kind = Self.kinds.first { rest.hasPrefix($0 + " ") } ?? String(rest.prefix { $0 != " " })
        var remainder = rest.dropFirst(kind.count + 1)
        let namespace = remainder.prefix { $0 != " " }
        remainder = remainder.dropFirst(namespace.count + 1)
        // The owner is the last word (pg_dump writes "-" for none).
        let tag = remainder.split(separator: " ").dropLast().joined(separator: " ")
        self.kind = kind
        self.namespace = String(namespace)
        self.tag = tag
    }
}
