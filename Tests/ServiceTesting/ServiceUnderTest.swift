import Foundation
import LocalServers
import Logging
import ServiceKit
import ServiceLifecycle
import SwapPostgres

/// A service running on 127.0.0.1 against a database of its own on the
/// shared PostgreSQL server and a broker of its own.
public struct ServiceUnderTest: Sendable {
    public let port: Int
    /// The test's own pool on the service's database, for set-up and checks.
    public let pool: PostgresPool
    public let broker: KafkaBroker
    /// Signs with the service's JWT secret.
    public let tokens: AccessToken

    /// A token for `user`, valid for an hour.
    public func token(_ user: UUID) -> String {
        tokens.sign(user: user, email: "\(user)@example.com", lifetime: .seconds(3600))
    }

    /// A new keep-alive connection to the service; the caller closes it.
    public func client() -> ServiceClient {
        ServiceClient(port: port)
    }
}

/// Starts the service `name` against a fresh database and broker, runs
/// `body`, then shuts the service down and drops everything, also when
/// `body` throws.
///
/// - Parameters:
///   - settings: merged over the standard ones (`SERVICE_NAME`, `HOST`,
///     `PORT`, `JWT_SECRET_FILE`, `DATABASE_URL_FILE`, `KAFKA_BROKERS`).
///   - topics: created, with their partition counts, before `prepare`.
///   - prepare: runs on the empty database before the service starts.
///   - build: the service's application for the final settings, listening on their `PORT`.
public func withServiceUnderTest(
    _ name: String,
    settings: [String: String] = [:],
    topics: [String: Int] = [:],
    prepare: (PostgresPool) async throws -> Void = { _ in },
    build: ([String: String]) async throws -> any Service,
    _ body: (ServiceUnderTest) async throws -> Void
) async throws {
    try await withTestDatabase(prefix: name, maxConnections: 4) { pool, database in
        try await withKafkaBroker { broker in
            for (topic, partitions) in topics.sorted(by: { $0.key < $1.key }) {
                try await createTopic(broker, topic, partitions: partitions)
            }
            try await prepare(pool)
            try await withSecretFiles("\(name)-secrets") { secrets in
                let jwtSecret = UUID().uuidString + UUID().uuidString
                let environment = try ServiceSettings.common(name, jwtSecretFile: secrets.write("jwt_secret", jwtSecret)).merging([
                    "DATABASE_URL_FILE": try secrets.write("database_url", database.url + "\n"),
                    "KAFKA_BROKERS": broker.bootstrapServers,
                ]) { $1 }.merging(settings) { $1 }
                let port = Int(environment["PORT"]!)!
                let application = try await build(environment)
                let logger = Logger.quiet("\(name)-test", level: .error)
                try await withRunningApplication(application, port: port, logger: logger) { _ in
                    try await body(ServiceUnderTest(port: port, pool: pool, broker: broker, tokens: AccessToken(secret: jwtSecret)))
                }
            }
        }
    }
}
