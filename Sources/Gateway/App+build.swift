import AsyncHTTPClient
import Hummingbird
import Logging
import ServiceKit
import SwapPostgres
import SwapRedis

/// The gateway's application, used by `gateway` and the tests. The pools and
/// the HTTP client are lifecycle services listed before the server, so on
/// SIGTERM the server stops accepting and drains first, then they close.
public func buildApplication(configuration: GatewayConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let hasher = PasswordHasher(cost: configuration.bcryptCost)
    // Everything that can fail comes before the HTTP client, which must be shut down once created.
    let decoyHash = try await hasher.decoyHash()

    let postgres = PostgresPool(configuration: configuration.database, maxConnections: 10, logger: logger)
    let redis = RedisPool(configuration: configuration.redis, maxConnections: 10, logger: logger)
    let client = configuration.proxy.makeClient()
    let metrics = ServiceMetrics(service: configuration.common.serviceName)
    metrics.track(postgres)
    metrics.track(redis)
    let tokens = AccessToken(secret: configuration.common.jwtSecret)
    let auth = AuthMiddleware(tokens: tokens)

    let health = AggregatedHealth(upstreams: configuration.upstreams, client: client, probeTimeout: configuration.healthProbeTimeout)
    let router = ServiceRouter.make(metrics: metrics, checks: [.postgres(postgres), .redis(redis)]) { await health.response() }
    AuthController(
        repository: PostgresAuthRepository(pool: postgres),
        hasher: hasher,
        decoyHash: decoyHash,
        tokens: tokens,
        accessTokenTTL: configuration.accessTokenTTL,
        refreshTokenTTL: configuration.refreshTokenTTL
    ).add(to: router.group("/auth/v1"), auth: auth)
    let breakers = Dictionary(uniqueKeysWithValues: configuration.upstreams.map { ($0.name, CircuitBreaker(settings: configuration.breaker)) })
    ProxyController(
        table: UpstreamTable(configuration.upstreams),
        rateLimiter: RateLimiter(redis: redis, settings: configuration.rateLimit, logger: logger),
        proxy: ReverseProxy(client: client, settings: configuration.proxy, breakers: breakers)
    ).add(to: router, auth: auth)

    var app = ServiceApplication.make(
        router: router,
        configuration: configuration.common,
        services: [
            ClosingService("postgres") { await postgres.close() },
            ClosingService("redis") { await redis.close() },
            ClosingService("http-client") { try? await client.shutdown() },
        ],
        logger: logger
    )
    app.beforeServerStarts {
        try await Migrator(pool: postgres, logger: logger).migrate(GatewayMigrations.sets)
    }
    return app
}
