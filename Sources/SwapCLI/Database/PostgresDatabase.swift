import Foundation

/// One database reached through the psql CLI: catalog queries and SQL
/// scripts for the migration. Values travel as text; the password only in
/// the child's environment.
struct PostgresDatabase: Sendable {
    let url: DatabaseURL
    let clients: PostgresClients
    /// "source" or "target", for messages.
    let role: String

    /// Session settings that make text output identical on every server
    /// (time zone, date and interval styles, float digits, bytea format), so
    /// that checksums of the same rows match on both sides.
    static let sessionSettings = """
        SET TimeZone = 'UTC';
        SET DateStyle = 'ISO, YMD';
        SET IntervalStyle = 'postgres';
        SET extra_float_digits = 1;
        SET bytea_output = 'hex';
        SET statement_timeout = 0;

        """

    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Rows of one statement, each a list of column texts (NULL as nil).
    func query(_ sql: String) throws -> [[String?]] {
        // psql writes NULL as the null string: a character no text value holds.
        let null = "\u{1}"
        let run = try ToolRunner.run(clients.path("psql"), [
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-P", "null=\(null)",
            "-F", "\u{1F}", "-0", "--dbname", url.withoutPassword, "-f", "-",
        ], environment: url.clientEnvironment, input: Self.sessionSettings + sql + "\n")
        guard run.status == 0 else { throw failure(run.stderr) }
        var text = run.stdout
        if text.hasSuffix("\n") { text.removeLast() }
        return text.split(separator: "\0", omittingEmptySubsequences: true).map { record in
            record.split(separator: "\u{1F}", omittingEmptySubsequences: false).map { $0 == null ? nil : String($0) }
        }
    }

    /// Runs SQL statements (in one transaction when asked), for their effect.
    func execute(_ sql: String, singleTransaction: Bool = false) throws {
        var arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", url.withoutPassword, "-f", "-"]
        if singleTransaction { arguments.insert("--single-transaction", at: 0) }
        let run = try ToolRunner.run(clients.path("psql"), arguments, environment: url.clientEnvironment, input: Self.sessionSettings + sql + "\n")
        guard run.status == 0 else { throw failure(run.stderr) }
    }

    /// Runs pg_dump or pg_restore against this database.
    func tool(_ name: String, _ arguments: [String]) throws {
        let run = try ToolRunner.run(clients.path(name), arguments + ["--dbname", url.withoutPassword], environment: url.clientEnvironment)
        guard run.status == 0 else { throw failure(run.stderr, tool: name) }
    }

    func failure(_ stderr: String, tool: String = "psql") -> Failure {
        let lines = url.scrub(stderr).split(separator: "\n").suffix(20).joined(separator: "\n")
        return Failure(message: "\(tool) on the \(role) (\(url.masked)) failed:\n\(lines)")
    }
}

/// SQL text helpers: identifiers and literals built from catalog names.
enum SQLText {
    static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func table(_ schema: String, _ name: String) -> String { "\(identifier(schema)).\(identifier(name))" }
}
