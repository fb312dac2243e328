/// A PostgreSQL type, by OID, as sent with a bind or read from a column.
public struct PostgresDataType: Sendable, Hashable, CustomStringConvertible {
    /// The type's OID in `pg_type`.
    public let oid: UInt32

    public init(oid: UInt32) {
        self.oid = oid
    }

    /// Lets the server infer the parameter's type from the statement.
    public static let unknown = PostgresDataType(oid: 0)
    public static let bool = PostgresDataType(oid: 16)
    public static let bytea = PostgresDataType(oid: 17)
    public static let int8 = PostgresDataType(oid: 20)
    public static let int2 = PostgresDataType(oid: 21)
    public static let int4 = PostgresDataType(oid: 23)
    public static let text = PostgresDataType(oid: 25)
    public static let float8 = PostgresDataType(oid: 701)
    public static let varchar = PostgresDataType(oid: 1043)
    public static let date = PostgresDataType(oid: 1082)
    public static let timestamp = PostgresDataType(oid: 1114)
    public static let timestamptz = PostgresDataType(oid: 1184)
    public static let uuid = PostgresDataType(oid: 2950)
    public static let jsonb = PostgresDataType(oid: 3802)

    public var description: String { "oid \(self.oid)" }
}

/// A Swift value that can be sent as a bind parameter in text format.
public protocol PostgresEncodable: Sendable {
    /// The type sent with the bind; ``PostgresDataType/unknown`` lets the
    /// server infer it (what `String` uses, so text binds fit uuid, jsonb or
    /// enum columns).
    static var postgresDataType: PostgresDataType { get }
    /// The value in PostgreSQL's text input format.
    var postgresText: String { get }
}

/// A Swift value that can be read from a column in text format.
public protocol PostgresDecodable {
    /// Parses PostgreSQL's text output; `nil` when the text is not a valid value.
    init?(postgresText text: String)
    /// The value SQL NULL decodes to, or `nil` when the type cannot hold NULL.
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNull: Self? { nil }
}

/// A type that can be both bound and decoded.
public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init?(postgresText text: String) {
        guard let value = Wrapped(postgresText: text) else { return nil }
        self = .some(value)
    }

    public static var postgresNull: Wrapped?? { .some(.none) }
}
