@testable import PointsService
import Foundation
import HTTPTypes
import HummingbirdTesting
import LocalServers
import Logging
import NIOCore
import ServiceKit
import ServiceLifecycle
import SwapKafka
import SwapPostgres

/// One PostgreSQL server for the test process (LocalServers stops it at
/// exit); every test gets its own database and its own broker.
actor SharedServers {
    static let shared = SharedServers()
    // A task, not the server: suites run in parallel, and an actor is
    // re-entered at the await, so two callers must share one start.
    private var postgres: Task<PostgresServer, any Error>?

    func postgresServer() async throws -> PostgresServer {
        if let postgres { return try await postgres.value }
        let starting = Task {
            var options = PostgresServer.Options()
            options.database = nil
            return try await PostgresServer.start(options)
        }
        postgres = starting
        return try await starting.value
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "points-test")
    logger.logLevel = .error
    return logger
}()

/// A running points service on 127.0.0.1 with its own database and broker.
struct RunningService: Sendable {
    let port: Int
    /// The test's own pool on the service's database, for set-up and checks.
    let pool: PostgresPool
    let broker: KafkaBroker
    let tokens: AccessToken
    /// The service's consumer group.
    let group: String

    func token(_ user: UUID) -> String {
        let now = Int(Date().timeIntervalSince1970)
        return tokens.sign(.init(sub: user.uuidString.lowercased(), email: "\(user)@example.com", iat: now, exp: now + 3600))
    }

    func client() -> APIClient {
        APIClient(port: port)
    }
}

/// One keep-alive HTTP/1.1 connection to the service (HummingbirdTesting's TestClient).
struct APIClient: Sendable {
    let client: TestClient

    init(port: Int) {
        client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30)))
        client.connect()
    }

    func send(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: String? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        let response = try await client.execute(.init(path, method: method, authority: "127.0.0.1", headers: headers, body: json.map { ByteBuffer(string: $0) }))
        return Reply(status: response.status.code, headers: response.headers, body: Data((response.body ?? ByteBuffer()).readableBytesView))
    }

    func close() async {
        try? await client.shutdown()
    }
}

struct Reply: Sendable {
    var status: Int
    var headers: HTTPFields
    var body: Data

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var requestID: String? { headers[HTTPField.Name("X-Request-ID")!] }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try APIJSON.decoder.decode(T.self, from: body)
    }
}

struct PointsJSON: Decodable, Equatable, Sendable {
    var userId: UUID
    var balance: Int
    var lifetime: Int
}

struct HistoryJSON: Decodable, Equatable, Sendable {
    var id: UUID
    var delta: Int
    var reason: String
    var sourceEventId: UUID?
    var createdAt: Date
}

struct HistoryPage: Decodable, Sendable {
    var items: [HistoryJSON]
    var nextCursor: String?
}

struct RewardJSON: Decodable, Equatable, Sendable {
    var id: UUID
    var name: String
    var cost: Int
}

struct RedemptionJSON: Decodable, Equatable, Sendable {
    var id: UUID
    var rewardId: UUID
    var cost: Int
    var createdAt: Date
}

struct RedemptionReply: Decodable, Sendable {
    var redemption: RedemptionJSON
}

/// Starts the service against a fresh database and broker, runs `body`,
/// then shuts the service down and drops everything, also when `body` throws.
func withPointsService(
    settings: [String: String] = [:],
    sourcePartitions: Int = 1,
    _ body: (RunningService) async throws -> Void
) async throws {
    let server = try await SharedServers.shared.postgresServer()
    let database = "points_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await server.createDatabase(database)
    let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: server.url(database: database)), maxConnections: 4)
    let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("points-secrets-\(UUID().uuidString)")
    var broker: KafkaBroker?
    do {
        try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
        let jwtSecret = UUID().uuidString + UUID().uuidString
        try Data(jwtSecret.utf8).write(to: secrets.appendingPathComponent("jwt_secret"))
        try Data((server.url(database: database) + "\n").utf8).write(to: secrets.appendingPathComponent("database_url"))
        let kafka = try await KafkaBroker.start()
        broker = kafka
        try await createTopic(kafka, "financial.transactions", partitions: sourcePartitions)
        try await createTopic(kafka, "points.awarded", partitions: 3)

        var environment = [
            "SERVICE_NAME": "points",
            "HOST": "127.0.0.1",
            "PORT": String(try FreePort.next()),
            "JWT_SECRET_FILE": secrets.appendingPathComponent("jwt_secret").path,
            "DATABASE_URL_FILE": secrets.appendingPathComponent("database_url").path,
            "KAFKA_BROKERS": kafka.bootstrapServers,
            "KAFKA_CONSUMER_GROUP": "points-\(UUID().uuidString.prefix(8))",
            "KAFKA_TOPICS": "financial.transactions",
            "KAFKA_SESSION_TIMEOUT": "6s",
        ]
        environment.merge(settings) { $1 }
        let configuration = try PointsConfiguration(environment: environment)
        let app = try await buildApplication(configuration: configuration, logger: quietLogger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: quietLogger)
        let running = Task { try await group.run() }
        let service = RunningService(port: configuration.common.port, pool: pool, broker: kafka, tokens: AccessToken(secret: jwtSecret), group: configuration.consumerGroup)
        do {
            try await waitUntilListening(port: service.port)
            try await body(service)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.value
    } catch {
        await pool.close()
        await broker?.stop()
        try? await server.dropDatabase(database)
        try? FileManager.default.removeItem(at: secrets)
        throw error
    }
    await pool.close()
    await broker?.stop()
    try await server.dropDatabase(database)
    try? FileManager.default.removeItem(at: secrets)
}

