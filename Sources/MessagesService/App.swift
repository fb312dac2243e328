import Foundation
import Hummingbird
import Logging
import ServiceKit
import SwapKafka
import SwapPostgres

/// Everything the messages service reads at start-up, named as `swapctl`
/// generates it (SwapGenerators' ServiceEnvironment): the common settings,
/// PostgreSQL (required) and the brokers its outbox relay publishes to (required).
public struct MessagesConfiguration: ServiceConfiguration {
    public var common: CommonConfiguration
    public var database: PostgresConfiguration
    public var kafkaBrokers: [String]
    /// The topic `message.created` events go to (topology: `messages.created`).
    public var eventsTopic: String
    /// How the outbox relay polls and retries; tests shorten the intervals.
    public var relay: OutboxRelay.Options
    /// Connections in the PostgreSQL pool (DATABASE_POOL_SIZE, default 10).
    public var databasePoolSize: Int

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let reader = EnvironmentReader(environment)
        common = CommonConfiguration(reader: reader, defaultName: "messages")
        database = reader.postgres()
        kafkaBrokers = reader.kafkaBrokers()
        eventsTopic = "messages.created"
        relay = OutboxRelay.Options(topics: [eventsTopic])
        databasePoolSize = reader.databasePoolSize()
        try reader.finish(service: common.serviceName)
    }
}

public enum MessagesApp {
    /// The `messages-service` process: see ``ServiceMain``.
    public static func run() async throws {
        try await ServiceMain.run(configuration: { try MessagesConfiguration() }, startupDetails: { _ in ServiceMain.kafkaDetails }, build: buildApplication)
    }
}
