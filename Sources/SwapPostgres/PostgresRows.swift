/// A column of a result: its name and its server type.
public struct PostgresColumn: Sendable, Hashable {
    /// The column name (or alias) as the server reports it.
    public let name: String
    /// The column's type.
    public let dataType: PostgresDataType
}

/// The columns of one result, shared by its rows.
final class PostgresColumnLayout: Sendable {
    let columns: [PostgresColumn]
    private let indexByName: [String: Int]

    init(columns: [PostgresColumn]) {
        self.columns = columns
        var indexByName = [String: Int]()
        // The first column of a name wins, as in `SELECT a.id, b.id`.
        for (index, column) in columns.enumerated() where indexByName[column.name] == nil {
            indexByName[column.name] = index
        }
        self.indexByName = indexByName
    }

    func index(of name: String) -> Int? { self.indexByName[name] }
}

/// The outcome of one statement: its rows (copied out of libpq at once) and
/// its command tag.
public struct PostgresRows: Sendable, RandomAccessCollection {
    let layout: PostgresColumnLayout
    let values: [[String?]]
    /// The command tag, such as `INSERT 0 1` or `SELECT 3`.
    public let commandTag: String
    /// Rows inserted, updated, deleted or selected (0 when not applicable).
    public let affectedRows: Int

    init(layout: PostgresColumnLayout, values: [[String?]], commandTag: String, affectedRows: Int) {
        self.layout = layout
        self.values = values
        self.commandTag = commandTag
        self.affectedRows = affectedRows
    }

    /// The result's columns.
    public var columns: [PostgresColumn] { self.layout.columns }
    public var startIndex: Int { self.values.startIndex }
    public var endIndex: Int { self.values.endIndex }

    public subscript(position: Int) -> PostgresRow {
        PostgresRow(layout: self.layout, values: self.values[position])
    }
}

/// One row, decoded on demand into Swift types.
///
/// ```swift
/// let name = try row.decode(String.self, column: "name")
/// let (id, name, balance) = try row.decode((UUID, String, Int64).self)
/// ```
public struct PostgresRow: Sendable {
    let layout: PostgresColumnLayout
    let values: [String?]

    /// The row's columns.
    public var columns: [PostgresColumn] { self.layout.columns }

    /// Whether the value at `column` is SQL NULL.
    public func isNull(column: Int) throws(PostgresDecodingError) -> Bool {
        guard self.values.indices.contains(column) else {
            throw PostgresDecodingError(kind: .missingColumn, column: String(column), type: "")
        }
        return self.values[column] == nil
    }

    /// Decodes the value at a zero-based column index.
    public func decode<Value: PostgresDecodable>(
        _ type: Value.Type, column: Int
    ) throws(PostgresDecodingError) -> Value {
        guard self.values.indices.contains(column) else {
            throw PostgresDecodingError(kind: .missingColumn, column: String(column), type: "\(Value.self)")
        }
        return try self.decodeValue(Value.self, at: column)
    }

    /// Decodes the value of the first column with this name.
    public func decode<Value: PostgresDecodable>(
        _ type: Value.Type, column name: String
    ) throws(PostgresDecodingError) -> Value {
        guard let index = self.layout.index(of: name) else {
            throw PostgresDecodingError(kind: .missingColumn, column: name, type: "\(Value.self)")
        }
        return try self.decodeValue(Value.self, at: index)
    }

    /// Decodes every column, in order, into a tuple; the row must have
    /// exactly as many columns as the tuple has elements.
    public func decode<each Value: PostgresDecodable>(
        _ types: (repeat each Value).Type
    ) throws(PostgresDecodingError) -> (repeat each Value) {
        var expected = 0
        for _ in repeat (each Value).self {
            expected += 1
        }
        guard expected == self.values.count else {
            throw PostgresDecodingError(
                kind: .columnCountMismatch, column: String(self.values.count), type: "\(types)"
            )
        }
        var index = 0
        func next<Element: PostgresDecodable>(_ type: Element.Type) throws(PostgresDecodingError) -> Element {
            defer { index += 1 }
            return try self.decodeValue(Element.self, at: index)
        }
        return (repeat try next((each Value).self))
    }

    private func decodeValue<Value: PostgresDecodable>(
        _ type: Value.Type, at index: Int
    ) throws(PostgresDecodingError) -> Value {
        guard let text = self.values[index] else {
            guard let null = Value.postgresNull else {
                throw PostgresDecodingError(kind: .unexpectedNull, column: self.columnName(index), type: "\(Value.self)")
            }
            return null
        }
        guard let value = Value(postgresText: text) else {
            throw PostgresDecodingError(kind: .typeMismatch, column: self.columnName(index), type: "\(Value.self)")
        }
        return value
    }

    private func columnName(_ index: Int) -> String {
        self.layout.columns.indices.contains(index) ? self.layout.columns[index].name : String(index)
    }
}
