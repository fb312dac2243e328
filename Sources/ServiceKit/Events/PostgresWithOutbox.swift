import Logging
import ServiceLifecycle
import SwapKafka
import SwapPostgres

/// What a service that keeps its state in PostgreSQL and publishes events
/// through the transactional outbox opens at start-up: the pool, with the
/// schema brought up to date before anything is served or relayed; a Kafka
/// admin client for the readiness check; and the outbox relay with its own
/// idempotent producer. Opening succeeds whole or closes what it opened.
public struct PostgresWithOutbox: Sendable {
    public let postgres: PostgresPool
    public let admin: KafkaAdmin
    public let relay: OutboxRelay

    public static func open(
        service: String,
        database: PostgresConfiguration,
        poolSize: Int,
        kafkaBrokers: [String],
        relay options: OutboxRelay.Options,
        metrics: ServiceMetrics,
        logger: Logger,
        migrate: (PostgresPool) async throws -> Void
    ) async throws -> PostgresWithOutbox {
        let postgres = PostgresPool(configuration: database, maxConnections: poolSize, logger: logger)
        metrics.track(postgres)
        do {
            try await migrate(postgres)
            let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: kafkaBrokers, clientID: "\(service)-admin"))
            var producer = KafkaProducerConfiguration(bootstrapServers: kafkaBrokers, clientID: service)
            // The relay sends one event at a time and waits for its acknowledgement: batching only adds latency.
            producer.linger = .zero
            do {
                let relay = try OutboxRelay(pool: postgres, producer: producer, metrics: metrics, options: options, logger: logger)
                return PostgresWithOutbox(postgres: postgres, admin: admin, relay: relay)
            } catch {
                await admin.shutdown()
                throw error
            }
        } catch {
            await postgres.close()
            throw error
        }
    }

    /// `/ready` reports both: a service that cannot reach either cannot do its work.
    public var readinessChecks: [ReadinessCheck] {
        [.postgres(postgres), .kafka(admin)]
    }

    /// For the application's service list, before the services that use the
    /// pool: ServiceGroup stops in reverse order, so the relay finishes its
    /// send before the admin client and the pool close.
    public var services: [any Service] {
        [
            ClosingService("postgres") { [postgres] in await postgres.close() },
            ClosingService("kafka-admin") { [admin] in await admin.shutdown() },
            relay,
        ]
    }
}
