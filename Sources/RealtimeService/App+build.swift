import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import ServiceKit
import ServiceLifecycle
import SwapKafka
import SwapRedis
import UnixSignals

/// The real-time service's application, used by `realtime-service` and the
/// tests. Lifecycle order: the Redis pool and the Kafka admin first, then
/// the wake-up subscriber, the presence heartbeat and the event consumer,
/// then the HTTP server; ``GoingAwayService`` runs beside the application
/// and is stopped before it, so on SIGTERM the sockets close with 1001
/// first, then the server drains, the consumer leaves its group, and the
/// pools close.
public func buildApplication(configuration: RealtimeConfiguration, logger: Logger) throws -> RealtimeApplication {
    let name = configuration.common.serviceName
    let metrics = ServiceMetrics(service: name)
    let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: configuration.kafkaBrokers, clientID: "\(name)-admin"))
    // Connections open lazily: nothing to close if building fails after this.
    let redis = RedisPool(configuration: configuration.redis, maxConnections: configuration.redisPoolSize, logger: logger)
    metrics.track(redis)

    let streams = RedisEventStreams(redis: redis, window: configuration.replayWindow)
    let presence = RedisPresence(redis: redis, ttl: configuration.presenceTTL)
    let hub = ConnectionHub(service: name)
    let subscriber = WakeupSubscriber(redis: redis, hub: hub, logger: logger)
    let environment = SessionEnvironment(
        streams: streams, presence: presence, hub: hub, queueLimit: configuration.queueLimit,
        stallTimeout: configuration.stallTimeout, closeGrace: .seconds(2), service: name, logger: logger
    )
    let auth = AuthMiddleware(tokens: AccessToken(secret: configuration.common.jwtSecret))
    let sockets = WebSocketController(auth: auth, environment: environment)

    let router = ServiceRouter.make(metrics: metrics, checks: [
        .redis(redis), .kafka(admin), ReadinessCheck("pubsub") { subscriber.isSubscribed },
    ])
    sockets.addRoutes(to: router)
    PresenceController(presence: presence).add(to: router, auth: auth)

    var services: [any Service] = [
        ClosingService("redis") { await redis.close() },
        ClosingService("kafka-admin") { await admin.shutdown() },
        subscriber,
        PresenceHeartbeat(presence: presence, hub: hub, ttl: configuration.presenceTTL, logger: logger),
    ]
    if configuration.consumesEvents {
        let consumer = KafkaConsumerConfiguration.member(
            of: configuration.consumerGroup, brokers: configuration.kafkaBrokers, service: name, sessionTimeout: configuration.sessionTimeout
        )
        let fanout = EventFanout(streams: streams, logger: logger)
        services.append(KafkaEventConsumer(configuration: consumer, topics: configuration.topics, metrics: metrics, logger: logger) { event in
            try await fanout.handle(event)
        })
    }

    let webSocket = WebSocketServerConfiguration(
        maxFrameSize: 1 << 14, autoPing: .enabled(timePeriod: configuration.idleTimeout / 2), closeTimeout: .seconds(5)
    )
    let server = HTTPServerBuilder { responder in
        GatedWebSocketChannel(
            inner: HTTP1WebSocketUpgradeChannel(
                responder: responder,
                configuration: .init(http1: .init(), ws: webSocket),
                shouldUpgrade: { head, channel, logger in await sockets.shouldUpgrade(head, channel: channel, logger: logger) }
            ),
            admits: { sockets.admits($0) }
        )
    }
    let application = Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.common.host, port: configuration.common.port), serverName: name),
        services: services,
        logger: logger
    )
    return RealtimeApplication(
        application: application,
        goingAway: GoingAwayService(hub: hub, timeout: .seconds(5), logger: logger),
        logger: logger
    )
}

/// The Hummingbird application plus ``GoingAwayService``, run as one
/// service group in which the going-away step is listed last, so that it
/// is the first to stop.
public struct RealtimeApplication: Service {
    let application: any Service
    let goingAway: GoingAwayService
    let logger: Logger

    public func run() async throws {
        let group = ServiceGroup(configuration: .init(services: [application, goingAway], logger: logger))
        try await group.run()
    }
}
