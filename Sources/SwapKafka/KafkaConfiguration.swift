/// Settings for ``KafkaProducer``. Idempotence (`enable.idempotence=true`,
/// `acks=all`) is always on and cannot be switched off.
public struct KafkaProducerConfiguration: Sendable {
    /// `host:port` pairs (`bootstrap.servers`).
    public var bootstrapServers: [String]
    /// `client.id`, shown in broker logs.
    public var clientID: String
    /// How long librdkafka keeps trying to deliver a message, retries
    /// included (`message.timeout.ms`); then `send` throws
    /// ``KafkaError/messageTimedOut(topic:)``.
    public var messageTimeout: Duration = .seconds(300)
    /// How long a message to a topic the cluster does not know waits for
    /// the topic to appear (`topic.metadata.propagation.max.ms`); then `send`
    /// throws ``KafkaError/unknownTopic(_:)``.
    public var unknownTopicTimeout: Duration = .seconds(30)
    /// How long to wait for more messages to batch (`linger.ms`).
    public var linger: Duration = .milliseconds(5)
    /// `compression.type`.
    public var compression: KafkaCompression = .none
    /// `partitioner`: which partition a keyed message goes to.
    public var partitioner: KafkaPartitioner = .murmur2Random
    /// Lets the broker create a topic on first use
    /// (`allow.auto.create.topics`). Off: production topics are created by
    /// the topology's init job. Local runs may switch it on.
    public var allowAutoCreateTopics = false
    /// Raw librdkafka properties, applied last (they win over the fields
    /// above). The idempotence and acks settings cannot be changed here.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: [String], clientID: String = "swap") {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
    }
}

/// Settings for ``KafkaConsumer``: a consumer-group member that reads from
/// the earliest offset when its group has none and never commits on its own
/// (`enable.auto.commit=false`, `enable.auto.offset.store=false`).
public struct KafkaConsumerConfiguration: Sendable {
    /// `host:port` pairs (`bootstrap.servers`).
    public var bootstrapServers: [String]
    /// `group.id`.
    public var groupID: String
    /// `client.id`, shown in broker logs.
    public var clientID: String
    /// `session.timeout.ms`. librdkafka's default 45 s makes a group's first
    /// join take about 30 s with Tansu; use about 6 s for local runs and tests.
    public var sessionTimeout: Duration = .seconds(45)
    /// `heartbeat.interval.ms`, well below ``sessionTimeout``.
    public var heartbeatInterval: Duration = .seconds(3)
    /// `max.poll.interval.ms`: the member is evicted when ``KafkaConsumer/messages``
    /// is not read for this long.
    public var maxPollInterval: Duration = .seconds(300)
    /// `auto.offset.reset` for partitions without a committed offset.
    public var autoOffsetReset: KafkaAutoOffsetReset = .earliest
    /// `partition.assignment.strategy`: cooperative-sticky moves only the
    /// partitions that change owner (works with Tansu too; `range` is the
    /// fallback).
    public var assignmentStrategy: KafkaAssignmentStrategy = .cooperativeSticky
    /// `allow.auto.create.topics`: off unless asked (local runs).
    public var allowAutoCreateTopics = false
    /// How many messages the poll thread reads ahead of the consumer.
    public var bufferCapacity = 64
    /// Raw librdkafka properties, applied last (they win over the fields
    /// above). Auto-commit and auto offset store cannot be switched on here.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: [String], groupID: String, clientID: String = "swap") {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.clientID = clientID
    }
}

/// Settings for ``KafkaAdmin``.
public struct KafkaAdminConfiguration: Sendable {
    /// `host:port` pairs (`bootstrap.servers`).
    public var bootstrapServers: [String]
    /// `client.id`, shown in broker logs.
    public var clientID: String
    /// Raw librdkafka properties, applied last.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: [String], clientID: String = "swap-admin") {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
    }
}

/// `compression.type`.
public enum KafkaCompression: String, Sendable {
    case none, gzip, snappy, lz4, zstd
}

/// `partitioner`. librdkafka's default (`consistent_random`, CRC32) differs
/// from the Java client's murmur2; `murmur2Random` keeps keyed messages on the
/// same partition whichever client produced them.
public enum KafkaPartitioner: String, Sendable {
    case murmur2Random = "murmur2_random"
    case consistentRandom = "consistent_random"
    case random
}

