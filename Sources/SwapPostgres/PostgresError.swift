import ConnectionPooling

/// A failure from the database, the connection or the pool.
///
/// `description` is safe to show to a client or to put in an HTTP error: it
/// names the kind of failure and the SQLSTATE, never a server message (which
/// can quote row data). ``details`` carries the full message for logs, like
/// postgres-nio keeps its details out of `description`.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, as far as callers need to branch on it.
    public enum Kind: Sendable, Hashable {
        /// Connecting failed (server down, authentication, bad configuration).
        case connectionFailed
        /// The server went away during a call; the connection is discarded.
        case connectionLost
        /// The connection was closed by this process before the call.
        case connectionClosed
        /// No pooled connection became free within the checkout timeout.
        case poolTimeout
        /// The pool was closed.
        case poolClosed
        /// 23505: a unique constraint or index was violated.
        case uniqueViolation
        /// 23503: a foreign key was violated.
        case foreignKeyViolation
        /// 23514: a check constraint was violated.
        case checkViolation
        /// 23502: a NOT NULL column received null.
        case notNullViolation
        /// 23P01: an exclusion constraint was violated.
        case exclusionViolation
        /// 40001: a serializable transaction could not be serialized.
        case serializationFailure
        /// 40P01: the server broke a deadlock by failing this transaction.
        case deadlockDetected
        /// 57014: the statement was cancelled, usually by `statement_timeout`.
        case queryCanceled
        /// 55P03: `NOWAIT` or `lock_timeout` could not take a lock.
        case lockNotAvailable
        /// Class 22: a value was invalid for its type (or held a NUL byte).
        case invalidInput
        /// Class 42: syntax error, unknown table or column, missing privilege.
        case invalidStatement
        /// `COMMIT` found the transaction already aborted by an earlier error.
        case transactionAborted
        /// The server answered in a way this wrapper does not handle (COPY).
        case unsupported
        /// Any other server error; see ``PostgresError/sqlState``.
        case server
    }

    /// What went wrong.
    public let kind: Kind
    /// The five-character SQLSTATE, when the server sent one.
    public let sqlState: String?
    /// The constraint named by the server, when there is one (for logs and
    /// for mapping a violation to a field; not for clients verbatim).
    public let constraint: String?
    /// The server's or libpq's message. For logs only: it can contain data.
    public let details: String

    init(kind: Kind, sqlState: String? = nil, constraint: String? = nil, details: String = "") {
        self.kind = kind
        self.sqlState = sqlState
        self.constraint = constraint
        self.details = details
    }

    /// True for failures the whole transaction may be retried after.
    public var isRetryableTransactionFailure: Bool {
        self.kind == .serializationFailure || self.kind == .deadlockDetected
    }

    /// True when the connection that produced the error cannot be reused.
    var breaksConnection: Bool {
        switch self.kind {
        case .connectionLost, .connectionClosed, .connectionFailed, .unsupported: true
        default: false
        }
    }

    public var description: String {
        let summary: String = switch self.kind {
        case .connectionFailed: "could not connect to the database"
        case .connectionLost: "the database connection was lost"
        case .connectionClosed: "the database connection is closed"
        case .poolTimeout: "timed out waiting for a database connection"
        case .poolClosed: "the database connection pool is closed"
        case .uniqueViolation: "unique constraint violated"
        case .foreignKeyViolation: "foreign key constraint violated"
        case .checkViolation: "check constraint violated"
        case .notNullViolation: "not-null constraint violated"
        case .exclusionViolation: "exclusion constraint violated"
        case .serializationFailure: "transaction could not be serialized"
        case .deadlockDetected: "deadlock detected"
        case .queryCanceled: "statement cancelled"
        case .lockNotAvailable: "lock not available"
        case .invalidInput: "invalid input value"
        case .invalidStatement: "invalid statement"
        case .transactionAborted: "transaction aborted by an earlier error"
        case .unsupported: "unsupported database response"
        case .server: "database error"
        }
        guard let sqlState else { return "PostgresError: \(summary)" }
        return "PostgresError: \(summary) (SQLSTATE \(sqlState))"
    }

    public var debugDescription: String {
        var text = self.description
        if let constraint { text += " constraint=\(constraint)" }
        if !self.details.isEmpty { text += " details=\(self.details)" }
        return text
    }
}

extension PostgresError.Kind {
    /// The kind for a server SQLSTATE.
    init(sqlState: String) {
        switch sqlState {
        case "23505": self = .uniqueViolation
        case "23503": self = .foreignKeyViolation
        case "23514": self = .checkViolation
        case "23502": self = .notNullViolation
        case "23P01": self = .exclusionViolation
        case "40001": self = .serializationFailure
        case "40P01": self = .deadlockDetected
        case "57014": self = .queryCanceled
        case "55P03": self = .lockNotAvailable
        // 57P01..57P03: the server is shutting down or restarting.
        case "57P01", "57P02", "57P03": self = .connectionLost
        default:
            switch sqlState.prefix(2) {
            case "08": self = .connectionLost
            case "22": self = .invalidInput
            case "42": self = .invalidStatement
            default: self = .server
            }
        }
    }
}

/// A row value could not be decoded into the requested Swift type.
///
/// The description names the column and the type, never the value.
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    /// Why decoding failed.
    public enum Kind: Sendable, Hashable {
        /// The value was SQL NULL and the requested type is not optional.
        case unexpectedNull
        /// The text could not be parsed as the requested type.
        case typeMismatch
        /// No column has that name or index.
        case missingColumn
        /// A tuple was requested with a different number of columns than the row has.
        case columnCountMismatch
    }

    /// Why decoding failed.
    public let kind: Kind
    /// The column name (or index) involved.
    public let column: String
    /// The Swift type requested.
    public let type: String

    public var description: String {
        switch self.kind {
        case .unexpectedNull: "column '\(self.column)' is NULL but \(self.type) is not optional"
        case .typeMismatch: "column '\(self.column)' cannot be decoded as \(self.type)"
        case .missingColumn: "no column '\(self.column)' in the row"
        case .columnCountMismatch: "the row has \(self.column) columns but \(self.type) was requested"
        }
    }
}

extension PostgresError: ConnectionClosedError {
    public static var connectionClosed: PostgresError { PostgresError(kind: .connectionClosed) }
}
