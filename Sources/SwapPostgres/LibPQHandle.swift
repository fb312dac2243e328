import CLibPQ
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sole owner of one `PGconn`, and the only place that calls libpq.
///
/// `@unchecked Sendable` (the one such box for libpq): the handle is created
/// on its connection's ``BlockingWorker`` thread and every method below runs
/// there, one call at a time; the reference only travels between threads
/// inside the worker's submit and resume. `PQfinish` runs in ``finish()`` or,
/// at the latest, in `deinit`, when nothing else can hold the handle.
final class LibPQHandle: @unchecked Sendable {
    private var connection: OpaquePointer?
    private let logger: Logger
    /// Set by the notice receiver when the server announced it is closing
    /// the session (a FATAL message while idle, e.g. on shutdown).
    private var serverSaidGoodbye = false

    private init(connection: OpaquePointer, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    deinit {
        self.finish()
    }

    /// Connects with `PQconnectdbParams`; the `PGconn` is freed on failure too.
    static func connect(parameters: [(String, String)], logger: Logger) throws(PostgresError) -> LibPQHandle {
        let connection = withCStrings(parameters.map(\.0)) { keywords in
            withCStrings(parameters.map(\.1)) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let connection else {
            throw PostgresError(kind: .connectionFailed, details: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let details = String(cString: PQerrorMessage(connection))
            // libpq allocates the PGconn even when connecting fails.
            PQfinish(connection)
            throw PostgresError(kind: .connectionFailed, details: details.trimmed)
        }
        let handle = LibPQHandle(connection: connection, logger: logger)
        // The handle outlives the PGconn it owns, so an unretained pointer is safe.
        PQsetNoticeReceiver(connection, { context, result in
            guard let context, let result else { return }
            Unmanaged<LibPQHandle>.fromOpaque(context).takeUnretainedValue().receiveNotice(result)
        }, Unmanaged.passUnretained(handle).toOpaque())
        return handle
    }

    /// Closes the session; safe to call more than once.
    func finish() {
        guard let connection else { return }
        self.connection = nil
        PQfinish(connection)
    }

    /// Runs one statement with `PQexecParams` (text format both ways) and
    /// copies the result into Swift values.
    func execute(_ sql: String, binds: [String?], types: [PostgresDataType]) throws(PostgresError) -> PostgresRows {
        let connection = try self.open()
        // libpq stops at the first NUL byte: refuse rather than silently truncate a value.
        for bind in binds where bind?.utf8.contains(0) == true {
            throw PostgresError(kind: .invalidInput, details: "a bind value contains a NUL byte")
        }
        guard binds.count <= Int(UInt16.max) else {
            throw PostgresError(kind: .invalidInput, details: "more than 65535 bind values")
        }
        let oids: [Oid] = types.map { Oid($0.oid) }
        let result = withCStrings(binds) { values in
            PQexecParams(connection, sql, Int32(binds.count), oids, values, nil, nil, 0)
        }
        return try self.consume(result, connection: connection)
    }

    /// Runs trusted SQL text that may hold several statements, with `PQexec`.
    func executeScript(_ sql: String) throws(PostgresError) {
        let connection = try self.open()
        _ = try self.consume(PQexec(connection, sql), connection: connection)
    }

    /// Whether the idle session can be handed out again: open, outside any
    /// transaction, and with no goodbye from the server waiting on the socket.
    func isReusable() -> Bool {
        guard let connection, !self.serverSaidGoodbye,
              PQstatus(connection) == CONNECTION_OK, PQtransactionStatus(connection) == PQTRANS_IDLE
        else { return false }
        let socket = PQsocket(connection)
        guard socket >= 0 else { return false }
        // An idle server only writes to say it is closing the session; a few
        // rounds read the FATAL notice and then the end of the stream.
        for _ in 0..<4 {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 0)
            if ready == 0 { break }
            if ready < 0 { return false }
            guard PQconsumeInput(connection) == 1 else { return false }
            while let notification = PQnotifies(connection) {
                PQfreemem(notification)
            }
        }
        return !self.serverSaidGoodbye && PQstatus(connection) == CONNECTION_OK
    }

    /// Whether a transaction block is open (or failed and awaiting ROLLBACK).
    func isInTransaction() -> Bool {
        guard let connection else { return false }
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    private func open() throws(PostgresError) -> OpaquePointer {
        guard let connection else { throw PostgresError(kind: .connectionClosed) }
        return connection
    }

    private func consume(_ result: OpaquePointer?, connection: OpaquePointer) throws(PostgresError) -> PostgresRows {
        guard let result else {
            // NULL: out of memory, or the statement could not even be sent.
            let kind: PostgresError.Kind = PQstatus(connection) == CONNECTION_OK ? .server : .connectionLost
            throw PostgresError(kind: kind, details: String(cString: PQerrorMessage(connection)).trimmed)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return Self.copyRows(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // The session is now inside a COPY this wrapper cannot drive; drop it.
            self.finish()
            throw PostgresError(kind: .unsupported, details: "COPY is not supported")
        default:
            throw self.error(from: result, connection: connection)
        }
    }

    private func error(from result: OpaquePointer, connection: OpaquePointer) -> PostgresError {
        let sqlState = Self.field(result, diagnosticSQLState)
        let constraint = Self.field(result, diagnosticConstraint)
        let details = String(cString: PQresultErrorMessage(result)).trimmed
        var kind = sqlState.map(PostgresError.Kind.init(sqlState:)) ?? .server
        if PQstatus(connection) != CONNECTION_OK {
            kind = .connectionLost
        }
        return PostgresError(kind: kind, sqlState: sqlState, constraint: constraint, details: details)
    }

    private func receiveNotice(_ result: OpaquePointer) {
        let severity = Self.field(result, diagnosticSeverity) ?? "NOTICE"
        let message = String(cString: PQresultErrorMessage(result)).trimmed
        if severity == "FATAL" || severity == "PANIC" {
            self.serverSaidGoodbye = true
        }
        self.logger.debug("postgres notice", metadata: ["severity": "\(severity)", "message": "\(message)"])
    }

    private static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        guard let value = PQresultErrorField(result, code) else { return nil }
        return String(cString: value)
    }

    private static func copyRows(_ result: OpaquePointer) -> PostgresRows {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        var columns = [PostgresColumn]()
        columns.reserveCapacity(Int(columnCount))
        for column in 0..<columnCount {
            let name = PQfname(result, column).map { String(cString: $0) } ?? ""
            columns.append(PostgresColumn(name: name, dataType: PostgresDataType(oid: UInt32(PQftype(result, column)))))
        }
        var rows = [[String?]]()
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values = [String?]()
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
            rows.append(values)
        }
        let tag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        return PostgresRows(
            layout: PostgresColumnLayout(columns: columns), values: rows, commandTag: tag, affectedRows: affected
        )
    }
}

// libpq's PG_DIAG_* field codes are character macros, which Swift does not import.
private let diagnosticSQLState = Int32(UInt8(ascii: "C"))
private let diagnosticConstraint = Int32(UInt8(ascii: "n"))
private let diagnosticSeverity = Int32(UInt8(ascii: "V"))

/// Lends `strings` to C as a NULL-terminated `const char *const *`; `nil`
/// entries stay NULL (SQL NULL for bind values).
private func withCStrings<Result>(
    _ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> Result
) -> Result {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer {
        for copy in copies { free(copy) }
    }
    return body(copies.map { $0.map { UnsafePointer($0) } } + [nil])
}

extension String {
    /// libpq messages end with a newline.
    var trimmed: String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
