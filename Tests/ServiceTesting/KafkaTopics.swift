import LocalServers
import SwapKafka

/// Creates `names` on `broker`, each with `partitions` partitions (one
/// replica: the local broker is a single node).
public func createTopics(_ broker: KafkaBroker, _ names: [String], partitions: Int = 3) async throws {
    let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: [broker.bootstrapServers]))
    do {
        try await admin.createTopics(names.map { KafkaTopicSpecification(name: $0, partitions: partitions, replicationFactor: 1) })
    } catch {
        await admin.shutdown()
        throw error
    }
    await admin.shutdown()
}

/// Creates the topic `name` on `broker`.
public func createTopic(_ broker: KafkaBroker, _ name: String, partitions: Int = 3) async throws {
    try await createTopics(broker, [name], partitions: partitions)
}

/// Every message of `topic`, all partitions, in offset order per partition.
public func readWholeTopic(_ broker: KafkaBroker, _ topic: String) async throws -> [KafkaConsumerMessage] {
    let reader = try KafkaPartitionReader(configuration: KafkaPartitionReaderConfiguration(bootstrapServers: [broker.bootstrapServers]))
    do {
        var ranges: [KafkaPartitionRange] = []
        for partition in try await reader.partitions(of: topic) {
            let marks = try await reader.watermarks(topic: topic, partition: partition)
            // An empty partition has nothing to read: no range, nothing to wait for.
            if marks.high > marks.low {
                ranges.append(KafkaPartitionRange(topic: topic, partition: partition, start: marks.low, end: marks.high))
            }
        }
        let messages = ranges.isEmpty ? [] : try await reader.read(ranges, maxMessages: 1_000_000)
        await reader.shutdown()
        return messages
    } catch {
        await reader.shutdown()
        throw error
    }
}
