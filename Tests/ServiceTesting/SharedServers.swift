import LocalServers

/// One PostgreSQL server, one broker and one Redis for the whole test
/// process, each started on first use (LocalServers stops them at exit);
/// tests get their own databases, topics and keys on them.
public actor SharedServers {
    public static let shared = SharedServers()

    // Tasks, not servers: suites run in parallel and an actor is re-entered
    // at every await, so a second caller must wait for the start already
    // under way instead of starting a server of its own. A failed start
    // fails every later caller too rather than being retried mid-run.
    private var postgres: Task<PostgresServer, any Error>?
    private var broker: Task<KafkaBroker, any Error>?
    private var redis: Task<RedisServer, any Error>?

    /// The shared PostgreSQL server; it has no database of its own (see
    /// ``withTestDatabase(prefix:maxConnections:_:)``).
    public func postgresServer() async throws -> PostgresServer {
        try await Self.once(&postgres) {
            var options = PostgresServer.Options()
            options.database = nil
            return try await PostgresServer.start(options)
        }.value
    }

    /// The shared broker.
    public func kafkaBroker() async throws -> KafkaBroker {
        try await Self.once(&broker) { try await KafkaBroker.start() }.value
    }

    /// The shared Redis.
    public func redisServer() async throws -> RedisServer {
        try await Self.once(&redis) { try await RedisServer.start() }.value
    }

    private static func once<Server: Sendable>(
        _ slot: inout Task<Server, any Error>?, _ start: @escaping @Sendable () async throws -> Server
    ) -> Task<Server, any Error> {
        if let slot { return slot }
        let starting = Task(operation: start)
        slot = starting
        return starting
    }
}
