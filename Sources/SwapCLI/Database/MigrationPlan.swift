import Foundation

/// What `swapctl db migrate` will move and what differs between the two
/// servers, decided from both catalogs before anything is written.
struct MigrationPlan: Sendable {
    /// Supabase's own schemas: recreated by Supabase, meaningless to the
    /// Swap services, often unreadable to the project's role.
    static let supabaseSchemas: Set<String> = [
        "storage", "realtime", "_realtime", "supabase_functions", "supabase_migrations", "extensions",
        "graphql", "graphql_public", "vault", "pgsodium", "pgsodium_masks", "pgbouncer", "net", "cron",
        "_analytics", "_supavisor", "pgtle",
    ]
    /// Extensions that serve Supabase's platform (and mostly need server
    /// configuration): never created on the target.
    static let supabaseExtensions: Set<String> = [
        "plpgsql", "pg_graphql", "pgsodium", "supabase_vault", "pg_net", "pg_stat_statements", "pg_cron",
        "pgtle", "supautils", "wrappers", "pg_stat_monitor", "index_advisor",
    ]
    /// The auth tables the gateway reads, with the columns it needs.
    static let authTables: [(table: TableRef, gatewayColumns: [String])] = [
        (TableRef(schema: "auth", name: "users"), ["id", "email", "encrypted_password"]),
        (TableRef(schema: "auth", name: "refresh_tokens"), ["token_hash", "user_id", "expires_at"]),
    ]

    struct AuthTable: Sendable {
        enum Action: Sendable, Equatable {
            /// The target lacks the table: create it from the source's definition.
            case create
            /// The target has the table: copy the columns both sides have.
            case copyInto
            case skip(String)
        }

        var table: TableRef
        var action: Action
        /// The columns copied (and compared), in the source's order.
        var columns: [String]
    }

    var source: Inventory
    var target: Inventory
    var sourceCounts: [TableRef: Int] = [:]
    var clean: Bool
    var clientMajor: Int
    var clientVersion: String

    var appSchemas: [String] = []
    var skippedSchemas: [String] = []
    var appTables: [TableRef] = []
    var authTables: [AuthTable] = []
    var authUsers: (users: Int, bcrypt: Int)?
    var authFunctionsToCreate: [String] = []
    var otherAuthTables: [TableRef] = []
    var extensionsToCreate: [ExtensionInfo] = []
    var extensionsUnavailable: [ExtensionInfo] = []
    var extensionsSkipped: [ExtensionInfo] = []
    var extensionSchemaMismatches: [(ExtensionInfo, String)] = []
    var rolesToCreate: [String] = []
    var rolesMissing: [String] = []
    var droppedForeignKeys: [ForeignKeyInfo] = []
    var authTriggersNotCopied: [(TableRef, String)] = []
    var conflicts: [TableRef] = []
    /// Source rows with NULL in a column the target's existing table declares NOT NULL.
    var nullViolations: [(table: TableRef, column: String, rows: Int)] = []

    /// Every table copied and verified, with the columns compared.
    var verifiedTables: [(table: TableRef, columns: [String])] {
        appTables.map { table in
            let targetColumns = Set((target.tables[table] ?? []).map(\.name))
            let columns = (source.tables[table] ?? []).map(\.name)
            return (table, targetColumns.isEmpty ? columns : columns.filter(targetColumns.contains))
        } + authTables.filter { !$0.isSkipped }.map { ($0.table, $0.columns) }
    }

    var copiedTables: Set<TableRef> { Set(verifiedTables.map(\.table)) }

    /// Problems that stop the copy (the dry run reports them too).
    var blockers: [String] {
        var problems: [String] = []
        if clientMajor < source.majorVersion {
            problems.append("pg_dump \(clientVersion) cannot dump a PostgreSQL \(source.majorVersion) server: "
                + "install the PostgreSQL \(source.majorVersion) client programs and pass --bin-dir")
        }
        for violation in nullViolations {
            problems.append("\(violation.rows) row\(violation.rows == 1 ? "" : "s") of \(violation.table) on the source "
                + "\(violation.rows == 1 ? "has" : "have") no \(violation.column), which the target's table requires "
                + "(move into a database where the services have not created \(violation.table) yet)")
        }
        if !conflicts.isEmpty && !clean {
            problems.append("the target already has \(conflicts.map(\.description).joined(separator: ", ")): "
                + "pass --clean to replace them (a rehearsal's copy, say)")
        }
        return problems
    }

