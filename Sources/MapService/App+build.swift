import Hummingbird
import Logging
import ServiceKit
import SwapPostgres
import SwapRedis

/// The map service's application, used by `map-service` and the tests.
/// Migrations (PostGIS, listings) run before the server accepts requests;
/// on SIGTERM the server stops accepting and drains, then the pools close.
public func buildApplication(configuration: MapConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let common = configuration.common
    let metrics = ServiceMetrics(service: common.serviceName)
    let postgres = PostgresPool(configuration: configuration.database, maxConnections: configuration.databasePoolSize, logger: logger)
    let redis = RedisPool(configuration: configuration.redis, maxConnections: 10, logger: logger)
    metrics.track(postgres)
    metrics.track(redis)
    let repository = PostgresListingRepository(pool: postgres)
    let cache = MapCache(redis: redis, ttl: configuration.tileCacheTTL, service: common.serviceName, logger: logger)

    let router = ServiceRouter.make(metrics: metrics, checks: [.postgres(postgres), .redis(redis)])
    let api = router.group("/api/v1").add(middleware: AuthMiddleware(tokens: AccessToken(secret: common.jwtSecret)))
    ListingsController(repository: repository, cache: cache).add(to: api.group("/listings"))
    TilesController(repository: repository, cache: cache).add(to: api.group("/tiles"))

    var app = ServiceApplication.make(
        router: router,
        configuration: common,
        services: [
            ClosingService("postgres") { await postgres.close() },
            ClosingService("redis") { await redis.close() },
        ],
        logger: logger
    )
    app.beforeServerStarts {
        try await Migrator(pool: postgres, logger: logger).migrate(MapMigrations.sets)
    }
    return app
}
