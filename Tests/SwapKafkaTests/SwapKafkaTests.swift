import Foundation
import LocalServers
import SwapKafka
import Testing

@Suite(.serialized, .timeLimit(.minutes(5)))
struct SwapKafkaTests {
    @Test func loadedLibraryIsSupportedAndIsTheLocalBuild() throws {
        try KafkaLibrary.checkVersion()
        #expect(KafkaLibrary.versionNumber >= 20300)
        #expect(KafkaLibrary.version.hasPrefix("2.8."), "loaded librdkafka \(KafkaLibrary.version)")
        #expect(KafkaLibrary.versionNumber / 100 == 208)

        // The loader must have picked /usr/local's copy, not Debian's 2.0.2.
        // /proc files report size 0: read to the end rather than by size.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps"))
        defer { try? handle.close() }
        let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        let loaded = Set(maps.split(separator: "\n").compactMap { line in
            line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)
        }.filter { $0.contains("librdkafka.so") })
        #expect(loaded == ["/usr/local/lib/librdkafka.so.1"], "\(loaded)")
    }

    @Test func committedMessageIsNotDeliveredToTheNextGroupMember() async throws {
        try await withKafkaBroker { broker in
            let topic = uniqueName("orders")
            let group = uniqueName("group")
            let admin = try adminClient(broker)
            try await admin.createTopic(KafkaTopicSpecification(name: topic, partitions: 1, replicationFactor: 1))
            let producer = try KafkaProducer(configuration: producerConfiguration(broker))

            let headers = [KafkaHeader(key: "trace", value: "abc"), KafkaHeader(key: "empty", value: nil)]
            let report = try await producer.send(topic: topic, key: "order-1", value: "first", headers: headers)
            #expect(report.topic == topic)
            #expect(report.partition == 0)
            #expect(report.offset == 0)

            let first = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group))
            try await first.subscribe(topics: [topic])
            let message = try await nextMessage(first)
            #expect(message.valueString == "first")
            #expect(message.keyString == "order-1")
            #expect(message.headers == headers)
            #expect(message.partition == report.partition)
            #expect(message.offset == report.offset)
            #expect(message.timestamp != nil)
            try await first.commit(message)
            await first.close()
            await #expect(throws: KafkaError.shutDown) { try await first.commit(message) }

            let next = try await producer.send(topic: topic, key: "order-2", value: "second")
            let second = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group))
            try await second.subscribe(topics: [topic])
            let secondMessage = try await nextMessage(second)
            #expect(secondMessage.valueString == "second", "the committed message came back")
            #expect(secondMessage.offset == next.offset)
            try await second.commit(secondMessage)

            await second.close()
            await producer.shutdown()
            await admin.shutdown()
        }
    }

    @Test func uncommittedMessageIsDeliveredAgainToANewMember() async throws {
        try await withKafkaBroker { broker in
            let topic = uniqueName("payments")
            let group = uniqueName("group")
            let admin = try adminClient(broker)
            try await admin.createTopic(KafkaTopicSpecification(name: topic, partitions: 1, replicationFactor: 1))
            let producer = try KafkaProducer(configuration: producerConfiguration(broker))
            let report = try await producer.send(topic: topic, key: "p-1", value: "pay")

            // The first member reads the message and closes without committing, as if it crashed mid-work.
            let dying = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group))
            try await dying.subscribe(topics: [topic])
            let seen = try await nextMessage(dying)
            #expect(seen.offset == report.offset)
            await dying.close()

            let survivor = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group))
            try await survivor.subscribe(topics: [topic])
            let again = try await nextMessage(survivor)
            #expect(again.valueString == "pay")
            #expect(again.offset == report.offset)
            #expect(again.partition == report.partition)
            try await survivor.commit(again)

            await survivor.close()
            await producer.shutdown()
            await admin.shutdown()
        }
    }

    @Test func createdTopicHasItsPartitionsAndKeysStayOnOnePartition() async throws {
        try await withKafkaBroker { broker in
            let topic = uniqueName("events")
            let admin = try adminClient(broker)
            try await admin.createTopic(
                KafkaTopicSpecification(name: topic, partitions: 6, replicationFactor: 1, config: ["retention.ms": "3600000"])
            )
            let metadata = try await admin.topic(named: topic)
            #expect(metadata?.partitions == Array(0..<6))
            #expect(try await admin.listTopics().contains { $0.name == topic })
            // Creating it again is a no-op, or an error when asked.
            try await admin.createTopic(KafkaTopicSpecification(name: topic, partitions: 6, replicationFactor: 1))
            await #expect(throws: KafkaError.topicAlreadyExists(topic)) {
                try await admin.createTopic(
                    KafkaTopicSpecification(name: topic, partitions: 6, replicationFactor: 1), ifNotExists: false
                )
            }

            let producer = try KafkaProducer(configuration: producerConfiguration(broker))
            var partitionsByKey: [String: Set<Int>] = [:]
            for round in 0..<3 {
                for key in (0..<12).map({ "customer-\($0)" }) {
                    let report = try await producer.send(topic: topic, key: key, value: "round \(round)")
                    partitionsByKey[key, default: []].insert(report.partition)
                }
            }
            for (key, partitions) in partitionsByKey {
                #expect(partitions.count == 1, "\(key) went to \(partitions.sorted())")
            }
            let used = partitionsByKey.values.reduce(into: Set<Int>()) { $0.formUnion($1) }
            #expect(used.count > 1, "12 keys all landed on \(used.sorted())")
            #expect(used.isSubset(of: Set(0..<6)))

            await producer.shutdown()
            await admin.shutdown()
        }
    }

    /// Implemented behaviour: a send outlasting `messageTimeout` throws
    /// `.messageTimedOut`; a send whose broker comes back in time succeeds.
    /// After a timed-out in-flight message librdkafka bumps the idempotent
    /// producer's epoch; Apache Kafka accepts that, Tansu answers
    /// PRODUCER_FENCED, which the producer reports as `.fatal` (recreate it).
    @Test func sendToAPausedBrokerTimesOutOrSucceedsAfterResume() async throws {
        try await withKafkaBroker { broker in
            let topic = uniqueName("outage")
            let admin = try adminClient(broker)
            try await admin.createTopic(KafkaTopicSpecification(name: topic, partitions: 1, replicationFactor: 1))
            await admin.shutdown()

            let short = try KafkaProducer(
                configuration: producerConfiguration(broker, messageTimeout: .seconds(3)), logger: testLogger("producer.short")
            )
            _ = try await short.send(topic: topic, key: nil, value: "warm-up")

            // Paused longer than message.timeout.ms: the send fails with a typed timeout.
            broker.pause()
            let clock = ContinuousClock()
            let started = clock.now
            await #expect(throws: KafkaError.messageTimedOut(topic: topic)) {
                try await short.send(topic: topic, key: nil, value: "lost")
            }
            #expect(clock.now - started < .seconds(15))
            broker.resume()

            // Paused shorter than message.timeout.ms: the send waits and succeeds after resume.
            let patient = try KafkaProducer(
                configuration: producerConfiguration(broker, messageTimeout: .seconds(60)), logger: testLogger("producer.long")
            )
            let warmUp = try await patient.send(topic: topic, key: nil, value: "warm-up")
            broker.pause()
            let pending = Task { try await patient.send(topic: topic, key: nil, value: "delayed") }
            try await Task.sleep(for: .seconds(2))
            broker.resume()
            let report = try await pending.value
            #expect(report.topic == topic)
            #expect(report.offset > warmUp.offset)

            // The producer whose message timed out: fine on Kafka, fenced on Tansu.
            do {
                let after = try await short.send(topic: topic, key: nil, value: "after")
                #expect(after.offset > report.offset)
            } catch KafkaError.fatal {
                await #expect(throws: KafkaError.self) { try await short.send(topic: topic, key: nil, value: "again") }
            }

            await patient.shutdown()
            await short.shutdown()
        }
    }

    @Test func shutdownFlushesAndLaterSendsFail() async throws {
        try await withKafkaBroker { broker in
            let topic = uniqueName("flush")
            let admin = try adminClient(broker)
            try await admin.createTopic(KafkaTopicSpecification(name: topic, partitions: 2, replicationFactor: 1))
            await admin.shutdown()

            let producer = try KafkaProducer(configuration: producerConfiguration(broker))
            let reports = try await withThrowingTaskGroup(of: KafkaDeliveryReport.self) { group in
                for index in 0..<50 {
                    group.addTask { try await producer.send(topic: topic, key: "k\(index % 7)", value: "m\(index)") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.count == 50)
            #expect(Set(reports.map { "\($0.partition)/\($0.offset)" }).count == 50)
            try await producer.flush(timeout: .seconds(5))
            await producer.shutdown()
            await producer.shutdown()
            await #expect(throws: KafkaError.shutDown) { try await producer.send(topic: topic, key: nil, value: "late") }
        }
    }

    @Test func rawPropertiesCannotSwitchOffIdempotenceOrAutoCommit() throws {
        var producer = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:9"])
        producer.properties = ["enable.idempotence": "false"]
        #expect(throws: KafkaError.invalidConfiguration(key: "enable.idempotence", reason: "SwapKafka requires enable.idempotence=true")) {
            _ = try KafkaProducer(configuration: producer)
        }
        var consumer = KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:9"], groupID: "g")
        consumer.properties = ["enable.auto.commit": "true"]
        #expect(throws: KafkaError.self) { _ = try KafkaConsumer(configuration: consumer) }
        var unknown = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:9"])
        unknown.properties = ["no.such.property": "1"]
        #expect(throws: KafkaError.self) { _ = try KafkaProducer(configuration: unknown) }
    }
}
