import ConnectionPooling
import Logging

extension PostgresConnection: PoolableConnection {}

/// A bounded pool of ``PostgresConnection``s.
///
/// - At most `maxConnections` sessions are open; further callers wait (FIFO)
///   up to `checkoutTimeout`, then fail with `poolTimeout`.
/// - An idle session is health-checked before it is handed out (no round
///   trip: it must be open, outside a transaction, and the server must not
///   have announced it is closing it); a broken one is closed and replaced.
/// - A session that fails with a connection-level error is discarded when
///   returned, so after a server restart at most the in-flight calls fail and
///   the next checkout reconnects. The pool itself never needs recreating.
public final class PostgresPool: Sendable {
    private let pool: ConnectionPool<PostgresConnection>
    /// What the pool connects with.
    public let configuration: PostgresConfiguration
    let logger: Logger

    /// Creates the pool; connections open lazily, on demand.
    public init(
        configuration: PostgresConfiguration,
        maxConnections: Int = 10,
        checkoutTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "swap.postgres.pool")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.pool = ConnectionPool(
            maxConnections: maxConnections,
            checkoutTimeout: checkoutTimeout,
            logger: logger,
            timeoutError: { PostgresError(kind: .poolTimeout) },
            closedError: { PostgresError(kind: .poolClosed) },
            connect: { try await PostgresConnection.connect(configuration: configuration, logger: logger) }
        )
    }

    /// The most sessions open at once.
    public var maxConnections: Int { self.pool.maxConnections }

    /// Sessions open (idle, leased or connecting), idle, and callers waiting.
    public var statistics: (open: Int, idle: Int, waiting: Int) {
        let statistics = self.pool.statistics
        return (statistics.open, statistics.idle, statistics.waiting)
    }

    /// Leases a session for `body`; it returns to the pool afterwards, even
    /// when `body` throws. Do not keep the connection beyond `body`.
    public func withConnection<Value>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        try await self.pool.withConnection(body)
    }

    /// Runs one statement on a pooled session.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await self.pool.withConnection { try await $0.query(query) }
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query).affectedRows
    }

    /// Closes idle sessions and fails waiters with `poolClosed`; leased
    /// sessions close when they come back.
    public func close() async {
        await self.pool.close()
    }
}
