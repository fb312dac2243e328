import Foundation

/// A Kafka record header. Keys may repeat; a `nil` value is a null header.
public struct KafkaHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(key: String, value: String) {
        self.init(key: key, value: Array(value.utf8))
    }
}

/// Where the broker stored an acknowledged message.
public struct KafkaDeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int
    public var offset: Int64
}

/// A message read by a ``KafkaConsumer``; copied out of librdkafka's memory.
public struct KafkaConsumerMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int
    public var offset: Int64
    /// `nil` when the message has no key.
    public var key: [UInt8]?
    /// Empty for a tombstone.
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// The producer's or broker's timestamp, when the message carries one.
    public var timestamp: Date?

    /// ``key`` decoded as UTF-8.
    public var keyString: String? { self.key.map { String(decoding: $0, as: UTF8.self) } }
    /// ``value`` decoded as UTF-8.
    public var valueString: String { String(decoding: self.value, as: UTF8.self) }

    public init(
        topic: String, partition: Int, offset: Int64, key: [UInt8]?, value: [UInt8],
        headers: [KafkaHeader] = [], timestamp: Date? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// The position a group commits for one partition: the offset of the next
/// message to read (a processed message's offset plus one).
public struct KafkaCommitOffset: Sendable, Hashable {
    public var topic: String
    public var partition: Int
    public var offset: Int64

    public init(topic: String, partition: Int, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// The position after `message`.
    public init(after message: KafkaConsumerMessage) {
        self.init(topic: message.topic, partition: message.partition, offset: message.offset + 1)
    }
}

/// A topic to create.
public struct KafkaTopicSpecification: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    /// Copies of each partition; `nil` takes the broker's default.
    public var replicationFactor: Int?
    /// Topic-level settings such as `retention.ms` or `cleanup.policy`.
    public var config: [String: String]

    public init(name: String, partitions: Int = 1, replicationFactor: Int? = nil, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// A topic as the cluster's metadata describes it.
public struct KafkaTopicMetadata: Sendable, Hashable {
    public var name: String
    /// Partition ids, ascending.
    public var partitions: [Int]
}
