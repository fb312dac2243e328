import CRdKafka
import Logging

// The producer's librdkafka calls.
extension ProducerCore {
    /// Hands the message to librdkafka (`rd_kafka_produceva`, non-blocking,
    /// copying key, value and headers); `id` comes back as the delivery
    /// report's opaque pointer.
    func produce(_ message: OutgoingMessage, id: UInt) throws {
        // Header names and values packed into two buffers, so one pointer each stays valid for the call.
        var names: [CChar] = []
        var nameOffsets: [Int] = []
        var values: [UInt8] = []
        var valueRanges: [Range<Int>?] = []
        for header in message.headers {
            nameOffsets.append(names.count)
            names.append(contentsOf: header.key.utf8CString)
            if let value = header.value {
                valueRanges.append(values.count..<values.count + value.count)
                values.append(contentsOf: value)
            } else {
                valueRanges.append(nil)
            }
        }
        if let partition = message.partition, !(0...Int(Int32.max)).contains(partition) {
            throw KafkaError.unknownTopic("\(message.topic) partition \(partition)")
        }

        try self.handle.withPointer { pointer in
            try message.topic.withCString { topic in
                try names.withUnsafeBufferPointer { names in
                    try values.withUnsafeBytes { values in
                        try message.value.withUnsafeBytes { value in
                            try withOptionalBytes(message.key) { key in
                                var arguments: [rd_kafka_vu_t] = []
                                func add(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                                    var argument = rd_kafka_vu_t()
                                    argument.vtype = type
                                    fill(&argument)
                                    arguments.append(argument)
                                }
                                add(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
                                if let partition = message.partition {
                                    add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = Int32(partition) }
                                }
                                add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                                add(RD_KAFKA_VTYPE_VALUE) {
                                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                                    $0.u.mem.size = value.count
                                }
                                if let key {
                                    add(RD_KAFKA_VTYPE_KEY) {
                                        $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                                        $0.u.mem.size = key.count
                                    }
                                }
                                for index in nameOffsets.indices {
                                    add(RD_KAFKA_VTYPE_HEADER) {
                                        $0.u.header.name = names.baseAddress! + nameOffsets[index]
                                        if let range = valueRanges[index] {
                                            $0.u.header.val = UnsafeRawPointer(values.baseAddress.map { $0 + range.lowerBound })
                                            $0.u.header.size = range.count
                                        } else {
                                            $0.u.header.val = nil  // a null header
                                            $0.u.header.size = 0
                                        }
                                    }
                                }
                                add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: id) }

                                if let error = rd_kafka_produceva(pointer, arguments, arguments.count) {
                                    let code = rd_kafka_error_code(error)
                                    rd_kafka_error_destroy(error)
                                    throw code == RD_KAFKA_RESP_ERR__FATAL
                                        ? KafkaError.fatal(of: pointer) : KafkaError(code, topic: message.topic)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Serves the main queue once: delivery reports resume their senders;
    /// errors are logged, and a fatal one stops new sends.
    func pollEvents(timeoutMilliseconds: Int32) {
        do {
            try self.handle.withPointer { pointer in
                guard let queue = self.handle.mainQueue, let event = rd_kafka_queue_poll(queue, timeoutMilliseconds) else {
                    return
                }
                defer { rd_kafka_event_destroy(event) }
                switch rd_kafka_event_type(event) {
                case RD_KAFKA_EVENT_DR:
                    while let message = rd_kafka_event_message_next(event) {
                        self.deliver(message.pointee, handle: pointer)
                    }
                case RD_KAFKA_EVENT_ERROR:
                    let code = rd_kafka_event_error(event)
                    let text = String(cString: rd_kafka_event_error_string(event))
                    if rd_kafka_event_error_is_fatal(event) != 0 {
                        self.recordFatal(KafkaError.fatal(of: pointer))
                    } else {
                        self.logger.warning(
                            "Kafka producer error",
                            metadata: ["error": "\(text)", "code": "\(String(cString: rd_kafka_err2name(code)))"]
                        )
                    }
                default:
                    break
                }
            }
        } catch {
            // The handle is being destroyed: nothing left to serve.
        }
    }

    private func deliver(_ message: rd_kafka_message_t, handle: OpaquePointer) {
        let id = UInt(bitPattern: message._private)
        let topic = message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        guard message.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let error = message.err == RD_KAFKA_RESP_ERR__FATAL
                ? KafkaError.fatal(of: handle) : KafkaError(message.err, topic: topic)
            if case .fatal = error { self.recordFatal(error) }
            self.complete(id: id, with: .failure(error))
            return
        }
        let report = KafkaDeliveryReport(topic: topic, partition: Int(message.partition), offset: message.offset)
        self.complete(id: id, with: .success(report))
    }

    /// `rd_kafka_flush`: blocks until librdkafka's queues are empty (the poll
    /// thread keeps serving the reports meanwhile). Runs on the blocking pool.
    static func flushBlocking(_ handle: RDKafkaHandle, timeout: Duration) throws {
        let code = try handle.withPointer { rd_kafka_flush($0, Int32(clamping: timeout.wholeMilliseconds)) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code, operation: "flush") }
    }

    /// Drops queued and in-flight messages; their senders get ``KafkaError/shutDown``.
    func purge() {
        _ = try? self.handle.withPointer { rd_kafka_purge($0, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT) }
    }
}

private func withOptionalBytes<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws -> T) rethrows -> T {
    guard let bytes else { return try body(nil) }
    return try bytes.withUnsafeBytes { try body($0) }
}
