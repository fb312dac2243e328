import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle
import SwapKafka
import SwapPostgres

/// The points service's application, used by `points-service` and the
/// tests. The schema is brought up to date before anything runs (the
/// consumer must never see a missing table). Lifecycle order: the pool and
/// the Kafka admin first, then the outbox relay, the event consumer and the
/// clean-up tasks; on SIGTERM the server drains first, then the consumer
/// finishes the event in hand and leaves its group, then the relay stops,
/// then the pool closes.
public func buildApplication(configuration: PointsConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let name = configuration.common.serviceName
    let postgres = PostgresPool(configuration: configuration.database, maxConnections: configuration.databasePoolSize, logger: logger)
    let metrics = ServiceMetrics(service: name)
    let admin: KafkaAdmin
    let relay: OutboxRelay
    do {
        try await Migrator(pool: postgres, logger: logger).migrate(PointsMigrations.sets)
        admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: configuration.kafkaBrokers, clientID: "\(name)-admin"))
        var producer = KafkaProducerConfiguration(bootstrapServers: configuration.kafkaBrokers, clientID: name)
        // The relay sends one event at a time and waits for its acknowledgement: batching only adds latency.
        producer.linger = .zero
        do {
            relay = try OutboxRelay(
                pool: postgres, producer: producer, metrics: metrics,
                options: OutboxRelay.Options(topics: [PostgresPointsRepository.topic]), logger: logger
            )
        } catch {
            await admin.shutdown()
            throw error
        }
    } catch {
        await postgres.close()
        throw error
    }

    let awarder = PointsAwarder(pool: postgres, unit: configuration.unit, logger: logger) { relay.nudge() }
    var consumer = KafkaConsumerConfiguration(
        bootstrapServers: configuration.kafkaBrokers, groupID: configuration.consumerGroup, clientID: name
    )
    consumer.sessionTimeout = configuration.sessionTimeout
    consumer.heartbeatInterval = min(.seconds(3), configuration.sessionTimeout / 3)
    let events = KafkaEventConsumer(configuration: consumer, topics: configuration.topics, metrics: metrics, logger: logger) { event in
        try await awarder.handle(event)
    }

    let router = ServiceRouter.make(metrics: metrics, checks: [.postgres(postgres), .kafka(admin)])
    PointsController(
        repository: PostgresPointsRepository(pool: postgres),
        pool: postgres,
        idempotency: IdempotencyStore(scope: "points")
    ).add(to: router, auth: AuthMiddleware(tokens: AccessToken(secret: configuration.common.jwtSecret)))

    return ServiceApplication.make(
        router: router,
        configuration: configuration.common,
        services: [
            ClosingService("postgres") { await postgres.close() },
            ClosingService("kafka-admin") { await admin.shutdown() },
            relay,
            events,
            PeriodicCleanup.idempotencyKeys(postgres, logger: logger),
            PeriodicCleanup.processedEvents(postgres, logger: logger),
        ],
        logger: logger
    )
}
