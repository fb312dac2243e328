import Foundation

/// Row counts and content checksums of the moved tables, on both sides.
///
/// A table's checksum is order-independent: each row's text (`ROW(columns)::text`,
/// under the identical session settings of ``PostgresDatabase/sessionSettings``)
/// is hashed with md5, and the hashes' two 64-bit halves are summed. It needs
/// no primary key, no sort, no collation agreement between the servers, and
/// no memory beyond one row, so it scales to tables of any size; a changed,
/// missing or extra row changes it.
enum TableVerification {
    struct Side: Equatable {
        var rows: Int
        var checksum: String
    }

    struct Comparison {
        var table: TableRef
        var source: Side?
        var target: Side?
        var matches: Bool { source != nil && source == target }
    }

    static func checksums(_ database: PostgresDatabase, _ tables: [(table: TableRef, columns: [String])]) throws -> [TableRef: Side] {
        guard !tables.isEmpty else { return [:] }
        let sql = tables.enumerated().map { index, entry in
            let row = entry.columns.isEmpty ? "t" : "ROW(" + entry.columns.map { "t." + SQLText.identifier($0) }.joined(separator: ", ") + ")"
            return """
                SELECT \(index), count(*), md5(coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint), 0)::text || ':' \
                || coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint), 0)::text) \
                FROM (SELECT md5(\(row)::text) AS h FROM \(entry.table.sql) AS t) AS hashed
                """
        }.joined(separator: "\nUNION ALL\n")
        var result: [TableRef: Side] = [:]
        for row in try database.query(sql) where row.count == 3 {
            guard let index = Int(row[0] ?? ""), index < tables.count else { continue }
            result[tables[index].table] = Side(rows: Int(row[1] ?? "") ?? -1, checksum: row[2] ?? "")
        }
        return result
    }

    /// Compares every table of `tables`; a table the target lacks is a difference.
    static func compare(
        _ tables: [(table: TableRef, columns: [String])], source: PostgresDatabase, target: PostgresDatabase, targetTables: Set<TableRef>
    ) throws -> [Comparison] {
        let sourceSides = try checksums(source, tables)
        let targetSides = try checksums(target, tables.filter { targetTables.contains($0.table) })
        return tables.map { Comparison(table: $0.table, source: sourceSides[$0.table], target: targetSides[$0.table]) }
    }

    static func render(_ comparisons: [Comparison]) -> String {
        var rows: [[String]] = [["TABLE", "SOURCE ROWS", "TARGET ROWS", "SOURCE CHECKSUM", "TARGET CHECKSUM", ""]]
        for comparison in comparisons {
            let status: String
            if comparison.matches {
                status = "ok"
            } else if comparison.target == nil {
                status = "DIFFERS: missing on the target"
            } else if comparison.source?.rows != comparison.target?.rows {
                status = "DIFFERS: row count"
            } else {
                status = "DIFFERS: contents"
            }
            rows.append([
                comparison.table.description,
                comparison.source.map { String($0.rows) } ?? "-",
                comparison.target.map { String($0.rows) } ?? "-",
                comparison.source.map { String($0.checksum.prefix(12)) } ?? "-",
                comparison.target.map { String($0.checksum.prefix(12)) } ?? "-",
                status,
            ])
        }
        return MigrationReport.table(rows).map { "  " + $0 }.joined(separator: "\n")
    }
}
