import Foundation
import LocalServers
import Logging
import ServiceLifecycle
@testable import ServiceKit
import ServiceTesting
@testable import SwapKafka
import SwapPostgres
import Synchronization
import Testing

@Suite("Transactional outbox", .serialized, .timeLimit(.minutes(10)))
struct OutboxTests {
    struct Transfer: Codable, Equatable {
        var amount: Int
        var sequence: Int
    }

    struct Crash: Error {}

    let metrics = ServiceMetrics(service: "outbox-test")

    static func options(topic: String) -> OutboxRelay.Options {
        var options = OutboxRelay.Options(topics: [topic])
        options.batchSize = 25
        options.minIdleInterval = .milliseconds(20)
        options.maxIdleInterval = .milliseconds(200)
        options.minErrorBackoff = .milliseconds(100)
        options.maxErrorBackoff = .seconds(1)
        options.claimTimeout = .seconds(4)
        options.heartbeatInterval = .milliseconds(500)
        options.brokerTimeout = .seconds(3)
        options.shutdownGracePeriod = .seconds(1)
        options.backlogSampleInterval = .milliseconds(100)
        return options
    }

    /// Enqueues one event per transaction, keys rotating over `users`; returns them in commit order.
    @discardableResult
    static func enqueue(_ count: Int, topic: String, users: [UUID], startingAt start: Int = 0, on pool: PostgresPool) async throws -> [EventEnvelope] {
        var events: [EventEnvelope] = []
        for index in start..<(start + count) {
            let user = users[index % users.count]
            let event = try EventEnvelope(
                topic: topic, key: user.uuidString.lowercased(), type: "transaction.completed",
                data: Transfer(amount: 100 + index, sequence: index)
            )
            try await pool.withTransaction { connection in
                try await Outbox.enqueue(event, on: connection)
            }
            events.append(event)
        }
        return events
    }

    static func count(_ pool: PostgresPool, state: String) async throws -> Int {
        try await pool.query("SELECT count(*) FROM swap_outbox WHERE state = \(state)")[0].decode(Int.self, column: 0)
    }

    static func start(_ relay: OutboxRelay) -> Task<Void, any Error> {
        Task { try await relay.run() }
    }

    static func stop(_ task: Task<Void, any Error>) async {
        task.cancel()
        _ = try? await task.value
    }

    /// Each event exactly once on the topic, and one key's events in enqueue order.
    static func expectExactlyOnceInOrder(_ events: [EventEnvelope], on broker: KafkaBroker, topic: String) async throws {
        let messages = try await readWholeTopic(broker, topic)
        let ids = messages.compactMap { header($0, "event_id") }
        #expect(ids.count == messages.count, "every message carries an event_id header")
        #expect(ids.count == events.count, "\(ids.count) messages for \(events.count) events")
        #expect(Set(ids) == Set(events.map(\.eventIDString)))
        #expect(Set(ids).count == ids.count, "an event was published twice")
        for user in Set(events.map(\.key)) {
            let expected = events.filter { $0.key == user }.map(\.eventIDString)
            let published = messages.filter { $0.keyString == user }.sorted { $0.offset < $1.offset }.compactMap { header($0, "event_id") }
            #expect(published == expected, "events of \(user) out of order")
        }
    }

    static func migrate(_ pool: PostgresPool) async throws {
        try await Migrator(pool: pool, logger: quietLogger).migrate(Outbox.migrations)
    }

    /// A database of the test's own with the outbox table, and a topic of its
    /// own (named after `topic`) on the shared broker or on `own`.
    static func withOutbox(
        topic: String, partitions: Int = 3, on own: KafkaBroker? = nil, _ body: (KafkaBroker, PostgresPool, String) async throws -> Void
    ) async throws {
        let broker: KafkaBroker
        if let own { broker = own } else { broker = try await SharedServers.shared.kafkaBroker() }
        try await withTestDatabase { pool, _ in
            try await migrate(pool)
            let name = uniqueName(topic)
            try await createTopic(broker, name, partitions: partitions)
            try await body(broker, pool, name)
        }
    }

