import Foundation
import Hummingbird
import Logging
import ServiceKit
import SwapKafka
import SwapPostgres

/// The points service (API.md "Points"): loyalty points earned by sending
/// money, and a catalogue of rewards to spend them on.
///
/// It consumes `financial.transactions` as a member of `KAFKA_CONSUMER_GROUP`.
/// For each completed transfer it awards the sender
/// `floor(amount / POINTS_UNIT)` points (deposits, held transfers and awards
/// of 0 earn nothing) in one transaction that also records the event in
/// ``ProcessedEvents`` and enqueues `points.awarded` in the outbox; the
/// offset is committed only after that transaction. An event delivered
/// twice, or again after a consumer died before committing, finds its mark
/// and changes nothing: exactly one award per event.
///
/// Redeeming a reward locks the user's points account, checks the balance
/// and records the redemption and a negative ledger entry in one
/// transaction (with the `Idempotency-Key` record); balances never go below
/// zero (also a CHECK constraint).
public enum PointsApp {
    /// Reads the configuration (exit 2 with every problem listed), bootstraps
    /// JSON logs, then runs the service until SIGTERM/SIGINT.
    public static func run() async throws {
        let configuration: PointsConfiguration
        do {
            configuration = try PointsConfiguration()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(2)
        }
        JSONLogHandler.bootstrap(service: configuration.common.serviceName, level: configuration.common.logLevel)
        let logger = Logger(label: configuration.common.serviceName)
        logger.info("starting", metadata: ["librdkafka": "\(KafkaLibrary.version)", "points_unit": "\(configuration.unit)"])
        let app = try await buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}

/// Everything the points service reads at start-up, named as `swapctl`
/// generates it (SwapGenerators' ServiceEnvironment).
public struct PointsConfiguration: Sendable {
    public var common: CommonConfiguration
    public var database: PostgresConfiguration
    public var kafkaBrokers: [String]
    public var consumerGroup: String
    /// KAFKA_TOPICS (the topology's `consumes`), `financial.transactions` when unset.
    public var topics: [String]
    /// Minor units of money per point (POINTS_UNIT, default 100).
    public var unit: Int
    /// The consumer group's session timeout (KAFKA_SESSION_TIMEOUT, default 10s).
    public var sessionTimeout: Duration
    /// Database sessions of this process (DATABASE_POOL_SIZE, default 10).
    public var databasePoolSize: Int

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let reader = EnvironmentReader(environment)
        var problems: [String] = []
        common = CommonConfiguration(reader: reader, defaultName: "points")
        if let database = common.database {
            self.database = database
        } else {
            problems.append("DATABASE_HOST (or DATABASE_URL_FILE) is required")
            database = PostgresConfiguration(host: "", user: "", database: "")
        }
        kafkaBrokers = (common.kafkaBrokers ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if kafkaBrokers.isEmpty { problems.append("KAFKA_BROKERS is required (host:port[,host:port...])") }
        consumerGroup = common.kafkaConsumerGroup ?? ""
        if consumerGroup.isEmpty { problems.append("KAFKA_CONSUMER_GROUP is required") }
        let topics = common.kafkaTopics.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        self.topics = topics.isEmpty ? [PointsAwarder.sourceTopic] : topics
        unit = reader.int("POINTS_UNIT", default: 100, in: 1...100_000_000)
        sessionTimeout = reader.duration("KAFKA_SESSION_TIMEOUT", default: .seconds(10))
        if sessionTimeout < .seconds(1) || sessionTimeout > .seconds(300) {
            problems.append("KAFKA_SESSION_TIMEOUT must be between 1s and 300s")
        }
        databasePoolSize = reader.int("DATABASE_POOL_SIZE", default: 10, in: 1...500)
        let all = reader.problems + problems
        if !all.isEmpty { throw PointsConfigurationError(service: common.serviceName, problems: all) }
    }
}

/// Start-up configuration was incomplete or malformed: every problem, one per line.
public struct PointsConfigurationError: Error, CustomStringConvertible {
    public var service: String
    public var problems: [String]

    public var description: String {
        "\(service): invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
