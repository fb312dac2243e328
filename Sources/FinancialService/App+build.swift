import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle
import SwapKafka
import SwapPostgres

/// The financial service's application, used by `financial-service` and the
/// tests. The schema is brought up to date before anything is served
/// (``PostgresWithOutbox``); on SIGTERM the server stops accepting and
/// drains first, then the clean-up task and the relay stop, then the pool
/// closes.
public func buildApplication(configuration: FinancialConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let name = configuration.common.serviceName
    let metrics = ServiceMetrics(service: name)
    let storage = try await PostgresWithOutbox.open(
        service: name, database: configuration.database, poolSize: configuration.databasePoolSize,
        kafkaBrokers: configuration.kafkaBrokers, relay: OutboxRelay.Options(topics: [PostgresLedgerRepository.topic]),
        metrics: metrics, logger: logger
    ) { pool in
        try await FinancialMigrations.migrate(currency: configuration.currency, pool: pool, migrator: Migrator(pool: pool, logger: logger))
    }
    let postgres = storage.postgres, relay = storage.relay

    let router = ServiceRouter.make(metrics: metrics, checks: storage.readinessChecks)
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
        services: storage.services + [PeriodicCleanup.idempotencyKeys(postgres, logger: logger)],
        logger: logger
    )
}
