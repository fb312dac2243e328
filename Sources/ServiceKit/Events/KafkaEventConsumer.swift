import HTTPTypes
import Logging
import Metrics
import ServiceLifecycle
import SwapKafka
import SwapPostgres
import SwapRedis

/// A consumer-group member that hands each event of its topics to a
/// handler and commits the message's offset only after the handler
/// succeeded (at least once: make the handler idempotent with
/// ``ProcessedEvents``); a swift-service-lifecycle `Service`.
///
/// - A failing handler is retried with exponential backoff. Failures that
///   mean a dependency is down (database, Redis or broker connection
///   problems, serialization failures, timeouts) are retried for as long as
///   it takes; any other failure counts as an attempt, and after
///   `maxAttempts` the message is logged, counted in
///   `swap_events_skipped_total` and skipped (committed). So is a message
///   that is not an event envelope.
/// - Messages are processed one at a time, in order per partition.
/// - Graceful shutdown stops reading, lets the message in hand finish (a
///   retry wait ends at once, leaving that message uncommitted for the next
///   member), then leaves the group.
/// - A rebalance that revokes a partition mid-message makes the commit fail;
///   that is logged and the message is delivered again to its new owner.
public struct KafkaEventConsumer: Service {
    public struct Options: Sendable {
        /// Attempts before a message is skipped (dependency outages do not count).
        public var maxAttempts = 5
        public var minRetryDelay: Duration = .milliseconds(200)
        public var maxRetryDelay: Duration = .seconds(10)

        public init() {}
    }

    public typealias Handler = @Sendable (EventEnvelope) async throws -> Void

    public static let skippedMetric = "swap_events_skipped_total"

    let configuration: KafkaConsumerConfiguration
    let topics: [String]
    let metrics: ServiceMetrics
    let options: Options
    let logger: Logger
    let handler: Handler

    public init(
        configuration: KafkaConsumerConfiguration, topics: [String], metrics: ServiceMetrics,
        options: Options = Options(), logger: Logger = Logger(label: "swap.events.consumer"),
        handler: @escaping Handler
    ) {
        self.configuration = configuration
        self.topics = topics
        self.metrics = metrics
        self.options = options
        self.logger = logger
        self.handler = handler
    }

    public func run() async throws {
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let stop = WakeSignal()
        let stopped = OneShot<Void>()
        do {
            try await consumer.subscribe(topics: topics)
            logger.info("event consumer joined", metadata: ["group": "\(configuration.groupID)", "topics": "\(topics.joined(separator: ","))"])
            try await withGracefulShutdownHandler {
                for try await message in consumer.messages.cancelOnGracefulShutdown() {
                    guard await process(message, stopped: stopped, stop: stop) else { break }
                    do {
                        try await consumer.commit(message)
                    } catch {
                        logger.warning("offset commit failed; the event will be delivered again", metadata: [
                            "topic": "\(message.topic)", "partition": "\(message.partition)",
                            "offset": "\(message.offset)", "error": "\(error)",
                        ])
                    }
                }
            } onGracefulShutdown: {
                stopped.complete(())
                stop.signal()
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        logger.info("event consumer left the group", metadata: ["group": "\(configuration.groupID)"])
    }

    /// Runs the handler until it succeeds or the message is skipped (true:
    /// commit), or until shutdown (false: leave it uncommitted).
    private func process(_ message: KafkaConsumerMessage, stopped: OneShot<Void>, stop: WakeSignal) async -> Bool {
        let metadata: Logger.Metadata = [
            "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
        ]
        let event: EventEnvelope
        do {
            event = try EventEnvelope.decode(message)
        } catch {
            logger.error("skipping a message that is not an event", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            countSkipped(message)
            return true
        }
        var attempts = 0
        var delay = options.minRetryDelay
        while true {
            do {
                try await handler(event)
                metrics.eventConsumed(topic: message.topic, group: configuration.groupID)
                return true
            } catch {
                if Task.isCancelled || stopped.isCompleted { return false }
                var details = metadata
                details["event_id"] = "\(event.eventIDString)"
                details["error"] = "\(String(reflecting: error))"
                if !Self.isTransient(error) { attempts += 1 }
                if attempts >= options.maxAttempts {
                    logger.error("skipping an event its handler keeps failing on", metadata: details)
                    countSkipped(message)
                    return true
                }
                details["retry_in"] = "\(delay)"
                logger.warning("event handler failed; retrying", metadata: details)
                await stop.wait(timeout: delay)
                if Task.isCancelled || stopped.isCompleted { return false }
                delay = min(delay * 2, options.maxRetryDelay)
            }
        }
    }

    private func countSkipped(_ message: KafkaConsumerMessage) {
        Counter(
            label: Self.skippedMetric,
            dimensions: [("service", metrics.service), ("topic", message.topic), ("group", configuration.groupID)]
        ).increment()
    }

    /// Failures that say a dependency is unavailable rather than that the event is bad.
    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresError:
            switch error.kind {
            case .connectionFailed, .connectionLost, .connectionClosed, .poolTimeout, .serializationFailure,
                 .deadlockDetected, .queryCanceled, .lockNotAvailable:
                return true
            default:
                return false
            }
        case let error as RedisError:
            switch error.kind {
            case .connectionFailed, .connectionLost, .timedOut, .connectionClosed, .poolTimeout: return true
            default: return false
            }
        case let error as KafkaError:
            switch error {
            case .brokerUnavailable, .messageTimedOut, .queueFull, .timedOut: return true
            default: return false
            }
        case let error as APIError:
            return error.status == .serviceUnavailable
        default:
            return false
        }
    }
}
