/// Every error this module throws. The reasons are librdkafka's own texts:
/// log them, never show them to an API client.
public enum KafkaError: Error, Sendable, Hashable {
    /// The loaded librdkafka is older than ``KafkaLibrary/minimumVersion``.
    case unsupportedLibrary(version: String, minimum: String)
    /// librdkafka rejected a property, or a raw property tried to change a
    /// setting this module fixes (idempotence, acks, auto-commit).
    case invalidConfiguration(key: String, reason: String)
    /// `rd_kafka_new` failed.
    case clientCreationFailed(reason: String)
    /// The client is shut down or shutting down; also a message purged
    /// because the producer shut down before it was acknowledged.
    case shutDown
    /// The broker did not acknowledge the message within the producer's
    /// ``KafkaProducerConfiguration/messageTimeout``.
    case messageTimedOut(topic: String)
    /// No broker could be reached (transport failure, all brokers down).
    case brokerUnavailable(reason: String)
    /// The topic or partition does not exist (and auto-creation is off).
    case unknownTopic(String)
    /// librdkafka's local send queue is full; retry later.
    case queueFull
    /// The message is larger than the client or broker allows.
    case messageTooLarge(topic: String)
    /// A blocking operation did not finish in time.
    case timedOut(operation: String)
    /// ``KafkaAdmin/createTopics(_:ifNotExists:timeout:)`` found the topic.
    case topicAlreadyExists(String)
    /// Committing offsets failed, for instance after the partition was
    /// revoked by a rebalance; the messages will be delivered again.
    case commitFailed(reason: String)
    /// A fatal client error (such as a fenced idempotent producer): the
    /// client cannot continue and must be recreated.
    case fatal(reason: String)
    /// Any other librdkafka or broker error: librdkafka's code and name.
    case kafka(code: Int, name: String, reason: String)
}

extension KafkaError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unsupportedLibrary(let version, let minimum):
            "librdkafka \(version) is loaded but \(minimum) or newer is required"
                + " (is Debian's librdkafka1 found before /usr/local/lib?)"
        case .invalidConfiguration(let key, let reason): "invalid Kafka property \(key): \(reason)"
        case .clientCreationFailed(let reason): "cannot create the Kafka client: \(reason)"
        case .shutDown: "the Kafka client is shut down"
        case .messageTimedOut(let topic): "message to \(topic) timed out before the broker acknowledged it"
        case .brokerUnavailable(let reason): "Kafka broker unavailable: \(reason)"
        case .unknownTopic(let topic): "unknown Kafka topic or partition: \(topic)"
        case .queueFull: "the Kafka producer's local queue is full"
        case .messageTooLarge(let topic): "message to \(topic) is too large"
        case .timedOut(let operation): "Kafka \(operation) timed out"
        case .topicAlreadyExists(let topic): "Kafka topic \(topic) already exists"
        case .commitFailed(let reason): "Kafka offset commit failed: \(reason)"
        case .fatal(let reason): "fatal Kafka client error: \(reason)"
        case .kafka(let code, let name, let reason): "Kafka error \(name) (\(code)): \(reason)"
        }
    }
}
