import Foundation
import SwapRedis

/// Who has a socket open on any replica.
protocol PresenceRepository: Sendable {
    /// Records (or refreshes) live connections until now + ttl.
    func refresh(_ connections: [(user: UUID, connection: String)]) async throws
    /// Forgets one connection at once (the socket closed).
    func remove(user: UUID, connection: String) async throws
    /// True while the user has at least one unexpired connection.
    func isOnline(_ user: UUID) async throws -> Bool
}

/// ``PresenceRepository`` on one Redis sorted set per user: members are
/// connection ids, scores the time (Redis's clock, so replicas' clocks do
/// not matter) until which the connection counts. Every replica refreshes
/// its connections every ttl/3; a replica that dies stops refreshing and its
/// connections expire after at most ttl.
struct RedisPresence: PresenceRepository {
    let redis: any RedisClient
    let ttl: Duration

    static let refreshScript = """
        local now = redis.call('TIME')
        local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', ms))
        redis.call('ZADD', KEYS[1], string.format('%.0f', ms + tonumber(ARGV[1])), ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        return 1
        """

    static let onlineScript = """
        local now = redis.call('TIME')
        local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        return redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.0f', ms), '+inf')
        """

    func refresh(_ connections: [(user: UUID, connection: String)]) async throws {
        guard !connections.isEmpty else { return }
        let ttlMilliseconds = String(ttl.wholeMilliseconds)
        for batch in stride(from: 0, to: connections.count, by: 500).map({ connections[$0..<min($0 + 500, connections.count)] }) {
            let replies = try await redis.pipeline(batch.map { entry in
                ["EVAL", Self.refreshScript, "1", RealtimeKeys.presence(entry.user), ttlMilliseconds, entry.connection]
            })
            if let failure = replies.first(where: { if case .error = $0 { true } else { false } }), case .error(let message) = failure {
                throw RealtimeStoreError.scriptFailed(message)
            }
        }
    }

    func remove(user: UUID, connection: String) async throws {
        try await redis.send(["ZREM", RealtimeKeys.presence(user), connection])
    }

    func isOnline(_ user: UUID) async throws -> Bool {
        let reply = try await redis.eval(Self.onlineScript, keys: [RealtimeKeys.presence(user)])
        guard let count = reply.integer else { throw RealtimeStoreError.unexpectedReply("presence") }
        return count > 0
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
