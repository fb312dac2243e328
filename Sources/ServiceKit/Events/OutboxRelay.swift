import Foundation
import Logging
import ServiceLifecycle
import SwapKafka
import SwapPostgres
import Synchronization

/// Publishes the rows of `swap_outbox` (see ``Outbox``) to Kafka, in id
/// order per (topic, key), with the idempotent producer; a
/// swift-service-lifecycle `Service`.
///
/// ## How a row travels
/// 1. **Claim.** In a short transaction (serialised between relays by an
///    advisory lock, rows taken `FOR UPDATE SKIP LOCKED`) pending rows become
///    `publishing` with this relay's claim token, `claimed_at`, and each
///    partition's high watermark at that moment (`claim_offsets`). A row whose
///    (topic, key) has an earlier row still `publishing` is not claimed, so
///    one key's events reach Kafka in order even with several relays.
/// 2. **Send.** Rows are sent one at a time, each awaiting the broker's
///    acknowledgement, with headers `event_id` and `type`. While a send waits
///    (a broker outage), the relay renews its claim every `heartbeatInterval`.
/// 3. **Mark.** After the acknowledgement the row becomes `sent` with its
///    partition and offset, only if this relay still holds the claim.
///
/// A row whose fate is unknown — this relay's own after a failed or
/// abandoned send, one whose relay died (its liveness lock is gone:
/// ``RelayLiveness``), or one whose claim was not renewed for `claimTimeout`
/// (its relay is stuck) — is **reconciled** before anything is sent
/// again: the relay reads its topic's partitions from the recorded
/// watermarks to the current high watermark and looks for the row's
/// `event_id` header. Found: the row is marked sent where it was found.
/// Not found: it is sent (it certainly is not on the topic, and no live relay
/// holds it).
///
/// ## The guarantee
/// Every committed outbox row is published, and the relay never publishes a
/// row twice, including when a relay process dies at any point, notably
/// between the broker's acknowledgement and marking the row: the next relay
/// finds the message and only marks it. Within one producer session,
/// librdkafka's idempotence removes duplicates from its own retries. A
/// producer librdkafka declares unusable (fenced) is replaced by a new one,
/// and the row it failed is reconciled like any failed send.
///
/// ## Its limits
/// - A relay that is alive but cannot renew its claim for `claimTimeout`
///   (cut off from PostgreSQL) while librdkafka still holds its message can
///   have that message land after another relay reconciled and re-sent it.
///   Keep `claimTimeout` well above `heartbeatInterval`; the late relay logs
///   "claim lost" when it cannot mark the row. The same holds for a relay
///   whose liveness session ended while it lives (a database restart) until
///   its next cycle takes the lock again.
/// - A send that librdkafka gave up on (`messageTimeout`) whose request the
///   broker nevertheless appends after the reconciliation read would also
///   appear twice. The default `messageTimeout` (5 minutes) makes this need
///   a broker that stalls for that long and then recovers mid-reconciliation.
/// - Rows without recorded watermarks (the topic did not exist at claim time)
///   are looked for in the last `reconcileWindow` messages of each partition.
/// - A broker that loses acknowledged data (Tansu's memory storage on
///   restart) makes watermarks meaningless; the relay then reads from the
///   start of each partition.
/// - Order is id order: of two rows for one key committed by concurrent
///   transactions, the one with the lower id may commit later and be
///   published later. Serialise a key's writers (lock the user's row) to
///   avoid that.
/// - Consumers must still deduplicate (``ProcessedEvents``): Kafka delivers
///   at least once to them.
public final class OutboxRelay: Service, Sendable {
    public struct Options: Sendable {
        /// Only rows of these topics (the service's `produces`); nil: every topic.
        public var topics: [String]?
        /// Rows claimed at once.
        public var batchSize = 100
        /// Idle polling starts here and doubles up to ``maxIdleInterval``.
        public var minIdleInterval: Duration = .milliseconds(50)
        public var maxIdleInterval: Duration = .seconds(1)
        /// After an error (broker or database down) the relay waits this long, doubling up to ``maxErrorBackoff``.
        public var minErrorBackoff: Duration = .milliseconds(250)
        public var maxErrorBackoff: Duration = .seconds(30)
        /// A claim not renewed for this long is taken over by another relay.
        public var claimTimeout: Duration = .seconds(60)
        /// How often a claim is renewed while its send waits.
        public var heartbeatInterval: Duration = .seconds(10)
        /// Messages per partition searched when a row has no recorded watermark.
        public var reconcileWindow: Int64 = 10_000
        /// Deadline for broker metadata, watermark and read requests.
        public var brokerTimeout: Duration = .seconds(10)
        /// On graceful shutdown, how long a send in progress may still take.
        public var shutdownGracePeriod: Duration = .seconds(5)
        /// Sent rows are deleted this long after they were sent.
        public var retention: Duration = .seconds(7 * 24 * 3600)
        public var cleanupInterval: Duration = .seconds(600)
        /// How often the age of the oldest unsent row is measured for `/metrics`.
        public var backlogSampleInterval: Duration = .seconds(5)

