import Foundation
import LocalServers
import SwapKafka
import Synchronization
import Testing

extension SwapKafkaTests {
    /// Group behaviour beyond the basic commit cases, and producer edge cases;
    /// nested so that it is serialized with the rest (one broker at a time).
    @Suite(.serialized)
    struct GroupTests {
        @Test func twoMembersShareTheTopicsPartitions() async throws {
            try await withKafkaBroker { broker in
                let topic = uniqueName("shared")
                let group = uniqueName("group")
                let admin = try adminClient(broker)
                try await admin.createTopic(KafkaTopicSpecification(name: topic, partitions: 4, replicationFactor: 1))
                await admin.shutdown()
                let producer = try KafkaProducer(configuration: producerConfiguration(broker))
                let members = try (0..<2).map { _ in
                    try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: testLogger("member"))
                }
                // The first member owns every partition before the second joins (a scale-out).
                try await members[0].subscribe(topics: [topic])
                _ = try await producer.send(topic: topic, key: "first", value: "first")
                let firstMessage = try await nextMessage(members[0])
                try await members[0].commit(firstMessage)
                try await members[1].subscribe(topics: [topic])

                // Keep producing until both members have read something: the group
                // settles whenever the second join's rebalance completes.
                let seen = Locked<[Int: Set<Int>]>([:])  // member -> partitions read
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for (index, member) in members.enumerated() {
                        tasks.addTask {
                            for try await message in member.messages {
                                try await member.commit(message)
                                _ = seen.withLock { $0[index, default: []].insert(message.partition) }
                            }
                        }
                    }
                    var index = 0
                    let deadline = ContinuousClock.now + .seconds(90)
                    while seen.withLock({ $0.count < 2 }) {
                        guard ContinuousClock.now < deadline else {
                            throw TimedOut(what: "both members to read: \(seen.withLock { $0 })")
                        }
                        _ = try await producer.send(topic: topic, key: "key-\(index)", value: "value \(index)")
                        index += 1
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    // Cancelling the readers also closes both members.
                    tasks.cancelAll()
                    try await tasks.waitForAll()
                }
                let partitions = seen.withLock { $0 }
                #expect(partitions.count == 2, "both members read messages: \(partitions)")
                for member in members { await member.close() }
                await producer.shutdown()
            }
        }

        @Test func cancellingTheReadingTaskClosesTheConsumer() async throws {
            try await withKafkaBroker { broker in
                let topic = uniqueName("cancel")
                let admin = try adminClient(broker)
                try await admin.createTopic(KafkaTopicSpecification(name: topic, partitions: 1, replicationFactor: 1))
                await admin.shutdown()
                let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("group")))
                try await consumer.subscribe(topics: [topic])

                let reader = Task {
                    var count = 0
                    for try await _ in consumer.messages { count += 1 }
                    return count
                }
                try await Task.sleep(for: .milliseconds(500))
                reader.cancel()
                #expect(try await reader.value == 0)
                await consumer.close()  // already closing: returns once the group was left
                await #expect(throws: KafkaError.shutDown) {
                    try await consumer.commit([KafkaCommitOffset(topic: topic, partition: 0, offset: 1)])
                }
            }
        }

        @Test func sendToAnUnknownTopicFailsWithATypedError() async throws {
            try await withKafkaBroker { broker in
                var configuration = producerConfiguration(broker)
                configuration.unknownTopicTimeout = .seconds(2)
                let producer = try KafkaProducer(configuration: configuration)
                let topic = uniqueName("missing")
                await #expect(throws: KafkaError.unknownTopic(topic)) {
                    try await producer.send(topic: topic, key: nil, value: "x")
                }
                // Auto-creation is off by default: the topic still does not exist.
                let admin = try adminClient(broker)
                #expect(try await admin.topic(named: topic) == nil)
                await admin.shutdown()
                await producer.shutdown()
            }
        }
    }
}

/// A mutex that closures can share.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        self.mutex.withLock { body(&$0) }
    }
}
