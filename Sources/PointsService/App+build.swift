import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle
import SwapKafka
import SwapPostgres

/// The points service's application, used by `points-service` and the
/// tests. The schema is brought up to date before anything runs (the
/// consumer must never see a missing table: ``PostgresWithOutbox``).
/// Lifecycle order: the pool and the Kafka admin first, then the outbox
/// relay, the event consumer and the clean-up tasks; on SIGTERM the server
/// drains first, then the consumer finishes the event in hand and leaves its
/// group, then the relay stops, then the pool closes.
public func buildApplication(configuration: PointsConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let name = configuration.common.serviceName
    let metrics = ServiceMetrics(service: name)
    let storage = try await PostgresWithOutbox.open(
        service: name, database: configuration.database, poolSize: configuration.databasePoolSize,
        kafkaBrokers: configuration.kafkaBrokers, relay: OutboxRelay.Options(topics: [PostgresPointsRepository.topic]),
        metrics: metrics, logger: logger
    ) { pool in
        try await Migrator(pool: pool, logger: logger).migrate(PointsMigrations.sets)
    }
    let postgres = storage.postgres, relay = storage.relay

    let awarder = PointsAwarder(pool: postgres, unit: configuration.unit, logger: logger) { relay.nudge() }
    let consumer = KafkaConsumerConfiguration.member(
        of: configuration.consumerGroup, brokers: configuration.kafkaBrokers, service: name, sessionTimeout: configuration.sessionTimeout
    )
    let events = KafkaEventConsumer(configuration: consumer, topics: configuration.topics, metrics: metrics, logger: logger) { event in
        try await awarder.handle(event)
    }

    let router = ServiceRouter.make(metrics: metrics, checks: storage.readinessChecks)
    PointsController(
        repository: PostgresPointsRepository(pool: postgres),
        pool: postgres,
        idempotency: IdempotencyStore(scope: "points")
    ).add(to: router, auth: AuthMiddleware(tokens: AccessToken(secret: configuration.common.jwtSecret)))

    return ServiceApplication.make(
        router: router,
        configuration: configuration.common,
        services: storage.services + [
            events,
            PeriodicCleanup.idempotencyKeys(postgres, logger: logger),
            PeriodicCleanup.processedEvents(postgres, logger: logger),
        ],
        logger: logger
    )
}
