import Hummingbird
import Logging
import ServiceKit
import SwapKafka
import SwapPostgres

/// The messages service's application, used by `messages-service` and the
/// tests. The schema is brought up to date before anything is served or
/// relayed (``PostgresWithOutbox``). Lifecycle order: the PostgreSQL pool
/// and the Kafka admin client first, then the relay, then the HTTP server;
/// on SIGTERM the server stops accepting and drains, the relay finishes its
/// send, and the pools close.
public func buildApplication(configuration: MessagesConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let common = configuration.common
    let metrics = ServiceMetrics(service: common.serviceName)
    var relayOptions = configuration.relay
    relayOptions.topics = [configuration.eventsTopic]
    let storage = try await PostgresWithOutbox.open(
        service: common.serviceName, database: configuration.database, poolSize: configuration.databasePoolSize,
        kafkaBrokers: configuration.kafkaBrokers, relay: relayOptions, metrics: metrics, logger: logger
    ) { pool in
        try await Migrator(pool: pool, logger: logger).migrate(MessagesMigrations.sets)
    }
    let relay = storage.relay

    let router = ServiceRouter.make(metrics: metrics, checks: storage.readinessChecks)
    let api = router.group("/api/v1").add(middleware: AuthMiddleware(tokens: AccessToken(secret: common.jwtSecret)))
    ConversationsController(
        repository: PostgresConversationRepository(pool: storage.postgres, eventsTopic: configuration.eventsTopic) { relay.nudge() }
    ).add(to: api.group("/conversations"))

    return ServiceApplication.make(router: router, configuration: common, services: storage.services, logger: logger)
}
