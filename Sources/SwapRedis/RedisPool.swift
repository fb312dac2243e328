import ConnectionPooling
import Logging
import Synchronization

extension RedisConnection: PoolableConnection {}

/// A bounded pool of ``RedisConnection``s, and the factory for subscriptions.
///
/// - At most `maxConnections` connections are open; further callers wait
///   (FIFO) up to `checkoutTimeout`, then fail with `poolTimeout`.
/// - An idle connection is health-checked on checkout (no error so far, and
///   the socket not readable: an idle Redis socket only becomes readable when
///   the server closes it); a broken one is replaced.
/// - After a server restart at most the in-flight calls fail; later calls
///   reconnect. The pool never needs recreating.
/// - Subscriptions use dedicated connections outside the bound.
public final class RedisPool: RedisClient {
    private let pool: ConnectionPool<RedisConnection>
    /// What the pool connects with.
    public let configuration: RedisConfiguration
    private let logger: Logger
    private let subscriptions = Mutex<(next: Int, handles: [Int: HiredisHandle], closed: Bool)>((0, [:], false))

    /// Creates the pool; connections open lazily, on demand.
    public init(
        configuration: RedisConfiguration,
        maxConnections: Int = 10,
        checkoutTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "swap.redis.pool")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.pool = ConnectionPool(
            maxConnections: maxConnections,
            checkoutTimeout: checkoutTimeout,
            logger: logger,
            timeoutError: { RedisError(kind: .poolTimeout) },
            closedError: { RedisError(kind: .poolClosed) },
            connect: { try await RedisConnection.connect(configuration: configuration, logger: logger) }
        )
    }

    /// The most connections open at once (subscriptions not counted).
    public var maxConnections: Int { self.pool.maxConnections }

    /// Connections open (idle, leased or connecting), idle, and callers waiting.
    public var statistics: (open: Int, idle: Int, waiting: Int) {
        let statistics = self.pool.statistics
        return (statistics.open, statistics.idle, statistics.waiting)
    }

    /// Leases a connection for `body` (for several commands in a row, or
    /// `MULTI`/`EXEC`); it returns to the pool afterwards, even when `body` throws.
    public func withConnection<Value>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (RedisConnection) async throws -> Value
    ) async throws -> Value {
        try await self.pool.withConnection(body)
    }

    public func send(bytes arguments: [[UInt8]], blockingUpTo blockTime: Duration?) async throws -> RedisValue {
        try await self.pool.withConnection { try await $0.send(bytes: arguments, blockingUpTo: blockTime) }
    }

    public func pipeline(bytes commands: [[[UInt8]]]) async throws -> [RedisValue] {
        try await self.pool.withConnection { try await $0.pipeline(bytes: commands) }
    }

    /// `SUBSCRIBE`s on a dedicated connection. Returns once the server has
    /// confirmed every channel, so a message published afterwards arrives.
    ///
    /// The stream ends without error when the consuming task is cancelled or
    /// stops iterating, or when the pool is closed; it throws ``RedisError``
    /// if the connection is lost (subscribe again to resume). When the
    /// consumer falls `bufferLimit` messages behind, the oldest are dropped.
    public func subscribe(channels: [String], bufferLimit: Int = 10_000) async throws -> AsyncThrowingStream<RedisMessage, any Error> {
        try await self.openSubscription(channels, kind: .channels, bufferLimit: bufferLimit)
    }

    /// `PSUBSCRIBE`s to glob patterns; see ``subscribe(channels:bufferLimit:)``.
    public func subscribe(patterns: [String], bufferLimit: Int = 10_000) async throws -> AsyncThrowingStream<RedisMessage, any Error> {
        try await self.openSubscription(patterns, kind: .patterns, bufferLimit: bufferLimit)
    }

    /// Closes idle connections, ends subscriptions and fails waiters with
    /// `poolClosed`; leased connections close when they come back.
    public func close() async {
        let handles = self.subscriptions.withLock { state in
            state.closed = true
            return Array(state.handles.values)
        }
        for handle in handles { handle.interrupt() }
        await self.pool.close()
    }

    private func openSubscription(
        _ names: [String], kind: RedisSubscription.Kind, bufferLimit: Int
    ) async throws -> AsyncThrowingStream<RedisMessage, any Error> {
        let id: Int? = self.subscriptions.withLock { state in
            guard !state.closed else { return nil }
            state.next += 1
            return state.next
        }
        guard let id else { throw RedisError(kind: .poolClosed) }
        let (stream, handle) = try await RedisSubscription.open(
            names, kind: kind, configuration: self.configuration, bufferLimit: bufferLimit, logger: self.logger,
            onEnd: { [weak self] in _ = self?.subscriptions.withLock { $0.handles.removeValue(forKey: id) } }
        )
        let closed = self.subscriptions.withLock { state in
            if !state.closed { state.handles[id] = handle }
            return state.closed
        }
        if closed { handle.interrupt() }
        return stream
    }
}
