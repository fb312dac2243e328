import Foundation
import Logging
import LocalServers
import SwapKafka

/// A name no other test (or earlier run) uses.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

func producerConfiguration(_ broker: KafkaBroker, messageTimeout: Duration = .seconds(30)) -> KafkaProducerConfiguration {
    var configuration = KafkaProducerConfiguration(bootstrapServers: [broker.bootstrapServers], clientID: "swap-test-producer")
    configuration.messageTimeout = messageTimeout
    configuration.linger = .milliseconds(1)
    if let debug = ProcessInfo.processInfo.environment["SWAP_KAFKA_DEBUG"] { configuration.properties["debug"] = debug }
    return configuration
}

/// Tansu's first group join takes about 2/3 of the session timeout: keep it low.
func consumerConfiguration(_ broker: KafkaBroker, group: String) -> KafkaConsumerConfiguration {
    var configuration = KafkaConsumerConfiguration(
        bootstrapServers: [broker.bootstrapServers], groupID: group, clientID: "swap-test-consumer"
    )
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .seconds(1)
    if let debug = ProcessInfo.processInfo.environment["SWAP_KAFKA_DEBUG"] { configuration.properties["debug"] = debug }
    if let strategy = ProcessInfo.processInfo.environment["SWAP_KAFKA_STRATEGY"] {
        configuration.assignmentStrategy = KafkaAssignmentStrategy(rawValue: strategy) ?? configuration.assignmentStrategy
    }
    return configuration
}

func adminClient(_ broker: KafkaBroker) throws -> KafkaAdmin {
    try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: [broker.bootstrapServers]))
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(self.what)" }
}

/// The consumer's next message, failing after `timeout` (which also closes
/// the consumer, as cancelling its iteration does).
func nextMessage(_ consumer: KafkaConsumer, timeout: Duration = .seconds(30)) async throws -> KafkaConsumerMessage {
    try await withThrowingTaskGroup(of: KafkaConsumerMessage?.self) { group in
        group.addTask {
            var iterator = consumer.messages.makeAsyncIterator()
            guard let message = try await iterator.next() else { throw TimedOut(what: "a message (sequence ended)") }
            return message
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let message = first else { throw TimedOut(what: "a message") }
        return message
    }
}

/// librdkafka's debug logs when `SWAP_KAFKA_DEBUG` names contexts (such as `eos,msg`).
func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    if ProcessInfo.processInfo.environment["SWAP_KAFKA_DEBUG"] != nil { logger.logLevel = .debug }
    return logger
}
