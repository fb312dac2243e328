import CRdKafka
import Foundation
import Logging

// The partition reader's librdkafka calls; all run on the blocking pool.
extension KafkaPartitionReader {
    static func watermarksBlocking(
        _ handle: RDKafkaHandle, topic: String, partition: Int, timeout: Duration
    ) throws -> KafkaWatermarks {
        try handle.withPointer { pointer in
            var low: Int64 = 0
            var high: Int64 = 0
            let code = rd_kafka_query_watermark_offsets(
                pointer, topic, Int32(clamping: partition), &low, &high, Int32(clamping: timeout.wholeMilliseconds)
            )
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(code, topic: topic, operation: "query watermarks")
            }
            return KafkaWatermarks(low: low, high: high)
        }
    }

    /// Assigns the ranges' partitions at their start offsets, polls until
    /// each reached its end (or end of partition), then clears the assignment.
    static func readBlocking(
        _ handle: RDKafkaHandle, ranges: [KafkaPartitionRange], maxMessages: Int, timeout: Duration
    ) throws -> [KafkaConsumerMessage] {
        try handle.withPointer { pointer in
            struct Key: Hashable {
                var topic: String
                var partition: Int32
            }
            var open: [Key: KafkaPartitionRange] = [:]
            guard let list = rd_kafka_topic_partition_list_new(Int32(clamping: ranges.count)) else { return [] }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for range in ranges {
                let key = Key(topic: range.topic, partition: Int32(clamping: range.partition))
                guard open[key] == nil else { continue }
                open[key] = range
                rd_kafka_topic_partition_list_add(list, range.topic, key.partition)?.pointee.offset = range.start
            }
            let assigned = rd_kafka_assign(pointer, list)
            guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(assigned, operation: "assign") }
            defer { _ = rd_kafka_assign(pointer, nil) }

            let deadline = ContinuousClock.now + timeout
            var messages: [KafkaConsumerMessage] = []
            while !open.isEmpty, messages.count < maxMessages {
                guard ContinuousClock.now < deadline else { throw KafkaError.timedOut(operation: "read partitions") }
                guard let message = rd_kafka_consumer_poll(pointer, 100) else { continue }
                defer { rd_kafka_message_destroy(message) }
                let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                let key = Key(topic: topic, partition: message.pointee.partition)
                let error = message.pointee.err
                if error == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    // Nothing more is stored now (librdkafka drops stale events of
                    // earlier assignments): the rest of the range does not exist yet.
                    open[key] = nil
                    continue
                }
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    if error == RD_KAFKA_RESP_ERR__FATAL { throw KafkaError.fatal(of: pointer) }
                    let mapped = KafkaError(error, topic: topic, operation: "read partitions")
                    if case .unknownTopic = mapped { throw mapped }
                    handle.logger.warning(
                        "Kafka reader error",
                        metadata: ["code": "\(String(cString: rd_kafka_err2name(error)))", "topic": "\(topic)"]
                    )
                    continue
                }
                // Messages of an earlier assignment may still be queued: keep only what was asked for.
                guard let range = open[key], message.pointee.offset >= range.start else { continue }
                if message.pointee.offset >= range.end {
                    open[key] = nil
                    continue
                }
                messages.append(KafkaConsumerMessage(copying: message))
                if message.pointee.offset + 1 >= range.end { open[key] = nil }
            }
            return messages
        }
    }
}