        public init(topics: [String]? = nil) {
            self.topics = topics
        }
    }

    /// Called after a delivery report and before the row is marked; an error
    /// thrown here ends ``run()`` at once, leaving the database as a crash
    /// would. For fault-injection tests only.
    typealias AfterDelivery = @Sendable (_ eventID: UUID, _ partition: Int, _ offset: Int64) async throws -> Void

    struct SimulatedCrash: Error {
        var underlying: any Error
    }

    /// Shutdown did not wait any longer for a send to be acknowledged.
    struct SendAbandoned: Error {}

    let options: Options
    let store: OutboxStore
    let producers: ReplaceableProducer
    let reader: KafkaPartitionReader
    let reconciler: OutboxReconciler
    let liveness: RelayLiveness
    let metrics: ServiceMetrics
    let logger: Logger
    let token = UUID()
    let wake = WakeSignal()
    let stop = OneShot<Void>()
    let afterDelivery: AfterDelivery?
    private let lastCleanup = Mutex<ContinuousClock.Instant?>(nil)

    /// Creates the relay with its own idempotent producer (`producer`'s
    /// settings) and a partition reader for reconciliation.
    public convenience init(
        pool: PostgresPool, producer: KafkaProducerConfiguration, metrics: ServiceMetrics,
        options: Options = Options(), logger: Logger = Logger(label: "swap.outbox")
    ) throws {
        try self.init(pool: pool, producer: producer, metrics: metrics, options: options, logger: logger, afterDelivery: nil)
    }

    init(
        pool: PostgresPool, producer configuration: KafkaProducerConfiguration, metrics: ServiceMetrics,
        options: Options, logger: Logger, afterDelivery: AfterDelivery?
    ) throws {
        var readerConfiguration = KafkaPartitionReaderConfiguration(
            bootstrapServers: configuration.bootstrapServers, clientID: configuration.clientID + "-outbox-reader"
        )
        readerConfiguration.properties = configuration.properties.filter { $0.key.hasPrefix("security.") || $0.key.hasPrefix("ssl.") || $0.key.hasPrefix("sasl.") }
        self.options = options
        self.store = OutboxStore(pool: pool, topics: options.topics)
        self.producers = try ReplaceableProducer(configuration: configuration, logger: logger)
        self.reader = try KafkaPartitionReader(configuration: readerConfiguration, logger: logger)
        self.reconciler = OutboxReconciler(reader: reader, window: options.reconcileWindow, timeout: options.brokerTimeout, logger: logger)
        self.liveness = RelayLiveness(configuration: pool.configuration, token: token, logger: logger)
        self.metrics = metrics
        self.logger = logger
        self.afterDelivery = afterDelivery
    }

    /// Asks the relay to look for new rows now instead of at its next poll
    /// (call it after committing an event for the lowest latency).
    public func nudge() {
        wake.signal()
    }

