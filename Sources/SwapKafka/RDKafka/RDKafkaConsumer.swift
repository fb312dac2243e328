import CRdKafka
import Foundation
import Logging

// The consumer's librdkafka calls.
extension ConsumerCore {
    enum PollResult {
        case message(KafkaConsumerMessage)
        case nothing
        case fatal(KafkaError)
    }

    /// `rd_kafka_consumer_poll` once (poll thread only); the message is
    /// copied out and freed at once. Non-fatal errors are logged: librdkafka
    /// retries them itself.
    func pollMessage(timeoutMilliseconds: Int32) -> PollResult {
        do {
            return try self.handle.withPointer { pointer in
                guard let message = rd_kafka_consumer_poll(pointer, timeoutMilliseconds) else { return .nothing }
                defer { rd_kafka_message_destroy(message) }
                let error = message.pointee.err
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    if error == RD_KAFKA_RESP_ERR__FATAL { return .fatal(.fatal(of: pointer)) }
                    if error != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                        self.logger.warning(
                            "Kafka consumer error",
                            metadata: [
                                "code": "\(String(cString: rd_kafka_err2name(error)))",
                                "error": "\(String(cString: rd_kafka_message_errstr(message)))",
                            ]
                        )
                    }
                    return .nothing
                }
                return .message(KafkaConsumerMessage(copying: message))
            }
        } catch {
            return .nothing
        }
    }

    /// `rd_kafka_subscribe` (it waits for librdkafka's group thread): blocking pool.
    static func subscribe(_ handle: RDKafkaHandle, topics: [String]) throws {
        try handle.withPointer { pointer in
            guard let list = rd_kafka_topic_partition_list_new(Int32(clamping: topics.count)) else { return }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
            let code = rd_kafka_subscribe(pointer, list)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code, operation: "subscribe") }
        }
    }

    /// Synchronous `rd_kafka_commit` of explicit offsets: blocking pool.
    static func commit(_ handle: RDKafkaHandle, offsets: [KafkaCommitOffset]) throws {
        try handle.withPointer { pointer in
            guard let list = rd_kafka_topic_partition_list_new(Int32(clamping: offsets.count)) else { return }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for offset in offsets {
                let element = rd_kafka_topic_partition_list_add(list, offset.topic, Int32(clamping: offset.partition))
                element?.pointee.offset = offset.offset
            }
            let code = rd_kafka_commit(pointer, list, 0)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw commitError(code, handle: pointer) }
            for index in 0..<Int(list.pointee.cnt) {
                let element = list.pointee.elems[index]
                guard element.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw commitError(element.err, handle: pointer) }
            }
        }
    }

    private static func commitError(_ code: rd_kafka_resp_err_t, handle: OpaquePointer) -> KafkaError {
        if code == RD_KAFKA_RESP_ERR__FATAL { return .fatal(of: handle) }
        return switch KafkaError(code, operation: "commit") {
        case .kafka(_, let name, let reason): .commitFailed(reason: "\(name): \(reason)")
        case let other: other
        }
    }

    /// `rd_kafka_consumer_close`: revokes the assignment and leaves the group
    /// (poll thread, after the buffer finished).
    func closeBlocking() {
        do {
            try self.handle.withPointer { pointer in
                let code = rd_kafka_consumer_close(pointer)
                if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                    self.logger.warning(
                        "Kafka consumer close failed", metadata: ["error": "\(String(cString: rd_kafka_err2str(code)))"]
                    )
                }
            }
        } catch {
            // Already destroyed.
        }
    }
}
