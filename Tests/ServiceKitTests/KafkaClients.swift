import Foundation
import LocalServers
import SwapKafka

/// A name no other test (or earlier run) uses.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

func producerConfiguration(_ broker: KafkaBroker) -> KafkaProducerConfiguration {
    var configuration = KafkaProducerConfiguration(bootstrapServers: [broker.bootstrapServers], clientID: "servicekit-test")
    configuration.linger = .milliseconds(1)
    return configuration
}

/// Tansu's first group join takes about 2/3 of the session timeout: keep it low.
func consumerConfiguration(_ broker: KafkaBroker, group: String) -> KafkaConsumerConfiguration {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: [broker.bootstrapServers], groupID: group, clientID: "servicekit-test")
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .seconds(1)
    return configuration
}

/// The value of the header `key` of `message`, as text.
func header(_ message: KafkaConsumerMessage, _ key: String) -> String? {
    message.headers.first { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) }
}