    public func run() async throws {
        logger.info("outbox relay started", metadata: ["claim_token": "\(token)"])
        let sampler = Task { await sampleBacklog() }
        defer { sampler.cancel() }
        var idle = options.minIdleInterval
        var backoff = options.minErrorBackoff
        do {
            try await withTaskCancellationOrGracefulShutdownHandler {
                while !stop.isCompleted {
                    do {
                        let published = try await cycle()
                        backoff = options.minErrorBackoff
                        if published > 0 {
                            idle = options.minIdleInterval
                            continue
                        }
                        await wake.wait(timeout: idle)
                        idle = min(idle * 2, options.maxIdleInterval)
                    } catch let crash as SimulatedCrash {
                        throw crash
                    } catch {
                        if stop.isCompleted { break }
                        logger.warning("outbox relay cycle failed; retrying", metadata: [
                            "error": "\(String(reflecting: error))", "retry_in": "\(backoff)",
                        ])
                        await wake.wait(timeout: backoff)
                        backoff = min(backoff * 2, options.maxErrorBackoff)
                    }
                }
            } onCancelOrGracefulShutdown: { [stop, wake] in
                stop.complete(())
                wake.signal()
            }
        } catch let crash as SimulatedCrash {
            await shutDownClients()
            throw crash.underlying
        }
        await shutDownClients()
        logger.info("outbox relay stopped")
    }

    private func shutDownClients() async {
        // Purges what is still queued: those rows stay claimed and are reconciled later.
        await producers.shutdown(timeout: options.shutdownGracePeriod)
        await reader.shutdown()
        // Last: releasing the lock lets other relays take over what is still claimed.
        await liveness.release()
    }

    /// One pass: reconcile rows of unknown fate, then claim and publish.
    /// Returns how many rows became sent.
    func cycle() async throws -> Int {
        try await liveness.hold()
        try await cleanUpIfDue()
        var published = 0
        let unknown = try await store.takeOver(token: token, claimTimeout: options.claimTimeout, limit: options.batchSize)
        if !unknown.isEmpty {
            logger.info("outbox relay reconciling events of unknown fate", metadata: ["count": "\(unknown.count)"])
            let outcome = try await reconciler.reconcile(unknown)
            for (event, partition, offset) in outcome.found {
                if try await store.markSent(event.id, token: token, partition: partition, offset: offset) {
                    published += 1
                    metrics.eventPublished(topic: event.topic)
                }
            }
            published += try await publish(outcome.missing)
        }
        guard !stop.isCompleted else { return published }

        let topics = try await store.pendingTopics()
        guard !topics.isEmpty else { return published }
        let offsets = try await highWatermarks(of: topics)
        let claimed = try await store.claim(token: token, limit: options.batchSize, offsets: offsets)
        published += try await publish(claimed)
        return published
    }

