import Foundation
import Logging
import Synchronization

/// Settings for ``KafkaPartitionReader``.
public struct KafkaPartitionReaderConfiguration: Sendable {
    /// `host:port` pairs (`bootstrap.servers`).
    public var bootstrapServers: [String]
    /// `client.id`, shown in broker logs.
    public var clientID: String
    /// Raw librdkafka properties, applied last. Auto-commit and auto offset
    /// store cannot be switched on here.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: [String], clientID: String = "swap-reader") {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
    }
}

/// Where a partition's log begins and ends: `low` is the first offset still
/// stored, `high` the offset the next message will get.
public struct KafkaWatermarks: Sendable, Hashable {
    public var low: Int64
    public var high: Int64

    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }
}

/// Offsets `start..<end` of one partition.
public struct KafkaPartitionRange: Sendable, Hashable {
    public var topic: String
    public var partition: Int
    public var start: Int64
    public var end: Int64

    public init(topic: String, partition: Int, start: Int64, end: Int64) {
        self.topic = topic
        self.partition = partition
        self.start = start
        self.end = end
    }
}

/// Reads chosen offset ranges of partitions without joining a consumer group
/// (`rd_kafka_assign`, never a commit), and asks the broker for watermarks.
///
/// For checking what a topic already holds, such as an outbox relay looking
/// for an event id it may have published before it crashed.
///
/// ```swift
/// let reader = try KafkaPartitionReader(configuration: .init(bootstrapServers: ["127.0.0.1:9092"]))
/// let marks = try await reader.watermarks(topic: "orders", partition: 0)
/// let tail = try await reader.read([.init(topic: "orders", partition: 0, start: max(marks.low, marks.high - 100), end: marks.high)])
/// await reader.shutdown()
/// ```
///
/// Reads run one at a time (an assignment belongs to the handle), on the
/// module's blocking pool, each bounded by its timeout.
public final class KafkaPartitionReader: Sendable {
    let handle: RDKafkaHandle
    /// Serialises reads: they replace the handle's assignment.
    let readLock = Mutex(())

    public init(configuration: KafkaPartitionReaderConfiguration, logger: Logger = Logger(label: "swap.kafka.reader")) throws {
        // A group id is required for a consumer handle; it is never joined or committed to.
        let group = "swap-reader-\(UUID().uuidString.lowercased())"
        let properties = try KafkaProperties.build(
            bootstrapServers: configuration.bootstrapServers,
            typed: [
                ("client.id", configuration.clientID),
                ("group.id", group),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("enable.partition.eof", "true"),
                ("auto.offset.reset", "earliest"),
            ],
            raw: configuration.properties, fixed: KafkaConsumerConfiguration.fixedKeys
        )
        self.handle = try RDKafkaHandle.make(kind: .consumer, properties: properties, logger: logger)
    }

    deinit {
        let handle = self.handle
        BlockingPool.submit { handle.destroy() }
    }

    /// The partition ids of `topic` (ascending), or `[]` when the cluster does not know it.
    public func partitions(of topic: String, timeout: Duration = .seconds(10)) async throws -> [Int] {
        let handle = self.handle
        let topics = try await BlockingPool.run { try KafkaAdmin.metadataBlocking(handle, timeout: timeout) }
        return topics.first { $0.name == topic }?.partitions ?? []
    }

    /// Asks the partition's leader for its low and high watermarks.
    public func watermarks(topic: String, partition: Int, timeout: Duration = .seconds(10)) async throws -> KafkaWatermarks {
        let handle = self.handle
        return try await BlockingPool.run {
            try KafkaPartitionReader.watermarksBlocking(handle, topic: topic, partition: partition, timeout: timeout)
        }
    }

    /// Reads every range (empty ones are skipped) and returns the messages in
    /// offset order per partition. Stops early once `maxMessages` were read:
    /// continue from the last offset returned plus one.
    ///
    /// - Throws: ``KafkaError/timedOut(operation:)`` when the ranges could not
    ///   be read within `timeout`; ``KafkaError/unknownTopic(_:)``.
    public func read(
        _ ranges: [KafkaPartitionRange], maxMessages: Int = 10_000, timeout: Duration = .seconds(30)
    ) async throws -> [KafkaConsumerMessage] {
        let wanted = ranges.filter { $0.start < $0.end }
        guard !wanted.isEmpty, maxMessages > 0 else { return [] }
        let handle = self.handle
        return try await BlockingPool.run {
            try self.readLock.withLock { _ in
                try KafkaPartitionReader.readBlocking(handle, ranges: wanted, maxMessages: maxMessages, timeout: timeout)
            }
        }
    }

    /// Destroys the handle (on the blocking pool). Later calls throw ``KafkaError/shutDown``.
    public func shutdown() async {
        let handle = self.handle
        _ = try? await BlockingPool.run { handle.destroy() }
    }
}
