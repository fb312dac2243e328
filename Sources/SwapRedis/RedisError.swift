import ConnectionPooling

/// A failure from Redis, the connection or the pool.
///
/// `description` is safe to show to a client: it names the kind of failure
/// and the error code of a server reply (`WRONGTYPE`, `NOSCRIPT`), never the
/// server's text, which is in ``details`` for logs.
public struct RedisError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, as far as callers need to branch on it.
    public enum Kind: Sendable, Hashable {
        /// Connecting (or AUTH/SELECT) failed.
        case connectionFailed
        /// The server went away or the connection broke during a call.
        case connectionLost
        /// The command timeout passed without a reply; the connection is discarded.
        case timedOut
        /// The connection was closed by this process before the call.
        case connectionClosed
        /// No pooled connection became free within the checkout timeout.
        case poolTimeout
        /// The pool was closed.
        case poolClosed
        /// The server answered with an error reply; see ``RedisError/code``.
        case server
        /// The reply did not have the shape the typed helper expects.
        case unexpectedReply
        /// The command was rejected before sending (for example, empty).
        case invalidCommand
    }

    /// What went wrong.
    public let kind: Kind
    /// The first word of a server error reply (`ERR`, `WRONGTYPE`, `NOSCRIPT`...).
    public let code: String?
    /// The server's or hiredis's message. For logs only.
    public let details: String

    init(kind: Kind, code: String? = nil, details: String = "") {
        self.kind = kind
        self.code = code
        self.details = details
    }

    /// An error reply from the server.
    init(serverReply message: String) {
        let code = message.prefix(while: { $0 != " " })
        self.init(kind: .server, code: code.isEmpty ? nil : String(code), details: message)
    }

    /// True when the connection that produced the error cannot be reused.
    var breaksConnection: Bool {
        switch self.kind {
        case .connectionFailed, .connectionLost, .timedOut, .connectionClosed: true
        default: false
        }
    }

    public var description: String {
        let summary: String = switch self.kind {
        case .connectionFailed: "could not connect to Redis"
        case .connectionLost: "the Redis connection was lost"
        case .timedOut: "Redis did not answer in time"
        case .connectionClosed: "the Redis connection is closed"
        case .poolTimeout: "timed out waiting for a Redis connection"
        case .poolClosed: "the Redis connection pool is closed"
        case .server: "Redis rejected the command"
        case .unexpectedReply: "unexpected Redis reply"
        case .invalidCommand: "invalid Redis command"
        }
        guard let code else { return "RedisError: \(summary)" }
        return "RedisError: \(summary) (\(code))"
    }

    public var debugDescription: String {
        self.details.isEmpty ? self.description : "\(self.description) details=\(self.details)"
    }
}

extension RedisError: ConnectionClosedError {
    public static var connectionClosed: RedisError { RedisError(kind: .connectionClosed) }
}
