import LocalServers
import ServiceKit
import SwapKafka

extension KafkaProducer {
    /// Sends `envelope` as the services' outbox relays do: its key, the JSON
    /// value, `event_id` and `type` headers; returns once it is acknowledged.
    public func send(_ envelope: EventEnvelope) async throws {
        _ = try await send(topic: envelope.topic, key: Array(envelope.key.utf8), value: Array(try envelope.encodedValue()), headers: envelope.headers)
    }
}

/// Produces `events` to their topics in order, each acknowledged before the next.
public func publish(_ events: [EventEnvelope], to broker: KafkaBroker) async throws {
    var configuration = KafkaProducerConfiguration(bootstrapServers: [broker.bootstrapServers], clientID: "service-test")
    configuration.linger = .zero
    let producer = try KafkaProducer(configuration: configuration)
    do {
        for event in events { try await producer.send(event) }
    } catch {
        await producer.shutdown()
        throw error
    }
    await producer.shutdown()
}
