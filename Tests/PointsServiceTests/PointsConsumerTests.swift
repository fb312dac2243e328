import Foundation
import HTTPTypes
import LocalServers
@testable import PointsService
import ServiceKit
import ServiceLifecycle
import ServiceTesting
import SwapKafka
import SwapPostgres
import Testing

@Suite("Points event consumption", .serialized, .timeLimit(.minutes(10)))
struct PointsConsumerTests {
    actor Tally {
        private(set) var handled: [UUID] = []

        func record(_ event: EventEnvelope) -> Int {
            handled.append(event.eventID)
            return handled.count
        }
    }

    @Test("the same event handled twice, or eight times at once, awards once")
    func duplicateDeliveryAwardsOnce() async throws {
        try await withPointsDatabase { pool in
            let awarder = PointsAwarder(pool: pool, unit: 100)
            let user = UUID()
            let event = try transactionEvent(from: user, to: UUID(), amount: 12_345)
            #expect(try await awarder.handle(event) == 123)
            #expect(try await awarder.handle(event) == 0)

            let burst = try transactionEvent(from: user, to: UUID(), amount: 1_000)
            let results = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<8 { group.addTask { try await awarder.handle(burst) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.sorted() == [0, 0, 0, 0, 0, 0, 0, 10])
            let (balance, lifetime) = try await pool.query("SELECT balance, lifetime FROM points_accounts WHERE user_id = \(user)")[0].decode((Int, Int).self)
            #expect(balance == 133 && lifetime == 133)
            #expect(try await count("SELECT count(*)::bigint FROM points_ledger", on: pool) == 2)
            #expect(try await count("SELECT count(*)::bigint FROM swap_outbox WHERE topic = 'points.awarded'", on: pool) == 2)
        }
    }

    @Test("a consumer killed mid-batch after applying an event but before committing it, then replaced, loses no award and duplicates none")
    func consumerKilledMidBatch() async throws {
        let broker = try await KafkaBroker.start()
        do {
            try await createTopic(broker, "financial.transactions", partitions: 3)
            try await withPointsDatabase { pool in
                let senders = (0..<6).map { _ in UUID() }
                var expected: [UUID: Int64] = [:]
                var events: [EventEnvelope] = []
                for index in 0..<60 {
                    let sender = senders[index % senders.count]
                    let amount = 100 * (index + 1) + 37
                    events.append(try transactionEvent(from: sender, to: UUID(), amount: amount))
                    expected[sender, default: 0] += Int64(amount / 100)
                }
                // Noise that must earn nothing.
                events.append(try transactionEvent(kind: "deposit", from: nil, to: senders[0], amount: 50_000))
                events.append(try transactionEvent(from: senders[1], to: senders[2], amount: 2_000_000, status: "held"))
                try await publish(events, to: broker)

                let group = "points-\(UUID().uuidString.prefix(8))"
                var configuration = KafkaConsumerConfiguration(bootstrapServers: [broker.bootstrapServers], groupID: group, clientID: "points-test")
                configuration.sessionTimeout = .seconds(6)
                configuration.heartbeatInterval = .seconds(1)
                let awarder = PointsAwarder(pool: pool, unit: 100)
                let metrics = ServiceMetrics(service: "points-test")

                // The first member applies 25 events; after applying the 25th (committed in
                // PostgreSQL) it hangs before the offset commit, and is killed there.
                let first = Tally()
                let dying = KafkaEventConsumer(configuration: configuration, topics: ["financial.transactions"], metrics: metrics, logger: quietLogger) { event in
                    try await awarder.handle(event)
                    if await first.record(event) == 25 { try await Task.sleep(for: .seconds(3600)) }
                }
                let killed = Task { try await dying.run() }
                #expect(await eventually(timeout: .seconds(60)) { await first.handled.count == 25 })
                killed.cancel()
                _ = try? await killed.value
                let appliedBefore = try await count("SELECT count(*)::bigint FROM swap_processed_events", on: pool)
                #expect(appliedBefore >= 20 && appliedBefore <= 25)

                // Its replacement gets everything not committed, the 25th event again included.
                let second = Tally()
                let survivor = KafkaEventConsumer(configuration: configuration, topics: ["financial.transactions"], metrics: metrics, logger: quietLogger) { event in
                    try await awarder.handle(event)
                    _ = await second.record(event)
                }
                let serviceGroup = ServiceGroup(services: [survivor], gracefulShutdownSignals: [], cancellationSignals: [], logger: quietLogger)
                let running = Task { try await serviceGroup.run() }
                let done = await eventually(timeout: .seconds(90)) {
                    (try? await count("SELECT count(*)::bigint FROM swap_processed_events", on: pool)) == 60
                }
                #expect(done)
                // Give a stray redelivery time to show up, then stop gracefully.
                try await Task.sleep(for: .milliseconds(500))
                await serviceGroup.triggerGracefulShutdown()
                try await running.value

                let hung = try #require(await first.handled.last)
                #expect(await second.handled.contains(hung), "the event applied but not committed was delivered again")
                #expect(Set(await first.handled + second.handled) == Set(events.map(\.eventID)), "every event was handled")
                #expect(try await count("SELECT count(*)::bigint FROM points_ledger", on: pool) == 60)
                #expect(try await count("SELECT count(DISTINCT source_event_id)::bigint FROM points_ledger", on: pool) == 60)
                for (sender, points) in expected {
                    let (balance, lifetime) = try await pool.query("SELECT balance, lifetime FROM points_accounts WHERE user_id = \(sender)")[0].decode((Int64, Int64).self)
                    #expect(balance == points && lifetime == points, "sender \(sender)")
                }
                #expect(try await count("SELECT count(*)::bigint FROM swap_outbox WHERE topic = 'points.awarded'", on: pool) == 60)
            }
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
    }
}
