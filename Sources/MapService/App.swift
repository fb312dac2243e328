import Foundation
import Hummingbird
import Logging
import ServiceKit
import SwapPostgres
import SwapRedis

/// Everything the map service reads at start-up, named as `swapctl`
/// generates it (SwapGenerators' ServiceEnvironment): the common settings,
/// PostgreSQL with PostGIS (required), Redis (REDIS_URL, required) and the
/// topology's `tile_cache_ttl` setting (TILE_CACHE_TTL, default 300s).
public struct MapConfiguration: ServiceConfiguration {
    public var common: CommonConfiguration
    public var database: PostgresConfiguration
    public var redis: RedisConfiguration
    /// How long tiles and nearby results stay in the cache.
    public var tileCacheTTL: Duration
    /// Connections in the PostgreSQL pool (DATABASE_POOL_SIZE, default 10).
    public var databasePoolSize: Int

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let reader = EnvironmentReader(environment)
        common = CommonConfiguration(reader: reader, defaultName: "map")
        database = reader.postgres()
        redis = reader.redis()
        tileCacheTTL = reader.duration("TILE_CACHE_TTL", default: .seconds(300), in: .seconds(1)...(.seconds(7 * 86_400)))
        databasePoolSize = reader.databasePoolSize()
        try reader.finish(service: common.serviceName)
    }
}

public enum MapApp {
    /// The `map-service` process: see ``ServiceMain``.
    public static func run() async throws {
        try await ServiceMain.run(configuration: { try MapConfiguration() }, build: buildApplication)
    }
}
