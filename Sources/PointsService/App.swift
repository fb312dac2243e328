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
    /// The `points-service` process: see ``ServiceMain``.
    public static func run() async throws {
        try await ServiceMain.run(
            configuration: { try PointsConfiguration() },
            startupDetails: { ServiceMain.kafkaDetails.merging(["points_unit": "\($0.unit)"]) { $1 } },
            build: buildApplication
        )
    }
}

/// Everything the points service reads at start-up, named as `swapctl`
/// generates it (SwapGenerators' ServiceEnvironment).
public struct PointsConfiguration: ServiceConfiguration {
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
        common = CommonConfiguration(reader: reader, defaultName: "points")
        database = reader.postgres()
        kafkaBrokers = reader.kafkaBrokers()
        consumerGroup = reader.kafkaConsumerGroup()
        topics = reader.kafkaTopics(default: [PointsAwarder.sourceTopic])
        unit = reader.int("POINTS_UNIT", default: 100, in: 1...100_000_000)
        sessionTimeout = reader.kafkaSessionTimeout()
        databasePoolSize = reader.databasePoolSize()
        try reader.finish(service: common.serviceName)
    }
}
