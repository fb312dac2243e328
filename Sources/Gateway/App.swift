import Foundation
import Hummingbird
import Logging
import ServiceKit
import SwapPostgres
import SwapRedis

/// Everything the gateway reads at start-up, named as `swapctl` generates it
/// (SwapGenerators' ServiceEnvironment): the common settings, one upstream
/// per `UPSTREAM_<NAME>_URL` (+ `_PREFIXES`), and the gateway's own knobs.
public struct GatewayConfiguration: Sendable {
    public var common: CommonConfiguration
    public var database: PostgresConfiguration
    public var redis: RedisConfiguration
    public var upstreams: [Upstream]
    /// `expires_in` of access tokens (ACCESS_TOKEN_TTL: seconds or a duration such as `1h`).
    public var accessTokenTTL: Duration
    /// How long an unused refresh token stays valid (REFRESH_TOKEN_TTL).
    public var refreshTokenTTL: Duration
    /// bcrypt cost (BCRYPT_COST, 10 by default; tests lower it).
    public var bcryptCost: UInt8
    /// Per-user token bucket (topology `rate_limit.per_user_rps` / `per_user_burst`).
    public var rateLimit: RateLimitSettings
    public var proxy: ProxySettings
    public var breaker: CircuitBreaker.Settings
    /// Deadline for each upstream's `/ready` when `/health` aggregates them.
    public var healthProbeTimeout: Duration

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let reader = EnvironmentReader(environment)
        var extra = ProblemList()
        common = CommonConfiguration(reader: reader, defaultName: "gateway")
        if let database = common.database {
            self.database = database
        } else {
            extra.add("DATABASE_HOST (or DATABASE_URL_FILE) is required")
            database = PostgresConfiguration(host: "", user: "", database: "")
        }
        if let url = common.redisURL, let redis = try? RedisConfiguration(url: url) {
            self.redis = redis
        } else {
            extra.add(common.redisURL == nil ? "REDIS_URL is required" : "REDIS_URL must be redis://host[:port][/database]")
            redis = RedisConfiguration()
        }
        accessTokenTTL = extra.seconds(reader, "ACCESS_TOKEN_TTL", default: 3600, in: 60...86_400)
        refreshTokenTTL = extra.seconds(reader, "REFRESH_TOKEN_TTL", default: 30 * 86_400, in: 60...(365 * 86_400))
        bcryptCost = UInt8(reader.int("BCRYPT_COST", default: 10, in: 4...16))
        rateLimit = RateLimitSettings(
            perSecond: extra.double(reader, "RATE_LIMIT_PER_USER_RPS", default: 10, in: 0.01...100_000),
            burst: reader.int("RATE_LIMIT_PER_USER_BURST", default: 30, in: 1...1_000_000)
        )
        proxy = ProxySettings(
            connectTimeout: reader.duration("UPSTREAM_CONNECT_TIMEOUT", default: .seconds(2)),
            readTimeout: reader.duration("UPSTREAM_READ_TIMEOUT", default: .seconds(30)),
            retries: reader.int("UPSTREAM_RETRIES", default: 2, in: 0...5)
        )
        breaker = CircuitBreaker.Settings(
            failureThreshold: reader.int("BREAKER_FAILURE_THRESHOLD", default: 5, in: 1...1000),
            coolDown: reader.duration("BREAKER_COOL_DOWN", default: .seconds(10))
        )
        healthProbeTimeout = reader.duration("HEALTH_PROBE_TIMEOUT", default: .milliseconds(1500))
        upstreams = Upstream.parse(environment: environment, problems: &extra)
        let problems = reader.problems + extra.items
        if !problems.isEmpty {
            throw ConfigurationError(service: common.serviceName, problems: problems)
        }
    }
}

/// The gateway process: configuration, JSON logs, then the application
/// until SIGTERM/SIGINT.
public enum GatewayApp {
    public static func run() async throws {
        let configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfiguration()
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

/// Problems found beyond what ``EnvironmentReader`` checks, reported with its own.
struct ProblemList {
    private(set) var items: [String] = []

    mutating func add(_ problem: String) {
        items.append(problem)
    }

    /// Seconds as a bare integer (`3600`, as Supabase's JWT_EXP) or a duration (`1h`).
    mutating func seconds(_ reader: EnvironmentReader, _ name: String, default fallback: Int, in range: ClosedRange<Int>) -> Duration {
        guard let text = reader.optionalString(name) else { return .seconds(fallback) }
        let seconds: Int
        if let whole = Int(text) {
            seconds = whole
        } else {
            seconds = Int(reader.duration(name, default: .seconds(fallback)).components.seconds)
        }
        guard range.contains(seconds) else {
            add("\(name) must be between \(range.lowerBound) and \(range.upperBound) seconds, found '\(text)'")
            return .seconds(fallback)
        }
        return .seconds(seconds)
    }

    mutating func double(_ reader: EnvironmentReader, _ name: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        guard let text = reader.optionalString(name) else { return fallback }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            add("\(name) must be a number in \(range.lowerBound)...\(range.upperBound), found '\(text)'")
            return fallback
        }
        return value
    }
}
