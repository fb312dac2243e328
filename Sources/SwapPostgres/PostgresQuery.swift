/// A statement and its bind values, sent with `PQexecParams`.
///
/// Build it with string interpolation: every interpolated value becomes a
/// `$n` parameter, so values never become SQL text.
///
/// ```swift
/// let rows = try await pool.query("SELECT name FROM users WHERE id = \(id) AND org = \(org)")
/// // sql: SELECT name FROM users WHERE id = $1 AND org = $2
/// ```
///
/// Identifiers that come from code (never from input) can be spliced with
/// `\(identifier: "table_name")` (quoted) or `\(unsafeRaw: "...")` (verbatim).
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation {
    /// The SQL text with `$n` placeholders.
    public private(set) var sql: String
    /// The bind values in text format; `nil` is SQL NULL.
    public private(set) var binds: [String?]
    /// The bind types, one per value (`0` lets the server infer it).
    public private(set) var bindTypes: [PostgresDataType]

    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
        self.bindTypes = []
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
        self.bindTypes = stringInterpolation.bindTypes
    }

    /// A statement written in code that may contain no placeholders of its own.
    ///
    /// Never pass text that contains user input: it is sent as SQL.
    public static func unsafeRaw(_ sql: String) -> PostgresQuery {
        PostgresQuery(stringLiteral: sql)
    }

    /// Collects literal SQL and turns interpolated values into binds.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var sql: String
        var binds: [String?] = []
        var bindTypes: [PostgresDataType] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            self.sql = ""
            self.sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) {
            self.sql += literal
        }

        /// Appends `$n` and binds `value` to it.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            self.bind(value.postgresText, type: Value.postgresDataType)
        }

        /// Appends `$n` and binds `value`, or SQL NULL when it is `nil`.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            self.bind(value?.postgresText, type: Value.postgresDataType)
        }

        /// Appends a double-quoted identifier (table, column), escaping quotes.
        /// For names from code; it cannot bind a value.
        public mutating func appendInterpolation(identifier: String) {
            self.sql += "\"" + identifier.replacingAll("\"", with: "\"\"") + "\""
        }

        /// Appends text verbatim as SQL. Only for fragments from code.
        public mutating func appendInterpolation(unsafeRaw sql: String) {
            self.sql += sql
        }

        private mutating func bind(_ text: String?, type: PostgresDataType) {
            self.binds.append(text)
            self.bindTypes.append(type)
            self.sql += "$\(self.binds.count)"
        }
    }
}

extension String {
    /// `replacingOccurrences` without importing Foundation into the query path.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(self.utf8.count)
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
