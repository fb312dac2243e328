import CRdKafka
import Foundation

extension KafkaConsumerMessage {
    /// Copies a message out of librdkafka's memory at once (topic, key,
    /// value, headers, timestamp), so nothing refers to it after
    /// `rd_kafka_message_destroy`. The consumer and the partition reader both
    /// read messages through it.
    init(copying pointer: UnsafeMutablePointer<rd_kafka_message_t>) {
        let message = pointer.pointee
        let topic = message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let key = message.key.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        let value = message.payload.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? []

        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(pointer, &timestampType)
        let timestamp = timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || milliseconds < 0
            ? nil : Date(timeIntervalSince1970: Double(milliseconds) / 1000)

        var headers: [KafkaHeader] = []
        var cHeaders: OpaquePointer?
        // The headers belong to the message: read, never freed here.
        if rd_kafka_message_headers(pointer, &cHeaders) == RD_KAFKA_RESP_ERR_NO_ERROR, let cHeaders {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(cHeaders, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let value = bytes.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: value))
                index += 1
            }
        }
        self.init(
            topic: topic, partition: Int(message.partition), offset: message.offset,
            key: key, value: value, headers: headers, timestamp: timestamp
        )
    }
}