    @Test("every committed event is published once, in order per key, with event_id and type headers")
    func publishesEveryEventOnce() async throws {
        try await Self.withOutbox(topic: "financial.transactions") { broker, pool, topic in
            let users = (0..<3).map { _ in UUID() }
            let events = try await Self.enqueue(30, topic: topic, users: users, on: pool)

            // A rolled-back transaction leaves no event behind.
            let ghost = try EventEnvelope(topic: topic, key: users[0].uuidString.lowercased(), type: "transaction.completed", data: Transfer(amount: 1, sequence: -1))
            await #expect(throws: Crash.self) {
                try await pool.withTransaction { connection in
                    try await Outbox.enqueue(ghost, on: connection)
                    throw Crash()
                }
            }

            let relay = try OutboxRelay(pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: Self.options(topic: topic), logger: quietLogger)
            let task = Self.start(relay)
            #expect(try await eventually { try await Self.count(pool, state: "sent") == 30 })
            // More events while it runs.
            let later = try await Self.enqueue(10, topic: topic, users: users, startingAt: 30, on: pool)
            relay.nudge()
            #expect(try await eventually { try await Self.count(pool, state: "sent") == 40 })
            await Self.stop(task)

            try await Self.expectExactlyOnceInOrder(events + later, on: broker, topic: topic)
            let messages = try await readWholeTopic(broker, topic)
            let first = try #require(messages.first { header($0, "event_id") == events[0].eventIDString })
            #expect(header(first, "type") == "transaction.completed")
            #expect(first.keyString == users[0].uuidString.lowercased())
            let decoded = try EventEnvelope.decode(first)
            #expect(decoded == events[0])
            #expect(try decoded.decodeData(Transfer.self) == Transfer(amount: 100, sequence: 0))
            let json = try JSONSerialization.jsonObject(with: Data(first.value)) as? [String: Any]
            #expect(Set(json?.keys.map { $0 } ?? []) == ["event_id", "type", "occurred_at", "data"])

            let row = try await pool.query("SELECT published_partition, published_offset FROM swap_outbox WHERE event_id = \(events[0].eventID)")[0]
            #expect(try row.decode(Int.self, column: 0) == first.partition)
            #expect(try row.decode(Int64.self, column: 1) == first.offset)
            #expect(metricValue(metrics.exposition(), "swap_events_published_total", ["service": "outbox-test", "topic": topic]) == 40)
        }
    }

    @Test("a relay that dies between the broker's acknowledgement and marking the row: the next one publishes nothing twice")
    func crashBetweenAcknowledgementAndMark() async throws {
        try await Self.withOutbox(topic: "financial.transactions") { broker, pool, topic in
            let events = try await Self.enqueue(12, topic: topic, users: [UUID(), UUID()], on: pool)

            let deliveries = Mutex(0)
            let crashedAt = Mutex<(UUID, Int, Int64)?>(nil)
            let doomed = try OutboxRelay(
                pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: Self.options(topic: topic),
                logger: quietLogger,
                afterDelivery: { eventID, partition, offset in
                    let count = deliveries.withLock { count in
                        count += 1
                        return count
                    }
                    if count == 4 {
                        crashedAt.withLock { $0 = (eventID, partition, offset) }
                        throw Crash()
                    }
                }
            )
            await #expect(throws: Crash.self) { try await doomed.run() }

            let (crashedEvent, crashedPartition, crashedOffset) = try #require(crashedAt.withLock { $0 })
            #expect(crashedEvent == events[3].eventID)
            #expect(try await Self.count(pool, state: "sent") == 3)
            // The acknowledged-but-unmarked row and the rest of the batch are left claimed, as after a crash.
            #expect(try await Self.count(pool, state: "publishing") == 9)
            #expect(try await readWholeTopic(broker, topic).count == 4)

            let successor = try OutboxRelay(pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: Self.options(topic: topic), logger: quietLogger)
            let task = Self.start(successor)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.count(pool, state: "sent") == 12 })
            await Self.stop(task)

            try await Self.expectExactlyOnceInOrder(events, on: broker, topic: topic)
            // The reconciled row points at the copy the dead relay published.
            let row = try await pool.query("SELECT published_partition, published_offset FROM swap_outbox WHERE event_id = \(crashedEvent)")[0]
            #expect(try row.decode(Int.self, column: 0) == crashedPartition)
            #expect(try row.decode(Int64.self, column: 1) == crashedOffset)
        }
    }

    @Test("a dead relay's claims are taken over at once, a live relay's only after the claim timeout")
    func takeOverFollowsTheLivenessLock() async throws {
        try await withTestDatabase { pool, _ in
            try await Self.migrate(pool)
            let topic = uniqueName("financial.transactions")
            try await Self.enqueue(5, topic: topic, users: [UUID()], on: pool)
            let store = OutboxStore(pool: pool, topics: [topic])
            let owner = UUID(), other = UUID()
            let ownerLiveness = RelayLiveness(configuration: pool.configuration, token: owner, logger: quietLogger)
            try await ownerLiveness.hold()
            #expect(try await store.claim(token: owner, limit: 10, offsets: [:]).count == 5)

            // The owner's session holds its lock: its claims are not of unknown fate.
            #expect(try await store.takeOver(token: other, claimTimeout: .seconds(600), limit: 10).isEmpty)
            try await ownerLiveness.hold()
            #expect(try await store.takeOver(token: other, claimTimeout: .seconds(600), limit: 10).isEmpty, "hold() again keeps the same lock")

            // Its session ends as when its process dies: every claim is taken over, long before the timeout
            // (as soon as the server has ended the session: it does so a moment after the client left).
            await ownerLiveness.release()
            var taken: [ClaimedEvent] = []
            let tookOver = try await eventually(timeout: .seconds(10)) {
                taken = try await store.takeOver(token: other, claimTimeout: .seconds(600), limit: 10)
                return taken.count == 5
            }
            #expect(tookOver, "\(taken.count) of 5 claims taken over")
            #expect(try await pool.query("SELECT count(*) FROM swap_outbox WHERE claim_token = \(other)")[0].decode(Int.self, column: 0) == 5)
        }
    }

    @Test("after a relay crash the next relay publishes the rest at once, not after the claim timeout, and nothing twice")
    func crashedRelaysClaimsAreTakenOverAtOnce() async throws {
        try await Self.withOutbox(topic: "financial.transactions") { broker, pool, topic in
            let events = try await Self.enqueue(8, topic: topic, users: [UUID(), UUID()], on: pool)
            var options = Self.options(topic: topic)
            options.claimTimeout = .seconds(600)
            let deliveries = Mutex(0)
            let doomed = try OutboxRelay(
                pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: options, logger: quietLogger,
                afterDelivery: { _, _, _ in
                    let count = deliveries.withLock { count in
                        count += 1
                        return count
                    }
                    if count == 3 { throw Crash() }
                }
            )
            await #expect(throws: Crash.self) { try await doomed.run() }
            #expect(try await Self.count(pool, state: "publishing") == 6)

            let successor = try OutboxRelay(pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: options, logger: quietLogger)
            let task = Self.start(successor)
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.count(pool, state: "sent") == 8 })
            await Self.stop(task)
            try await Self.expectExactlyOnceInOrder(events, on: broker, topic: topic)
        }
    }

    @Test("a producer librdkafka declares unusable (fenced) is replaced: later events are published, each once")
    func fencedProducerIsReplaced() async throws {
        try await Self.withOutbox(topic: "financial.transactions") { broker, pool, topic in
            let users = [UUID(), UUID()]
            var events = try await Self.enqueue(5, topic: topic, users: users, on: pool)
            let relay = try OutboxRelay(pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: Self.options(topic: topic), logger: quietLogger)
            let task = Self.start(relay)
            #expect(try await eventually { try await Self.count(pool, state: "sent") == 5 })

            let fenced = relay.producers.current
            try fenced.simulateFatalError(reason: "test: producer fenced")
            #expect(await eventually { fenced.fatalError != nil }, "librdkafka did not report the fatal error")
            events += try await Self.enqueue(5, topic: topic, users: users, startingAt: 5, on: pool)
            relay.nudge()
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.count(pool, state: "sent") == 10 })
            #expect(relay.producers.current !== fenced, "the fenced producer is still in use")
            await Self.stop(task)
            try await Self.expectExactlyOnceInOrder(events, on: broker, topic: topic)
        }
    }

    @Test("several relays share the work: each event once, one key's events in order")
    func concurrentRelays() async throws {
        try await Self.withOutbox(topic: "messages.created", partitions: 6) { broker, pool, topic in
            let users = (0..<5).map { _ in UUID() }
            var events = try await Self.enqueue(80, topic: topic, users: users, on: pool)
            let relays = try (0..<3).map { _ in
                try OutboxRelay(pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: Self.options(topic: topic), logger: quietLogger)
            }
            let tasks = relays.map { Self.start($0) }
            events += try await Self.enqueue(40, topic: topic, users: users, startingAt: 80, on: pool)
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.count(pool, state: "sent") == 120 })
            for task in tasks { await Self.stop(task) }
            try await Self.expectExactlyOnceInOrder(events, on: broker, topic: topic)
        }
    }

    @Test("while the broker is paused events wait; after it resumes they go out once each")
    func brokerOutage() async throws {
        try await withKafkaBroker { broker in
            try await Self.withOutbox(topic: "points.awarded", on: broker) { broker, pool, topic in
                let users = (0..<4).map { _ in UUID() }
                var events = try await Self.enqueue(150, topic: topic, users: users, on: pool)
                let relay = try OutboxRelay(pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: Self.options(topic: topic), logger: quietLogger)
                let task = Self.start(relay)
                #expect(try await eventually { try await Self.count(pool, state: "sent") >= 10 })

                broker.pause()
                events += try await Self.enqueue(20, topic: topic, users: users, startingAt: 150, on: pool)
                try await Task.sleep(for: .seconds(2))
                let sentWhilePaused = try await Self.count(pool, state: "sent")
                try await Task.sleep(for: .seconds(3))
                #expect(try await Self.count(pool, state: "sent") == sentWhilePaused, "nothing can be acknowledged by a paused broker")
                #expect(sentWhilePaused < 170)
                // /metrics shows how long the oldest event has waited, though the relay is stuck in a send.
                let waiting = metricValue(metrics.exposition(), ServiceMetrics.outboxOldestUnsent, ["service": metrics.service]) ?? 0
                #expect(waiting >= 4, "swap_outbox_oldest_unsent_seconds while the broker is paused: \(waiting)")

                broker.resume()
                #expect(try await eventually(timeout: .seconds(60)) { try await Self.count(pool, state: "sent") == 170 })
                #expect(try await eventually(timeout: .seconds(10)) {
                    metricValue(metrics.exposition(), ServiceMetrics.outboxOldestUnsent, ["service": metrics.service]) == 0
                }, "the backlog gauge returns to 0 once everything is sent")
                await Self.stop(task)
                try await Self.expectExactlyOnceInOrder(events, on: broker, topic: topic)
            }
        }
    }

    @Test("graceful shutdown stops the relay promptly, even with a send stuck on a paused broker")
    func gracefulShutdown() async throws {
        try await withKafkaBroker { broker in
            try await Self.withOutbox(topic: "financial.transactions", on: broker) { broker, pool, topic in
                let users = [UUID(), UUID()]
                let events = try await Self.enqueue(300, topic: topic, users: users, on: pool)

                let relay = try OutboxRelay(pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: Self.options(topic: topic), logger: quietLogger)
                let group = ServiceGroup(services: [relay], gracefulShutdownSignals: [], cancellationSignals: [], logger: quietLogger)
                let running = Task { try await group.run() }
                #expect(try await eventually { try await Self.count(pool, state: "sent") >= 10 })

                // Mid-batch: a send (or a metadata request) now waits on a broker that does not answer.
                broker.pause()
                try await Task.sleep(for: .milliseconds(300))
                let started = ContinuousClock.now
                await group.triggerGracefulShutdown()
                try await running.value
                let took = ContinuousClock.now - started
                #expect(took < .seconds(8), "shutdown took \(took)")
                #expect(try await Self.count(pool, state: "sent") < 300)
                broker.resume()

                // What the stopped relay left is published once by the next one.
                let next = try OutboxRelay(pool: pool, producer: producerConfiguration(broker), metrics: metrics, options: Self.options(topic: topic), logger: quietLogger)
                try await Task.sleep(for: .seconds(1))
                let task = Self.start(next)
                #expect(try await eventually(timeout: .seconds(30)) { try await Self.count(pool, state: "sent") == 300 })
                await Self.stop(task)
                try await Self.expectExactlyOnceInOrder(events, on: broker, topic: topic)
            }
        }
    }
}
