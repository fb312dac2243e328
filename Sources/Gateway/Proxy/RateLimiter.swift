import Foundation
import Logging
import ServiceKit
import SwapRedis

/// `rate_limit.per_user_rps` and `rate_limit.per_user_burst` from the topology.
public struct RateLimitSettings: Sendable {
    public var perSecond: Double
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }
}

/// A token bucket per user in Redis, refilled at `perSecond` up to `burst`,
/// updated atomically by one Lua script so every gateway replica shares it.
/// The script reads Redis's own clock (TIME), so replicas with skewed clocks agree.
struct RateLimiter: Sendable {
    enum Decision: Equatable {
        case allowed
        case limited(retryAfterSeconds: Int)
    }

    let redis: any RedisClient
    let settings: RateLimitSettings
    let logger: Logger

    static let script = """
        local rate = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(state[1]) or burst
        local at = tonumber(state[2]) or now
        if now > at then
          tokens = math.min(burst, tokens + (now - at) * rate / 1000)
        end
        local allowed = 0
        local wait = 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        else
          wait = math.ceil((1 - tokens) * 1000 / rate)
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
        return {allowed, wait}
        """

    /// Takes one token for `userID`. When Redis is unreachable the request is
    /// let through (logged): an outage of the cache must not take the API down.
    func take(userID: UUID) async -> Decision {
        let key = "gateway:ratelimit:user:\(userID.lowercaseString)"
        do {
            let reply = try await redis.eval(
                Self.script, keys: [key], arguments: [String(settings.perSecond), String(settings.burst)]
            )
            guard let values = reply.array, values.count == 2,
                  let allowed = values[0].integer, let waitMilliseconds = values[1].integer
            else {
                logger.warning("unexpected rate limit script reply; allowing the request")
                return .allowed
            }
            if allowed == 1 { return .allowed }
            return .limited(retryAfterSeconds: max(1, Int((waitMilliseconds + 999) / 1000)))
        } catch {
            logger.warning("rate limiter unavailable; allowing the request", metadata: ["error": "\(error)"])
            return .allowed
        }
    }
}
