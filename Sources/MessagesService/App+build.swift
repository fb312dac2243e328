import Hummingbird
import Logging
import ServiceKit
import SwapKafka
import SwapPostgres

/// The messages service's application, used by `messages-service` and the
/// tests. Migrations run before the server accepts requests, and the outbox
/// relay starts once they are done. Lifecycle order: the PostgreSQL pool and
/// the Kafka admin client first, then the relay, then the HTTP server; on
/// SIGTERM the server stops accepting and drains, the relay finishes its
/// send, and the pools close.
public func buildApplication(configuration: MessagesConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let common = configuration.common
    let metrics = ServiceMetrics(service: common.serviceName)
    let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: configuration.kafkaBrokers, clientID: "\(common.serviceName)-admin"))
    let postgres = PostgresPool(configuration: configuration.database, maxConnections: configuration.databasePoolSize, logger: logger)
    let relay: OutboxRelay
    do {
        var options = configuration.relay
        options.topics = [configuration.eventsTopic]
        relay = try OutboxRelay(
            pool: postgres,
            producer: KafkaProducerConfiguration(bootstrapServers: configuration.kafkaBrokers, clientID: common.serviceName),
            metrics: metrics, options: options, logger: logger
        )
    } catch {
        await postgres.close()
        await admin.shutdown()
        throw error
    }

    let migrated = MigrationGate()
    let router = ServiceRouter.make(metrics: metrics, checks: [.postgres(postgres), .kafka(admin)])
    let api = router.group("/api/v1").add(middleware: AuthMiddleware(tokens: AccessToken(secret: common.jwtSecret)))
    ConversationsController(
        repository: PostgresConversationRepository(pool: postgres, eventsTopic: configuration.eventsTopic) { relay.nudge() }
    ).add(to: api.group("/conversations"))

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(common.host, port: common.port), serverName: common.serviceName),
        services: [
            ClosingService("postgres") { await postgres.close() },
            ClosingService("kafka-admin") { await admin.shutdown() },
            StartAfterMigrations(gate: migrated, service: relay),
        ],
        logger: logger
    )
    app.beforeServerStarts {
        try await Migrator(pool: postgres, logger: logger).migrate(MessagesMigrations.sets)
        migrated.open()
    }
    return app
}
