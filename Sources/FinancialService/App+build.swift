import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle
import SwapKafka
import SwapPostgres

/// The financial service's application, used by `financial-service` and the
/// tests. The schema is brought up to date before anything is served. The
/// pool and the Kafka admin are lifecycle services listed before the outbox
/// relay and the clean-up task, so on SIGTERM the server stops accepting and
/// drains first, then the relay stops, then the pool closes.
public func buildApplication(configuration: FinancialConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let name = configuration.common.serviceName
    let postgres = PostgresPool(configuration: configuration.database, maxConnections: configuration.databasePoolSize, logger: logger)
    let metrics = ServiceMetrics(service: name)
    let admin: KafkaAdmin
    let relay: OutboxRelay
    do {
        try await FinancialMigrations.migrate(
            currency: configuration.currency, pool: postgres, migrator: Migrator(pool: postgres, logger: logger)
        )
        admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: configuration.kafkaBrokers, clientID: "\(name)-admin"))
        var producer = KafkaProducerConfiguration(bootstrapServers: configuration.kafkaBrokers, clientID: name)
        // The relay sends one event at a time and waits for its acknowledgement: batching only adds latency.
        producer.linger = .zero
        do {
            relay = try OutboxRelay(
                pool: postgres, producer: producer, metrics: metrics,
                options: OutboxRelay.Options(topics: [PostgresLedgerRepository.topic]), logger: logger
            )
        } catch {
            await admin.shutdown()
            throw error
        }
    } catch {
        await postgres.close()
        throw error
    }

    let router = ServiceRouter.make(metrics: metrics, checks: [.postgres(postgres), .kafka(admin)])
    FinancialController(
        repository: PostgresLedgerRepository(
            pool: postgres,
            rules: FraudRules(holdAbove: Int64(configuration.holdAbove), maxTransfersPerMinute: configuration.maxTransfersPerMinute)
        ),
        pool: postgres,
        idempotency: IdempotencyStore(scope: "financial"),
        committed: { relay.nudge() }
    ).add(to: router, auth: AuthMiddleware(tokens: AccessToken(secret: configuration.common.jwtSecret)))

    return ServiceApplication.make(
        router: router,
        configuration: configuration.common,
        services: [
            ClosingService("postgres") { await postgres.close() },
            ClosingService("kafka-admin") { await admin.shutdown() },
            relay,
            PeriodicCleanup.idempotencyKeys(postgres, logger: logger),
        ],
        logger: logger
    )
}
