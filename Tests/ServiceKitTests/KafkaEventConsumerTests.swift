import Foundation
import LocalServers
import ServiceKit
import ServiceLifecycle
import ServiceTesting
import SwapKafka
import SwapPostgres
import Testing

@Suite("Kafka event consumer", .serialized, .timeLimit(.minutes(10)))
struct KafkaEventConsumerTests {
    struct Award: Codable, Equatable {
        var points: Int
    }

    struct Refused: Error {}

    let metrics = ServiceMetrics(service: "consumer-test")

    static func event(_ topic: String, user: UUID, points: Int) throws -> EventEnvelope {
        try EventEnvelope(topic: topic, key: user.uuidString.lowercased(), type: "points.awarded", data: Award(points: points))
    }

    static func fastOptions() -> KafkaEventConsumer.Options {
        var options = KafkaEventConsumer.Options()
        options.maxAttempts = 3
        options.minRetryDelay = .milliseconds(10)
        options.maxRetryDelay = .milliseconds(50)
        return options
    }

    /// Applies an award once per event id, as a points service would.
    static func apply(_ event: EventEnvelope, consumer: String, pool: PostgresPool) async throws -> Bool {
        try await pool.withTransaction { connection in
            guard try await ProcessedEvents.markProcessed(event.eventID, consumer: consumer, on: connection) else { return false }
            let award = try event.decodeData(Award.self)
            try await connection.execute("INSERT INTO awards (event_id, points) VALUES (\(event.eventID), \(award.points))")
            return true
        }
    }

    @Test("offsets are committed after processing; a member that dies before committing causes a redelivery that has effect once")
    func redeliveryHasEffectOnce() async throws {
        let broker = try await SharedServers.shared.kafkaBroker()
        try await withTestDatabase { pool, _ in
            try await Migrator(pool: pool, logger: quietLogger).migrate(ProcessedEvents.migrations)
            try await pool.query("CREATE TABLE awards (event_id uuid NOT NULL, points int NOT NULL)")
            let topic = uniqueName("points.awarded")
            let group = uniqueName("points")
            try await createTopic(broker, topic, partitions: 1)
            let user = UUID()
            let events = try (1...3).map { try Self.event(topic, user: user, points: $0) }
            try await publish(events, to: broker)

            // The first member applies events 1 and 2, then hangs in the handler of 2 and is killed.
            let applied = Recorder<UUID>()
            let dying = KafkaEventConsumer(
                configuration: consumerConfiguration(broker, group: group), topics: [topic], metrics: metrics,
                options: Self.fastOptions(), logger: quietLogger
            ) { event in
                if try await Self.apply(event, consumer: "points", pool: pool) { await applied.append(event.eventID) }
                if event.eventID == events[1].eventID { try await Task.sleep(for: .seconds(3600)) }
            }
            let first = Task { try await dying.run() }
            #expect(await eventually(timeout: .seconds(30)) { await applied.count == 2 })
            first.cancel()
            _ = try? await first.value

            // The next member gets event 2 again (its offset was never committed) and event 3.
            let seen = Recorder<(UUID, Bool)>()
            let survivor = KafkaEventConsumer(
                configuration: consumerConfiguration(broker, group: group), topics: [topic], metrics: metrics,
                options: Self.fastOptions(), logger: quietLogger
            ) { event in
                await seen.append((event.eventID, try await Self.apply(event, consumer: "points", pool: pool)))
            }
            let serviceGroup = ServiceGroup(services: [survivor], gracefulShutdownSignals: [], cancellationSignals: [], logger: quietLogger)
            let second = Task { try await serviceGroup.run() }
            #expect(await eventually(timeout: .seconds(30)) { await seen.count == 2 })
            let deliveries = await seen.values
            #expect(deliveries.map(\.0) == [events[1].eventID, events[2].eventID])
            #expect(deliveries.map(\.1) == [false, true], "the redelivered event must not apply twice")
            let awards = try await pool.query("SELECT points FROM awards ORDER BY points").map { try $0.decode(Int.self, column: 0) }
            #expect(awards == [1, 2, 3])
            await serviceGroup.triggerGracefulShutdown()
            try await second.value

            // Everything up to event 3 was committed: a new member starts after it.
            let fourth = try Self.event(topic, user: user, points: 4)
            try await publish([fourth], to: broker)
            let later = Recorder<UUID>()
            let next = KafkaEventConsumer(
                configuration: consumerConfiguration(broker, group: group), topics: [topic], metrics: metrics, logger: quietLogger
            ) { event in await later.append(event.eventID) }
            let third = Task { try await next.run() }
            #expect(await eventually(timeout: .seconds(30)) { await later.count >= 1 })
            third.cancel()
            _ = try? await third.value
            #expect(await later.values == [fourth.eventID])
            #expect(metricValue(metrics.exposition(), "swap_events_consumed_total", ["group": group, "service": "consumer-test", "topic": topic]) == 4)
        }
    }

    @Test("a message its handler keeps failing on is skipped after the last attempt and counted; malformed ones at once")
    func poisonMessagesAreSkipped() async throws {
        let broker = try await SharedServers.shared.kafkaBroker()
        let topic = uniqueName("messages.created")
        let group = uniqueName("realtime")
        try await createTopic(broker, topic, partitions: 1)
        let user = UUID()
        let poison = try Self.event(topic, user: user, points: 13)
        let good = try Self.event(topic, user: user, points: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker))
        _ = try await producer.send(topic: topic, key: "x", value: "not json")
        await producer.shutdown()
        try await publish([poison, good], to: broker)

        let attempts = Recorder<UUID>()
        let consumer = KafkaEventConsumer(
            configuration: consumerConfiguration(broker, group: group), topics: [topic], metrics: metrics,
            options: Self.fastOptions(), logger: quietLogger
        ) { event in
            await attempts.append(event.eventID)
            if event.eventID == poison.eventID { throw Refused() }
        }
        let task = Task { try await consumer.run() }
        #expect(await eventually(timeout: .seconds(30)) { await attempts.values.contains(good.eventID) })
        task.cancel()
        _ = try? await task.value
        #expect(await attempts.values == [poison.eventID, poison.eventID, poison.eventID, good.eventID])
        #expect(metricValue(metrics.exposition(), "swap_events_skipped_total", ["group": group, "service": "consumer-test", "topic": topic]) == 2)
    }

    @Test("dependency outages are retried until they pass, not counted as poison")
    func transientFailuresAreRetried() async throws {
        let broker = try await SharedServers.shared.kafkaBroker()
        let topic = uniqueName("financial.transactions")
        try await createTopic(broker, topic, partitions: 1)
        let event = try Self.event(topic, user: UUID(), points: 5)
        try await publish([event], to: broker)
        let attempts = Recorder<Int>()
        let consumer = KafkaEventConsumer(
            configuration: consumerConfiguration(broker, group: uniqueName("points")), topics: [topic], metrics: metrics,
            options: Self.fastOptions(), logger: quietLogger
        ) { _ in
            await attempts.append(1)
            if await attempts.count < 6 { throw APIError.unavailable() }
        }
        let task = Task { try await consumer.run() }
        #expect(await eventually(timeout: .seconds(30)) { await attempts.count == 6 })
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        _ = try? await task.value
        #expect(await attempts.count == 6)
    }
}
