import CRdKafka

// The admin client's librdkafka calls; all run on the blocking pool.
extension KafkaAdmin {
    static func createTopicsBlocking(
        _ handle: RDKafkaHandle, topics: [KafkaTopicSpecification], ifNotExists: Bool, timeout: Duration
    ) throws {
        let milliseconds = Int32(clamping: timeout.wholeMilliseconds)
        try handle.withPointer { pointer in
            var errorText = [CChar](repeating: 0, count: 512)
            var newTopics: [OpaquePointer?] = []
            defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
            for spec in topics {
                guard spec.partitions > 0 else {
                    throw KafkaError.invalidConfiguration(key: "topic \(spec.name)", reason: "needs at least one partition")
                }
                guard let topic = rd_kafka_NewTopic_new(
                    spec.name, Int32(clamping: spec.partitions), Int32(clamping: spec.replicationFactor ?? -1),
                    &errorText, errorText.count
                ) else {
                    throw KafkaError.invalidConfiguration(key: "topic \(spec.name)", reason: errorText.nulTerminatedString)
                }
                newTopics.append(topic)
                for (key, value) in spec.config.sorted(by: { $0.key < $1.key }) {
                    let code = rd_kafka_NewTopic_set_config(topic, key, value)
                    guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                        throw KafkaError.invalidConfiguration(key: key, reason: String(cString: rd_kafka_err2str(code)))
                    }
                }
            }

            guard let options = rd_kafka_AdminOptions_new(pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS) else {
                throw KafkaError.clientCreationFailed(reason: "rd_kafka_AdminOptions_new failed")
            }
            defer { rd_kafka_AdminOptions_destroy(options) }
            _ = rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, &errorText, errorText.count)
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds, &errorText, errorText.count)
            guard let queue = rd_kafka_queue_new(pointer) else {
                throw KafkaError.clientCreationFailed(reason: "rd_kafka_queue_new failed")
            }
            defer { rd_kafka_queue_destroy(queue) }

            newTopics.withUnsafeMutableBufferPointer { topics in
                rd_kafka_CreateTopics(pointer, topics.baseAddress, topics.count, options, queue)
            }
            // librdkafka answers by the request timeout; the margin covers its own scheduling.
            guard let event = rd_kafka_queue_poll(queue, milliseconds + 5000) else {
                throw KafkaError.timedOut(operation: "create topics")
            }
            defer { rd_kafka_event_destroy(event) }
            let requestError = rd_kafka_event_error(event)
            guard requestError == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(requestError, operation: "create topics")
            }
            guard let result = rd_kafka_event_CreateTopics_result(event) else {
                throw KafkaError.kafka(code: -1, name: "ERR__BAD_EVENT", reason: "no CreateTopics result")
            }
            var count = 0
            guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
            for index in 0..<count {
                guard let topicResult = results[index] else { continue }
                let code = rd_kafka_topic_result_error(topicResult)
                let name = String(cString: rd_kafka_topic_result_name(topicResult))
                if code == RD_KAFKA_RESP_ERR_NO_ERROR || (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && ifNotExists) {
                    continue
                }
                switch KafkaError(code, topic: name, operation: "create topic \(name)") {
                case .kafka(let code, let errorName, _):
                    let reason = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
                    throw KafkaError.kafka(code: code, name: errorName, reason: "\(name): \(reason)")
                case let error:
                    throw error
                }
            }
        }
    }

    static func metadataBlocking(_ handle: RDKafkaHandle, timeout: Duration) throws -> [KafkaTopicMetadata] {
        try handle.withPointer { pointer in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let code = rd_kafka_metadata(pointer, 1, nil, &metadata, Int32(clamping: timeout.wholeMilliseconds))
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                throw KafkaError(code, operation: "metadata")
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            var topics: [KafkaTopicMetadata] = []
            for index in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[index]
                guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR, let name = topic.topic else { continue }
                let partitions = (0..<Int(topic.partition_cnt)).map { Int(topic.partitions[$0].id) }
                topics.append(KafkaTopicMetadata(name: String(cString: name), partitions: partitions.sorted()))
            }
            return topics.sorted { $0.name < $1.name }
        }
    }
}