    /// Each partition's high watermark; topics the cluster does not know yet are left out.
    private func highWatermarks(of topics: [String]) async throws -> [String: [Int: Int64]] {
        var result: [String: [Int: Int64]] = [:]
        for topic in topics {
            let partitions = try await reader.partitions(of: topic, timeout: options.brokerTimeout)
            guard !partitions.isEmpty else { continue }
            result[topic] = try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
                for partition in partitions {
                    group.addTask { [reader, options] in
                        (partition, try await reader.watermarks(topic: topic, partition: partition, timeout: options.brokerTimeout).high)
                    }
                }
                var marks: [Int: Int64] = [:]
                for try await (partition, high) in group { marks[partition] = high }
                return marks
            }
        }
        return result
    }

    /// Sends `events` in order; stops at the first failure (that row's fate
    /// is then unknown; the rest go back to pending) or on shutdown.
    private func publish(_ events: [ClaimedEvent]) async throws -> Int {
        var remaining = events[...]
        var renewed = ContinuousClock.now
        var published = 0
        while let event = remaining.first {
            if stop.isCompleted {
                try await store.release(remaining.map(\.id), token: token)
                break
            }
            if ContinuousClock.now - renewed > options.heartbeatInterval {
                let held = try await store.renew(remaining.map(\.id), token: token)
                renewed = .now
                let lost = remaining.filter { !held.contains($0.id) }
                if !lost.isEmpty {
                    logger.warning("outbox claim lost before sending", metadata: ["count": "\(lost.count)"])
                    remaining = remaining.filter { held.contains($0.id) }[...]
                    continue
                }
            }
            let report: KafkaDeliveryReport
            do {
                report = try await deliver(event, renewing: remaining.map(\.id))
            } catch {
                try? await store.release(remaining.dropFirst().map(\.id), token: token)
                throw error
            }
            remaining = remaining.dropFirst()
            if let afterDelivery {
                do {
                    try await afterDelivery(event.eventID, report.partition, report.offset)
                } catch {
                    throw SimulatedCrash(underlying: error)
                }
            }
            if try await store.markSent(event.id, token: token, partition: report.partition, offset: report.offset) {
                published += 1
                metrics.eventPublished(topic: event.topic)
            } else {
                logger.error("outbox claim lost while sending: the event may have been published twice", metadata: [
                    "event_id": "\(event.eventIDString)", "topic": "\(event.topic)",
                ])
            }
        }
        return published
    }

    /// Sends one event and waits for its acknowledgement, renewing the claim
    /// on `renewing` meanwhile. On shutdown the wait is bounded by
    /// `shutdownGracePeriod`; an abandoned send leaves its row claimed.
    private func deliver(_ event: ClaimedEvent, renewing ids: [Int64]) async throws -> KafkaDeliveryReport {
        let result = OneShot<Result<KafkaDeliveryReport, any Error>>()
        let headers = [KafkaHeader(key: "event_id", value: event.eventIDString), KafkaHeader(key: "type", value: event.type)]
        let producer = producers.current
        // Unstructured: librdkafka cannot recall a message, so the send is never cancelled, only abandoned.
        Task { [producer] in
            do {
                result.complete(.success(try await producer.send(topic: event.topic, key: event.key, value: event.payload, headers: headers)))
            } catch {
                result.complete(.failure(error))
            }
        }
        let outcome: Result<KafkaDeliveryReport, any Error>? = await withTaskGroup(of: Result<KafkaDeliveryReport, any Error>?.self) { group in
            group.addTask { await result.wait() }
            group.addTask { [store, token, options, logger] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: options.heartbeatInterval)
                    guard !Task.isCancelled else { break }
                    do {
                        _ = try await store.renew(ids, token: token)
                    } catch {
                        if !Task.isCancelled {
                            logger.warning("could not renew outbox claim", metadata: ["error": "\(String(reflecting: error))"])
                        }
                    }
                }
                return nil
            }
            group.addTask { [stop, options] in
                guard await stop.wait() != nil else { return nil }
                try? await Task.sleep(for: options.shutdownGracePeriod)
                return Task.isCancelled ? nil : .failure(SendAbandoned())
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                if let next { return next }
            }
            return nil
        }
        guard let outcome else { throw CancellationError() }
        switch outcome {
        case .success(let report):
            return report
        case .failure(let error as SendAbandoned):
            logger.warning("outbox send abandoned at shutdown; the event will be reconciled", metadata: [
                "event_id": "\(event.eventIDString)", "topic": "\(event.topic)",
            ])
            throw error
        case .failure(let error):
            logger.warning("outbox send failed; the event will be reconciled", metadata: [
                "event_id": "\(event.eventIDString)", "topic": "\(event.topic)", "error": "\(error)",
            ])
            await producers.replaceIfFatal(producer, after: error)
            throw error
        }
    }

    /// Measures the age of the oldest unsent row every
    /// `backlogSampleInterval` until the relay stops. Apart from the cycles,
    /// which can wait minutes on one send while the broker is unreachable:
    /// exactly when the age matters.
    private func sampleBacklog() async {
        while !stop.isCompleted && !Task.isCancelled {
            if let age = try? await store.oldestUnsentAge() { metrics.outboxOldestUnsent(seconds: age) }
            try? await Task.sleep(for: options.backlogSampleInterval)
        }
    }

    private func cleanUpIfDue() async throws {
        let now = ContinuousClock.now
        let due = lastCleanup.withLock { last in
            guard last.map({ now - $0 >= options.cleanupInterval }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let deleted = try await store.deleteSent(olderThan: options.retention)
        if deleted > 0 { logger.debug("deleted sent outbox rows", metadata: ["count": "\(deleted)"]) }
    }
}
