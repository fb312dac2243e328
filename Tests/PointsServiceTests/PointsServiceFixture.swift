import Foundation
import Logging
@testable import PointsService
import ServiceKit
import ServiceTesting
import SwapPostgres

let quietLogger = Logger.quiet("points-test", level: .error)

/// Starts the points service against a fresh database and broker (with
/// `financial.transactions` on `sourcePartitions` partitions and
/// `points.awarded`), consuming in a consumer group of its own; runs
/// `body`, then shuts the service down and drops everything, also when
/// `body` throws.
func withPointsService(
    settings: [String: String] = [:],
    sourcePartitions: Int = 1,
    _ body: (ServiceUnderTest) async throws -> Void
) async throws {
    let consumer = [
        "KAFKA_CONSUMER_GROUP": "points-\(UUID().uuidString.prefix(8))",
        "KAFKA_TOPICS": "financial.transactions",
        "KAFKA_SESSION_TIMEOUT": "6s",
    ]
    try await withServiceUnderTest(
        "points",
        settings: consumer.merging(settings) { $1 },
        topics: ["financial.transactions": sourcePartitions, "points.awarded": 3],
        build: { environment in
            try await buildApplication(configuration: PointsConfiguration(environment: environment), logger: quietLogger)
        },
        body
    )
}

/// A fresh database with the points schema, dropped afterwards.
func withPointsDatabase(_ body: (PostgresPool) async throws -> Void) async throws {
    try await withTestDatabase(prefix: "points", maxConnections: 10) { pool, _ in
        try await Migrator(pool: pool, logger: quietLogger).migrate(PointsMigrations.sets)
        try await body(pool)
    }
}

func count(_ sql: PostgresQuery, on pool: PostgresPool) async throws -> Int {
    try await pool.query(sql)[0].decode(Int.self, column: 0)
}
