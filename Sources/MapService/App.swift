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
public struct MapConfiguration: Sendable {
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
        var problems: [String] = []
        if let database = common.database {
            self.database = database
        } else {
            problems.append("DATABASE_HOST (or DATABASE_URL_FILE) is required")
            database = PostgresConfiguration(host: "", user: "", database: "")
        }
        if let url = common.redisURL, let redis = try? RedisConfiguration(url: url) {
            self.redis = redis
        } else {
            problems.append(common.redisURL == nil ? "REDIS_URL is required" : "REDIS_URL must be redis://[[user]:password@]host[:port][/database]")
            redis = RedisConfiguration()
        }
        tileCacheTTL = reader.duration("TILE_CACHE_TTL", default: .seconds(300))
        if tileCacheTTL < .seconds(1) || tileCacheTTL > .seconds(7 * 86_400) {
            problems.append("TILE_CACHE_TTL must be between 1s and 7d")
        }
        databasePoolSize = reader.int("DATABASE_POOL_SIZE", default: 10, in: 1...200)
        problems = reader.problems + problems
        if !problems.isEmpty { throw MapConfigurationError(service: common.serviceName, problems: problems) }
    }
}

/// Start-up configuration was incomplete or malformed: every problem, one per line.
public struct MapConfigurationError: Error, CustomStringConvertible {
    public var service: String
    public var problems: [String]

    public var description: String {
        "\(service): invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// The map-service process: configuration, JSON logs, then the application
/// until SIGTERM/SIGINT.
public enum MapApp {
    public static func run() async throws {
        let configuration: MapConfiguration
        do {
            configuration = try MapConfiguration()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(2)
        }
        JSONLogHandler.bootstrap(service: configuration.common.serviceName, level: configuration.common.logLevel)
        let logger = Logger(label: configuration.common.serviceName)
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}