/// `auto.offset.reset`.
public enum KafkaAutoOffsetReset: String, Sendable {
    case earliest, latest
}

/// `partition.assignment.strategy`; rebalances use librdkafka's built-in
/// handling of the chosen protocol.
public enum KafkaAssignmentStrategy: String, Sendable {
    case cooperativeSticky = "cooperative-sticky"
    case range
    case roundRobin = "roundrobin"
}

// The librdkafka property lists, in the order they are applied.
extension KafkaProducerConfiguration {
    static let fixedKeys: [String: String] = [
        "enable.idempotence": "true", "acks": "all", "request.required.acks": "all",
    ]

    func rdProperties() throws(KafkaError) -> [(String, String)] {
        try KafkaProperties.build(
            bootstrapServers: self.bootstrapServers,
            typed: [
                ("client.id", self.clientID),
                ("message.timeout.ms", String(self.messageTimeout.wholeMilliseconds)),
                ("topic.metadata.propagation.max.ms", String(self.unknownTopicTimeout.wholeMilliseconds)),
                ("linger.ms", String(self.linger.wholeMilliseconds)),
                ("compression.type", self.compression.rawValue),
                ("partitioner", self.partitioner.rawValue),
                ("allow.auto.create.topics", String(self.allowAutoCreateTopics)),
                ("enable.idempotence", "true"),
                ("acks", "all"),
            ],
            raw: self.properties, fixed: Self.fixedKeys
        )
    }
}

extension KafkaConsumerConfiguration {
    static let fixedKeys: [String: String] = [
        "enable.auto.commit": "false", "enable.auto.offset.store": "false",
    ]

    func rdProperties() throws(KafkaError) -> [(String, String)] {
        guard !self.groupID.isEmpty else { throw .invalidConfiguration(key: "group.id", reason: "must not be empty") }
        guard self.bufferCapacity > 0 else {
            throw .invalidConfiguration(key: "bufferCapacity", reason: "must be at least 1")
        }
        return try KafkaProperties.build(
            bootstrapServers: self.bootstrapServers,
            typed: [
                ("client.id", self.clientID),
                ("group.id", self.groupID),
                ("session.timeout.ms", String(self.sessionTimeout.wholeMilliseconds)),
                ("heartbeat.interval.ms", String(self.heartbeatInterval.wholeMilliseconds)),
                ("max.poll.interval.ms", String(self.maxPollInterval.wholeMilliseconds)),
                ("auto.offset.reset", self.autoOffsetReset.rawValue),
                ("partition.assignment.strategy", self.assignmentStrategy.rawValue),
                ("allow.auto.create.topics", String(self.allowAutoCreateTopics)),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
            ],
            raw: self.properties, fixed: Self.fixedKeys
        )
    }
}

extension KafkaAdminConfiguration {
    func rdProperties() throws(KafkaError) -> [(String, String)] {
        try KafkaProperties.build(
            bootstrapServers: self.bootstrapServers,
            typed: [("client.id", self.clientID)],
            raw: self.properties, fixed: [:]
        )
    }
}

enum KafkaProperties {
    /// Typed properties, then raw ones (sorted, so runs are reproducible);
    /// a raw property may not change a fixed key's value.
    static func build(
        bootstrapServers: [String], typed: [(String, String)], raw: [String: String], fixed: [String: String]
    ) throws(KafkaError) -> [(String, String)] {
        let servers = bootstrapServers.filter { !$0.isEmpty }
        guard !servers.isEmpty else {
            throw .invalidConfiguration(key: "bootstrap.servers", reason: "no broker address given")
        }
        for (key, value) in raw.sorted(by: { $0.key < $1.key }) {
            if let required = fixed[key], value.lowercased() != required, !(required == "all" && value == "-1") {
                throw .invalidConfiguration(key: key, reason: "SwapKafka requires \(key)=\(required)")
            }
        }
        return [("bootstrap.servers", servers.joined(separator: ","))] + typed
            + raw.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down, for librdkafka's `*.ms` properties.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
