import Foundation
import Hummingbird
import Logging
import ServiceKit
import SwapPostgres
import SwapRedis

/// Everything the gateway reads at start-up, named as `swapctl` generates it
/// (SwapGenerators' ServiceEnvironment): the common settings, one upstream
/// per `UPSTREAM_<NAME>_URL` (+ `_PREFIXES`), and the gateway's own knobs.
public struct GatewayConfiguration: ServiceConfiguration {
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
        common = CommonConfiguration(reader: reader, defaultName: "gateway")
        database = reader.postgres()
        redis = reader.redis()
        accessTokenTTL = reader.seconds("ACCESS_TOKEN_TTL", default: 3600, in: 60...86_400)
        refreshTokenTTL = reader.seconds("REFRESH_TOKEN_TTL", default: 30 * 86_400, in: 60...(365 * 86_400))
        bcryptCost = UInt8(reader.int("BCRYPT_COST", default: 10, in: 4...16))
        rateLimit = RateLimitSettings(
            perSecond: reader.double("RATE_LIMIT_PER_USER_RPS", default: 10, in: 0.01...100_000),
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
        upstreams = Upstream.parse(environment: environment, problems: reader)
        try reader.finish(service: common.serviceName)
    }
}

public enum GatewayApp {
    /// The `gateway` process: see ``ServiceMain``.
    public static func run() async throws {
        try await ServiceMain.run(configuration: { try GatewayConfiguration() }, build: buildApplication)
    }
}

extension EnvironmentReader {
    /// Seconds as a bare integer (`3600`, as Supabase's JWT_EXP) or a duration (`1h`).
    func seconds(_ name: String, default fallback: Int, in range: ClosedRange<Int>) -> Duration {
        guard let text = optionalString(name) else { return .seconds(fallback) }
        let seconds: Int
        if let whole = Int(text) {
            seconds = whole
        } else {
            seconds = Int(duration(name, default: .seconds(fallback)).components.seconds)
        }
        guard range.contains(seconds) else {
            problem("\(name) must be between \(range.lowerBound) and \(range.upperBound) seconds, found '\(text)'")
            return .seconds(fallback)
        }
        return .seconds(seconds)
    }
}