    static func make(
        source: Inventory, target: Inventory, sourceDatabase: PostgresDatabase, targetDatabase: PostgresDatabase,
        include: Set<String>, exclude: Set<String>, clean: Bool, client: (major: Int, text: String)
    ) throws -> MigrationPlan {
        var plan = MigrationPlan(source: source, target: target, clean: clean, clientMajor: client.major, clientVersion: client.text)
        let authSeparately = !include.contains("auth")
        for schema in source.schemas {
            let isInternal = supabaseSchemas.contains(schema) || (schema == "auth" && authSeparately)
            if exclude.contains(schema) || (isInternal && !include.contains(schema)) {
                plan.skippedSchemas.append(schema)
            } else {
                plan.appSchemas.append(schema)
            }
        }
        let appSchemaSet = Set(plan.appSchemas)
        plan.appTables = source.tables.keys.filter { appSchemaSet.contains($0.schema) }.sorted()
        plan.conflicts = plan.appTables.filter { target.tables[$0] != nil }

        if authSeparately, source.schemas.contains("auth") {
            try plan.planAuth(sourceDatabase: sourceDatabase, targetDatabase: targetDatabase)
        }
        plan.sourceCounts = try Inventory.exactRowCounts(sourceDatabase, plan.verifiedTables.map(\.table))
        plan.planExtensions()
        let policyRoles = try Inventory.policyRoles(sourceDatabase, schemas: plan.appSchemas)
        plan.rolesToCreate = policyRoles.subtracting(target.roles).sorted()
        plan.rolesMissing = source.roles.subtracting(target.roles).subtracting(policyRoles).sorted()
        let copied = plan.copiedTables
        plan.droppedForeignKeys = source.foreignKeys.filter { copied.contains($0.table) && !copied.contains($0.references) }
        return plan
    }

    private mutating func planAuth(sourceDatabase: PostgresDatabase, targetDatabase: PostgresDatabase) throws {
        let wanted = Set(Self.authTables.map(\.table))
        otherAuthTables = source.tables.keys.filter { $0.schema == "auth" && !wanted.contains($0) }.sorted()
        for (table, gatewayColumns) in Self.authTables {
            guard let sourceColumns = source.tables[table] else { continue }
            let names = sourceColumns.map(\.name)
            if let targetColumns = target.tables[table] {
                let shared = names.filter { name in targetColumns.contains { $0.name == name } }
                let uncovered = targetColumns.filter { $0.notNull && !$0.hasDefault && !shared.contains($0.name) }.map(\.name)
                if !uncovered.isEmpty {
                    authTables.append(AuthTable(table: table, action: .skip(
                        "the target's table needs \(uncovered.joined(separator: ", ")), which the source's lacks"
                    ), columns: []))
                } else {
                    authTables.append(AuthTable(table: table, action: .copyInto, columns: shared))
                    let required = targetColumns.filter { column in
                        column.notNull && shared.contains(column.name) && sourceColumns.contains { $0.name == column.name && !$0.notNull }
                    }
                    for column in required {
                        let rows = try sourceDatabase.query(
                            "SELECT count(*) FROM \(table.sql) WHERE \(SQLText.identifier(column.name)) IS NULL"
                        ).first?.first.flatMap { $0.flatMap(Int.init) } ?? 0
                        if rows > 0 { nullViolations.append((table, column.name, rows)) }
                    }
                    if (try Inventory.exactRowCounts(targetDatabase, [table])[table] ?? 0) > 0 { conflicts.append(table) }
                }
            } else {
                let missing = gatewayColumns.filter { !names.contains($0) }
                if missing.isEmpty {
                    authTables.append(AuthTable(table: table, action: .create, columns: names))
                } else {
                    authTables.append(AuthTable(table: table, action: .skip(
                        "its shape is not the gateway's (no \(missing.joined(separator: ", "))); the gateway creates its own at start-up"
                    ), columns: []))
                }
            }
        }
        for auth in authTables where !auth.isSkipped {
            for trigger in source.triggers[auth.table] ?? [] { authTriggersNotCopied.append((auth.table, trigger)) }
        }
        if authTables.contains(where: { $0.table.name == "users" && !$0.isSkipped }),
           (source.tables[TableRef(schema: "auth", name: "users")] ?? []).contains(where: { $0.name == "encrypted_password" }) {
            authUsers = try Inventory.authUserCounts(sourceDatabase)
        }
        let present = Set(target.authFunctions)
        authFunctionsToCreate = source.authFunctions.filter { !present.contains($0) }
    }

    private mutating func planExtensions() {
        let installed = Dictionary(target.extensions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for ext in source.extensions {
            if Self.supabaseExtensions.contains(ext.name) {
                if installed[ext.name] == nil && ext.name != "plpgsql" { extensionsSkipped.append(ext) }
            } else if let existing = installed[ext.name] {
                if existing.schema != ext.schema { extensionSchemaMismatches.append((ext, existing.schema)) }
            } else if target.availableExtensions[ext.name] != nil {
                extensionsToCreate.append(ext)
            } else {
                extensionsUnavailable.append(ext)
            }
        }
    }
}

extension MigrationPlan.AuthTable {
    var isSkipped: Bool {
        if case .skip = action { return true }
        return false
    }
}
