import Foundation
import Logging
import ServiceKit
import SwapKafka
import SwapRedis

/// The real-time service (API.md "Real-time (/ws)"): pushes
/// `message.created`, `transaction.completed` and `points.awarded` to the
/// users they concern over WebSockets, from any replica, with replay after
/// a reconnect; and answers presence.
///
/// ## From Kafka to Redis: once per deployment
/// All replicas join ONE consumer group (`KAFKA_CONSUMER_GROUP`, topics
/// `KAFKA_TOPICS`: messages.created, financial.transactions,
/// points.awarded), so each event is consumed by exactly one replica
/// (``KafkaEventConsumer``). That replica works out the recipients
/// (``EventFanout``: every participant but the sender; both parties of a
/// transaction, only the depositor of a deposit; the earner) and, for each,
/// runs one Lua script that appends the frame to the user's Redis stream
/// `swap:rt:events:<user_id>` (XADD, trimmed with `MINID ~` to keep at least
/// `REPLAY_WINDOW`, default 15m, minimum the 10m API.md promises) and
/// publishes a wake-up on `swap:rt:user:<user_id>`. The script first checks
/// a marker `swap:rt:seen:<event_id>:<user_id>` (set in the same script,
/// expiring with the window), so a redelivered event adds no second frame.
/// The Kafka offset is committed only after every recipient's script
/// succeeded; a Redis outage is retried until it passes.
///
/// ## From Redis to sockets: every replica
/// Each replica holds one pattern subscription to `swap:rt:user:*`
/// (``WakeupSubscriber``) and wakes its sockets of that user
/// (``ConnectionHub``). A socket never takes frames from the wake-up
/// itself: it reads its user's stream after the last id it queued
/// (``ClientSession``), so the frame `id` is the stream entry id, replay
/// with `last_event_id` is the same read starting from that id (exclusive),
/// and live frames follow without gap or repeat, in order, whichever
/// replica consumed the event. A malformed `last_event_id` is 400 before
/// the upgrade; one older than the window replays what is kept. After the
/// subscription was re-established every socket re-reads, covering wake-ups
/// published meanwhile.
///
/// ## Sockets
/// `GET /ws?token=` checks the access token with ``AuthMiddleware``'s
/// `user(fromToken:)`; without a valid one the answer is a JSON 401 and no
/// upgrade (``GatedWebSocketChannel``). Clients may send `{"type":"ping"}`
/// and get `{"type":"pong"}`. The server pings every `IDLE_TIMEOUT / 2`
/// (default 60s) and closes a socket whose pong does not come back before
/// the next ping, so a dead or idle peer goes within `IDLE_TIMEOUT`.
/// Each socket has a bounded outbound queue (`OUTBOUND_QUEUE_LIMIT`
/// frames, default 256; the backlog stays in Redis); when it stays full for
/// `OUTBOUND_STALL_TIMEOUT` (default 5s) with more frames waiting, the
/// client is closed with 1013 and the connection cut if the close frame
/// cannot be written, so a client that does not read costs bounded memory.
///
/// ## Presence
/// `GET /api/v1/presence/{user_id}`: online while the user has a socket on
/// any replica. Each connection is a member of the sorted set
/// `swap:rt:presence:<user_id>` scored by its expiry (Redis time), refreshed
/// every `PRESENCE_TTL / 3` (default 30s) by ``PresenceHeartbeat`` and
/// removed when the socket closes; a crashed replica's entries expire.
///
/// ## Shutdown
/// On SIGTERM ``GoingAwayService`` closes every socket with 1001 (going
/// away) and refuses new ones, so clients reconnect to another replica;
/// then the HTTP server drains, the consumer finishes the event in hand and
/// leaves the group, and the Redis pool and Kafka admin close.
public enum RealtimeApp {
    /// The `realtime-service` process: see ``ServiceMain``.
    public static func run() async throws {
        try await ServiceMain.run(
            configuration: { try RealtimeConfiguration() },
            startupDetails: {
                ServiceMain.kafkaDetails.merging(["replay_window": "\($0.replayWindow)", "consumer": "\($0.consumesEvents)"]) { $1 }
            },
            build: { configuration, logger in try buildApplication(configuration: configuration, logger: logger) }
        )
    }
}

/// Everything the real-time service reads at start-up, named as `swapctl`
/// generates it (SwapGenerators' ServiceEnvironment; `replay_window` and
/// `idle_timeout` are the topology's settings).
public struct RealtimeConfiguration: ServiceConfiguration {
    public var common: CommonConfiguration
    public var redis: RedisConfiguration
    public var kafkaBrokers: [String]
    public var consumerGroup: String
    /// KAFKA_TOPICS, the three event topics when unset.
    public var topics: [String]
    /// KAFKA_CONSUMER_ENABLED (default true). A replica without a consumer
    /// still serves sockets; the group's other members fill its users' streams.
    public var consumesEvents: Bool
    /// How long frames stay replayable (REPLAY_WINDOW, default 15m, 10m to 24h).
    public var replayWindow: Duration
    /// IDLE_TIMEOUT (default 60s): a socket silent this long (no pong) is closed.
    public var idleTimeout: Duration
    /// OUTBOUND_QUEUE_LIMIT (default 256): frames a socket may have waiting.
    public var queueLimit: Int
    /// OUTBOUND_STALL_TIMEOUT (default 5s): how long a full queue may stay full.
    public var stallTimeout: Duration
    /// PRESENCE_TTL (default 30s): how long a connection counts without a heartbeat.
    public var presenceTTL: Duration
    /// KAFKA_SESSION_TIMEOUT (default 10s).
    public var sessionTimeout: Duration
    /// REDIS_POOL_SIZE (default 16).
    public var redisPoolSize: Int

    public static let defaultTopics = ["messages.created", "financial.transactions", "points.awarded"]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let reader = EnvironmentReader(environment)
        common = CommonConfiguration(reader: reader, defaultName: "realtime")
        redis = reader.redis()
        kafkaBrokers = reader.kafkaBrokers()
        consumesEvents = reader.bool("KAFKA_CONSUMER_ENABLED", default: true)
        consumerGroup = consumesEvents ? reader.kafkaConsumerGroup() : ""
        topics = reader.kafkaTopics(default: Self.defaultTopics)
        replayWindow = reader.duration(
            "REPLAY_WINDOW", default: .seconds(15 * 60), in: .seconds(600)...(.seconds(86_400)), why: "API.md keeps events at least 10 minutes"
        )
        idleTimeout = reader.duration("IDLE_TIMEOUT", default: .seconds(60), in: .seconds(2)...(.seconds(3600)))
        queueLimit = reader.int("OUTBOUND_QUEUE_LIMIT", default: 256, in: 1...100_000)
        stallTimeout = reader.duration("OUTBOUND_STALL_TIMEOUT", default: .seconds(5), in: .zero...(.seconds(300)))
        presenceTTL = reader.duration("PRESENCE_TTL", default: .seconds(30), in: .seconds(3)...(.seconds(3600)))
        sessionTimeout = reader.kafkaSessionTimeout()
        redisPoolSize = reader.int("REDIS_POOL_SIZE", default: 16, in: 1...1000)
        try reader.finish(service: common.serviceName)
    }
}
