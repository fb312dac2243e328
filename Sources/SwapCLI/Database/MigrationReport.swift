import Foundation

/// The plan as people read it: what moves (tables with row counts), what
/// stays behind, and what differs between the two servers.
enum MigrationReport {
    static func text(_ plan: MigrationPlan, source: PostgresDatabase, target: PostgresDatabase, jobs: Int, showBlockers: Bool = true) -> String {
        var lines: [String] = []
        lines.append("Source  \(source.url.masked)  PostgreSQL \(plan.source.version) (as \(plan.source.user))")
        lines.append("Target  \(target.url.masked)  PostgreSQL \(plan.target.version) (as \(plan.target.user))")
        lines.append("Client  pg_dump and pg_restore \(plan.clientVersion) (\(source.clients.directory))")
        lines.append("")

        lines.append("Moves: schemas \(list(plan.appSchemas)) with pg_dump -Fd -j \(jobs) | pg_restore -j \(jobs) (--no-owner --no-privileges)")
        var rows: [[String]] = [["TABLE", "ROWS", ""]]
        for table in plan.appTables {
            rows.append([table.description, count(plan.sourceCounts[table]), ""])
        }
        for auth in plan.authTables {
            switch auth.action {
            case .create:
                rows.append([auth.table.description, count(plan.sourceCounts[auth.table]), "created on the target" + userNote(plan, auth)])
            case .copyInto:
                let left = (plan.source.tables[auth.table] ?? []).map(\.name).filter { !auth.columns.contains($0) }
                let columns = left.isEmpty ? "every column" : "columns it has (not \(left.joined(separator: ", ")))"
                rows.append([auth.table.description, count(plan.sourceCounts[auth.table]), "into the target's table, \(columns)" + userNote(plan, auth)])
            case let .skip(reason):
                rows.append([auth.table.description, "-", "not copied: \(reason)"])
            }
        }
        lines += table(rows).map { "  " + $0 }
        if !plan.authFunctionsToCreate.isEmpty {
            lines.append("  auth functions created on the target (policies call them): \(plan.authFunctionsToCreate.joined(separator: ", "))")
        }
        lines.append("")

        lines.append("Stays behind:")
        let skipped = plan.skippedSchemas.filter { $0 != "auth" || plan.authTables.isEmpty }.map { schema -> String in
            let tables = plan.source.tables.keys.filter { $0.schema == schema }
            return tables.isEmpty ? schema : "\(schema) (\(tables.count) table\(tables.count == 1 ? "" : "s"))"
        }
        lines.append("  schemas: \(list(skipped)) (--include-schema NAME copies one)")
        if !plan.otherAuthTables.isEmpty {
            lines.append("  auth tables: " + plan.otherAuthTables.map { table in
                plan.source.estimatedRows[table].map { "\(table) (~\($0) rows)" } ?? table.description
            }.joined(separator: ", "))
            lines.append("    (Supabase sessions, identities and factors: users sign in again with their passwords)")
        }
        if !plan.authTriggersNotCopied.isEmpty {
            lines.append("  triggers on auth tables: " + plan.authTriggersNotCopied.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                + " (recreate them after the move if still wanted)")
        }
        lines.append("")

        lines.append("Differences:")
        var differences: [String] = []
        let versions = "server versions: source \(plan.source.version), target \(plan.target.version)"
        if plan.source.majorVersion != plan.target.majorVersion {
            differences.append(versions + (plan.target.majorVersion < plan.source.majorVersion
                ? " (the target is older: objects using newer features will fail to restore)" : " (major upgrade)"))
        } else if plan.source.version != plan.target.version {
            differences.append(versions + " (same major version)")
        }
        if !plan.extensionsToCreate.isEmpty {
            differences.append("extensions missing on the target, created there: "
                + plan.extensionsToCreate.map { "\($0.name) \($0.version) (schema \($0.schema))" }.joined(separator: ", "))
        }
        if !plan.extensionsUnavailable.isEmpty {
            differences.append("extensions missing on the target and NOT available there: "
                + plan.extensionsUnavailable.map { "\($0.name) \($0.version)" }.joined(separator: ", ")
                + " (objects that use them will fail to restore)")
        }
        if !plan.extensionSchemaMismatches.isEmpty {
            differences.append("extensions in another schema on the target: "
                + plan.extensionSchemaMismatches.map { "\($0.0.name) (source \($0.0.schema), target \($0.1))" }.joined(separator: ", "))
        }
        if !plan.extensionsSkipped.isEmpty {
            differences.append("Supabase platform extensions, not created: " + plan.extensionsSkipped.map(\.name).joined(separator: ", "))
        }
        if !plan.rolesToCreate.isEmpty {
            differences.append("roles named by row-level security policies, created NOLOGIN on the target: " + plan.rolesToCreate.joined(separator: ", "))
        }
        if !plan.rolesMissing.isEmpty {
            differences.append("roles missing on the target, not needed (owners and grants are not copied): " + plan.rolesMissing.joined(separator: ", "))
        }
        if !plan.droppedForeignKeys.isEmpty {
            differences.append("foreign keys to tables that stay behind, not created: "
                + plan.droppedForeignKeys.map { "\($0.table) \($0.name) -> \($0.references)" }.joined(separator: ", "))
        }
        if !plan.conflicts.isEmpty {
            differences.append("already on the target: \(plan.conflicts.map(\.description).joined(separator: ", "))"
                + (plan.clean ? " (replaced: --clean)" : ""))
        }
        lines += differences.isEmpty ? ["  none"] : differences.map { "  " + $0 }
        if showBlockers { for blocker in plan.blockers { lines.append("error: \(blocker)") } }
        return lines.joined(separator: "\n")
    }

    private static func userNote(_ plan: MigrationPlan, _ auth: MigrationPlan.AuthTable) -> String {
        guard auth.table.name == "users", let users = plan.authUsers else { return "" }
        return "; \(users.bcrypt) of \(users.users) users with a bcrypt password hash (encrypted_password)"
    }

    private static func count(_ value: Int?) -> String { value.map(String.init) ?? "?" }

    private static func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: ", ") }

    /// Left-aligned columns, numbers right-aligned.
    static func table(_ rows: [[String]]) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                let numeric = !cell.isEmpty && cell.allSatisfy { $0.isNumber || $0 == "-" || $0 == "?" }
                return numeric ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }
}
