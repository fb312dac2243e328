import Foundation

/// A table by schema and name.
struct TableRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    var schema: String
    var name: String

    var description: String { "\(schema).\(name)" }
    var sql: String { SQLText.table(schema, name) }

    static func < (lhs: TableRef, rhs: TableRef) -> Bool { (lhs.schema, lhs.name) < (rhs.schema, rhs.name) }
}

struct ColumnInfo: Sendable, Equatable {
    var name: String
    var notNull: Bool
    var hasDefault: Bool
}

struct ExtensionInfo: Sendable, Equatable {
    var name: String
    var version: String
    var schema: String
}

struct ForeignKeyInfo: Sendable, Equatable {
    var table: TableRef
    var name: String
    var references: TableRef
}

/// What one database holds, read from its catalog: enough to plan a move
/// and to compare two servers. Row counts are estimates here; exact counts
/// are taken only for the tables that move (see ``exactRowCounts``).
struct Inventory: Sendable {
    var version: String
    var versionNumber: Int
    var user: String
    var superuser: Bool
    /// Schemas that are neither PostgreSQL's own nor created by an extension.
    var schemas: [String]
    var tables: [TableRef: [ColumnInfo]]
    var estimatedRows: [TableRef: Int]
    var extensions: [ExtensionInfo]
    /// Extensions the server could create: name -> default version.
    var availableExtensions: [String: String]
    var roles: Set<String>
    var foreignKeys: [ForeignKeyInfo]
    /// User triggers by table.
    var triggers: [TableRef: [String]]
    /// Functions of the auth schema as `name(argument types)`.
    var authFunctions: [String]

    var majorVersion: Int { versionNumber / 10000 }

    static func read(_ database: PostgresDatabase) throws -> Inventory {
        let server = try database.query("""
            SELECT current_setting('server_version'), current_setting('server_version_num'), current_user,
                   (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)::text
            """)
        guard let first = server.first, first.count == 4 else {
            throw PostgresDatabase.Failure(message: "cannot read the server version of the \(database.role)")
        }
        var inventory = Inventory(
            version: first[0] ?? "?", versionNumber: Int(first[1] ?? "") ?? 0, user: first[2] ?? "?", superuser: first[3] == "true",
            schemas: [], tables: [:], estimatedRows: [:], extensions: [], availableExtensions: [:], roles: [], foreignKeys: [],
            triggers: [:], authFunctions: []
        )
        inventory.schemas = try database.query("""
            SELECT n.nspname FROM pg_namespace n
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
              AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                              AND d.objid = n.oid AND d.deptype = 'e')
            ORDER BY 1
            """).compactMap { $0.first ?? nil }
        // Ordinary and partitioned tables, minus those an extension owns
        // (PostGIS's spatial_ref_sys comes back with CREATE EXTENSION).
        for row in try database.query("""
            SELECT n.nspname, c.relname, a.attname, a.attnotnull::text, a.atthasdef::text, c.reltuples::bigint::text
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relkind IN ('r', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY n.nspname, c.relname, a.attnum
            """) where row.count == 6 {
            let table = TableRef(schema: row[0] ?? "", name: row[1] ?? "")
            inventory.tables[table, default: []].append(ColumnInfo(name: row[2] ?? "", notNull: row[3] == "true", hasDefault: row[4] == "true"))
            // reltuples is -1 until the table is first analyzed.
            if let estimate = Int(row[5] ?? ""), estimate >= 0 { inventory.estimatedRows[table] = estimate }
        }
        inventory.extensions = try database.query("""
            SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1
            """).map { ExtensionInfo(name: $0[0] ?? "", version: $0[1] ?? "", schema: $0[2] ?? "") }
        for row in try database.query("SELECT name, coalesce(default_version, '') FROM pg_available_extensions") {
            inventory.availableExtensions[row[0] ?? ""] = row[1] ?? ""
        }
        inventory.roles = Set(try database.query("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_'").compactMap { $0.first ?? nil })
        inventory.foreignKeys = try database.query("""
            SELECT n.nspname, c.relname, con.conname, fn.nspname, fc.relname
            FROM pg_constraint con
            JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_class fc ON fc.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
            WHERE con.contype = 'f'
            ORDER BY 1, 2, 3
            """).map {
            ForeignKeyInfo(table: TableRef(schema: $0[0] ?? "", name: $0[1] ?? ""), name: $0[2] ?? "",
                           references: TableRef(schema: $0[3] ?? "", name: $0[4] ?? ""))
        }
        for row in try database.query("""
            SELECT n.nspname, c.relname, t.tgname FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            ORDER BY 1, 2, 3
            """) {
            inventory.triggers[TableRef(schema: row[0] ?? "", name: row[1] ?? ""), default: []].append(row[2] ?? "")
        }
        inventory.authFunctions = try database.query("""
            SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'auth'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            ORDER BY 1
            """).compactMap { $0.first ?? nil }
        return inventory
    }

    /// Roles that row-level security policies on tables of `schemas` name.
    static func policyRoles(_ database: PostgresDatabase, schemas: [String]) throws -> Set<String> {
        guard !schemas.isEmpty else { return [] }
        let list = schemas.map(SQLText.literal).joined(separator: ", ")
        return Set(try database.query("""
            SELECT DISTINCT r.rolname FROM pg_policy p
            JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL unnest(p.polroles) AS role_oid
            JOIN pg_roles r ON r.oid = role_oid
            WHERE n.nspname IN (\(list))
            """).compactMap { $0.first ?? nil })
    }

    /// Exact `count(*)` of each table, in one statement.
    static func exactRowCounts(_ database: PostgresDatabase, _ tables: [TableRef]) throws -> [TableRef: Int] {
        guard !tables.isEmpty else { return [:] }
        let sql = tables.enumerated().map { index, table in
            "SELECT \(index), count(*) FROM \(table.sql)"
        }.joined(separator: "\nUNION ALL ")
        var counts: [TableRef: Int] = [:]
        for row in try database.query(sql) where row.count == 2 {
            if let index = Int(row[0] ?? ""), index < tables.count { counts[tables[index]] = Int(row[1] ?? "") ?? 0 }
        }
        return counts
    }

    /// Users of `auth.users` and how many carry a bcrypt password hash.
    static func authUserCounts(_ database: PostgresDatabase) throws -> (users: Int, bcrypt: Int) {
        let row = try database.query("""
            SELECT count(*), count(*) FILTER (WHERE encrypted_password LIKE '$2%') FROM auth.users
            """).first
        return (Int(row?[0] ?? "") ?? 0, Int(row?[1] ?? "") ?? 0)
    }
}