func waitUntilListening(port: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while true {
        let client = APIClient(port: port)
        let status = try? await client.send(.get, "/health").status
        await client.close()
        if status == 200 { return }
        guard ContinuousClock.now < deadline else { throw TestFailure("the service did not start listening on port \(port)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func createTopic(_ broker: KafkaBroker, _ name: String, partitions: Int) async throws {
    let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: [broker.bootstrapServers]))
    do {
        try await admin.createTopic(KafkaTopicSpecification(name: name, partitions: partitions, replicationFactor: 1))
    } catch {
        await admin.shutdown()
        throw error
    }
    await admin.shutdown()
}

/// Every message of `topic`, all partitions.
func readWholeTopic(_ broker: KafkaBroker, _ topic: String) async throws -> [KafkaConsumerMessage] {
    let reader = try KafkaPartitionReader(configuration: KafkaPartitionReaderConfiguration(bootstrapServers: [broker.bootstrapServers]))
    do {
        var ranges: [KafkaPartitionRange] = []
        for partition in try await reader.partitions(of: topic) {
            let marks = try await reader.watermarks(topic: topic, partition: partition)
            if marks.high > marks.low {
                ranges.append(KafkaPartitionRange(topic: topic, partition: partition, start: marks.low, end: marks.high))
            }
        }
        let messages = ranges.isEmpty ? [] : try await reader.read(ranges, maxMessages: 1_000_000)
        await reader.shutdown()
        return messages
    } catch {
        await reader.shutdown()
        throw error
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return try await condition()
}

/// A JSON object literal from a dictionary (values as JSONSerialization takes them).
func json(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

/// The `data` of a `transaction.completed` event, as the financial service publishes it.
struct TransactionData: Codable, Sendable {
    var id = UUID()
    var kind = "transfer"
    var fromUserId: UUID?
    var toUserId: UUID
    var amount: Int
    var status = "completed"
    var note: String?
    var createdAt = Date()
}

/// A `transaction.completed` event on `financial.transactions`, keyed by its initiator.
func transactionEvent(
    kind: String = "transfer", from: UUID?, to: UUID, amount: Int, status: String = "completed", type: String = "transaction.completed"
) throws -> EventEnvelope {
    let data = TransactionData(kind: kind, fromUserId: from, toUserId: to, amount: amount, status: status)
    return try EventEnvelope(topic: "financial.transactions", key: (from ?? to).uuidString.lowercased(), type: type, data: data)
}

/// Produces `events` (in order, each acknowledged) to their topics.
func publish(_ events: [EventEnvelope], to broker: KafkaBroker) async throws {
    var configuration = KafkaProducerConfiguration(bootstrapServers: [broker.bootstrapServers], clientID: "points-test")
    configuration.linger = .zero
    let producer = try KafkaProducer(configuration: configuration)
    do {
        for event in events {
            _ = try await producer.send(topic: event.topic, key: Array(event.key.utf8), value: Array(try event.encodedValue()), headers: event.headers)
        }
    } catch {
        await producer.shutdown()
        throw error
    }
    await producer.shutdown()
}

/// A fresh database with the points schema, dropped afterwards.
func withPointsDatabase(_ body: (PostgresPool) async throws -> Void) async throws {
    let server = try await SharedServers.shared.postgresServer()
    let database = "points_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await server.createDatabase(database)
    let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: server.url(database: database)), maxConnections: 10)
    do {
        try await Migrator(pool: pool, logger: quietLogger).migrate(PointsMigrations.sets)
        try await body(pool)
    } catch {
        await pool.close()
        try? await server.dropDatabase(database)
        throw error
    }
    await pool.close()
    try await server.dropDatabase(database)
}

func count(_ sql: PostgresQuery, on pool: PostgresPool) async throws -> Int {
    try await pool.query(sql)[0].decode(Int.self, column: 0)
}
