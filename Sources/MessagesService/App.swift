import Foundation
import Hummingbird
import Logging
import ServiceKit
import SwapKafka
import SwapPostgres

/// Everything the messages service reads at start-up, named as `swapctl`
/// generates it (SwapGenerators' ServiceEnvironment): the common settings,
/// PostgreSQL (required) and the brokers its outbox relay publishes to (required).
public struct MessagesConfiguration: Sendable {
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
        var problems: [String] = []
        if let database = common.database {
            self.database = database
        } else {
            problems.append("DATABASE_HOST (or DATABASE_URL_FILE) is required")
            database = PostgresConfiguration(host: "", user: "", database: "")
        }
        kafkaBrokers = (common.kafkaBrokers ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if kafkaBrokers.isEmpty { problems.append("KAFKA_BROKERS is required (the outbox relay publishes messages.created)") }
        eventsTopic = "messages.created"
        relay = OutboxRelay.Options(topics: [eventsTopic])
        databasePoolSize = reader.int("DATABASE_POOL_SIZE", default: 10, in: 1...200)
        problems = reader.problems + problems
        if !problems.isEmpty { throw MessagesConfigurationError(service: common.serviceName, problems: problems) }
    }
}

/// Start-up configuration was incomplete or malformed: every problem, one per line.
public struct MessagesConfigurationError: Error, CustomStringConvertible {
    public var service: String
    public var problems: [String]

    public var description: String {
        "\(service): invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// The messages-service process: configuration, JSON logs, then the
/// application until SIGTERM/SIGINT.
public enum MessagesApp {
    public static func run() async throws {
        let configuration: MessagesConfiguration
        do {
            configuration = try MessagesConfiguration()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(2)
        }
        JSONLogHandler.bootstrap(service: configuration.common.serviceName, level: configuration.common.logLevel)
        let logger = Logger(label: configuration.common.serviceName)
        logger.info("starting", metadata: ["librdkafka": "\(KafkaLibrary.version)"])
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}
