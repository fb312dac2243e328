import Foundation
import SwapRedis

/// The per-user frame streams every replica shares.
protocol EventStreamRepository: Sendable {
    /// Appends `frame` to each user's stream and wakes the replicas holding
    /// their sockets, except for users this event was already appended for
    /// (a redelivered event adds nothing). Returns the new entry ids, nil
    /// where the event was a duplicate.
    func append(_ frame: StoredFrame, event: UUID, to users: [UUID]) async throws -> [String?]
    /// The id of the user's newest entry (``StreamID/zero`` when there is none).
    func tail(of user: UUID) async throws -> StreamID
    /// Up to `limit` entries after `cursor` (exclusive), oldest first.
    func entries(of user: UUID, after cursor: StreamID, limit: Int) async throws -> [(id: StreamID, frame: StoredFrame)]
}

/// ``EventStreamRepository`` on Redis streams.
///
/// Appending is one Lua script per recipient, atomic in Redis: if the
/// dedup marker `swap:rt:seen:<event>:<user>` exists, nothing happens;
/// otherwise XADD (trimming entries older than the window with `MINID ~`,
/// which keeps at least the window), PEXPIRE the stream by the window (a
/// quiet user's stream disappears), SET the marker for the window and
/// PUBLISH the wake-up. The marker is written after the XADD, so a failing
/// XADD leaves no marker behind and the redelivery appends.
struct RedisEventStreams: EventStreamRepository {
    let redis: any RedisClient
    /// How long entries and dedup markers are kept.
    let window: Duration

    static let appendScript = """
        if redis.call('EXISTS', KEYS[2]) == 1 then return false end
        local now = redis.call('TIME')
        local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[1])
        if cutoff < 0 then cutoff = 0 end
        local id = redis.call('XADD', KEYS[1], 'MINID', '~', string.format('%.0f', cutoff), '*',
            'type', ARGV[3], 'ts', ARGV[4], 'data', ARGV[5], 'event_id', ARGV[6])
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        redis.call('SET', KEYS[2], id, 'PX', ARGV[1])
        redis.call('PUBLISH', ARGV[2], id)
        return id
        """

    func append(_ frame: StoredFrame, event: UUID, to users: [UUID]) async throws -> [String?] {
        guard !users.isEmpty else { return [] }
        let windowMilliseconds = String(window.wholeMilliseconds)
        let commands = users.map { user in
            [
                "EVAL", Self.appendScript, "2", RealtimeKeys.events(user), RealtimeKeys.delivered(event: event, user: user),
                windowMilliseconds, RealtimeKeys.wakeups(user), frame.type, frame.ts, frame.data, frame.eventID,
            ]
        }
        let replies = try await redis.pipeline(commands)
        return try replies.map { reply in
            switch reply {
            case .null: return nil
            case .error(let message): throw RealtimeStoreError.scriptFailed(message)
            default:
                guard let id = reply.string else { throw RealtimeStoreError.unexpectedReply("append") }
                return id
            }
        }
    }

    func tail(of user: UUID) async throws -> StreamID {
        let reply = try await redis.send(["XREVRANGE", RealtimeKeys.events(user), "+", "-", "COUNT", "1"])
        guard let entries = reply.array else { throw RealtimeStoreError.unexpectedReply("XREVRANGE") }
        guard let newest = entries.first?.array?.first?.string else { return .zero }
        guard let id = StreamID(newest) else { throw RealtimeStoreError.unexpectedReply("XREVRANGE id") }
        return id
    }

    func entries(of user: UUID, after cursor: StreamID, limit: Int) async throws -> [(id: StreamID, frame: StoredFrame)] {
        let entries = try await redis.xrange(RealtimeKeys.events(user), from: "(\(cursor)", to: "+", count: max(1, limit))
        return entries.compactMap { entry in
            guard let id = StreamID(entry.id), let frame = StoredFrame(fields: entry.fields) else { return nil }
            return (id, frame)
        }
    }
}

/// Redis answered in a way these scripts never produce.
enum RealtimeStoreError: Error, CustomStringConvertible {
    case scriptFailed(String)
    case unexpectedReply(String)

    var description: String {
        switch self {
        case .scriptFailed(let message): "real-time Redis script failed: \(message)"
        case .unexpectedReply(let command): "unexpected Redis reply to \(command)"
        }
    }
}
