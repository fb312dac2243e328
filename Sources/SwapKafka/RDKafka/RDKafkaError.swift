import CRdKafka

extension KafkaError {
    /// Maps a librdkafka or broker error code; `topic` names the topic the
    /// failed operation was about, when there is one.
    init(_ code: rd_kafka_resp_err_t, topic: String? = nil, operation: String = "request") {
        let reason = String(cString: rd_kafka_err2str(code))
        switch code {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
            self = .messageTimedOut(topic: topic ?? "")
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE:
            self = .brokerUnavailable(reason: reason)
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
             RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            self = .unknownTopic(topic ?? reason)
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
            self = .queueFull
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
            self = .messageTooLarge(topic: topic ?? "")
        case RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, RD_KAFKA_RESP_ERR__DESTROY:
            self = .shutDown
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
            self = .timedOut(operation: operation)
        case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
            self = .topicAlreadyExists(topic ?? "")
        case RD_KAFKA_RESP_ERR__FATAL:
            self = .fatal(reason: reason)
        case RD_KAFKA_RESP_ERR_PRODUCER_FENCED, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
            // Without transactions this means the broker refused the idempotent producer's epoch
            // (Tansu does so after librdkafka bumps it following a timed-out message): every
            // later message would fail the same way.
            self = .fatal(reason: "\(String(cString: rd_kafka_err2name(code))): \(reason)")
        default:
            self = .kafka(code: Int(code.rawValue), name: String(cString: rd_kafka_err2name(code)), reason: reason)
        }
    }

    /// The underlying cause of a fatal error (`rd_kafka_fatal_error`).
    static func fatal(of handle: OpaquePointer) -> KafkaError {
        var text = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &text, text.count)
        let name = String(cString: rd_kafka_err2name(code))
        return .fatal(reason: "\(name): \(text.nulTerminatedString)")
    }
}
