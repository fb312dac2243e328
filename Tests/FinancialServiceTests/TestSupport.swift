import FinancialService
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
    var logger = Logger(label: "financial-test")
    logger.logLevel = .error
    return logger
}()

/// A running financial service on 127.0.0.1 with its own database and broker.
struct RunningService: Sendable {
    let port: Int
    /// The test's own pool on the service's database, for set-up and checks.
    let pool: PostgresPool
    let broker: KafkaBroker
    let tokens: AccessToken

    /// Inserts a user as the gateway's sign-up does; the trigger creates the wallet.
    func createUser(_ email: String = "user-\(UUID().uuidString.prefix(8).lowercased())@example.com") async throws -> UUID {
        try await Self.insertUser(email, on: pool)
    }

    static func insertUser(_ email: String, on pool: PostgresPool) async throws -> UUID {
        let rows = try await pool.query("""
            INSERT INTO auth.users (email, encrypted_password) VALUES (\(email.lowercased()), 'not-a-real-hash') RETURNING id
            """)
        return try rows[0].decode(UUID.self, column: 0)
    }

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

/// API.md's transaction, as a client decodes it.
struct TransactionJSON: Decodable, Equatable, Sendable {
    var id: UUID
    var kind: String
    var fromUserId: UUID?
    var toUserId: UUID
    var amount: Int
    var status: String
    var note: String?
    var createdAt: Date
}

struct TransactionReply: Decodable, Sendable {
    var transaction: TransactionJSON
}

struct WalletJSON: Decodable, Sendable {
    var userId: UUID
    var balance: Int
    var currency: String
    var updatedAt: Date
}

struct TransactionPage: Decodable, Sendable {
    var items: [TransactionJSON]
    var nextCursor: String?
}

/// Starts the service against a fresh database and broker, runs `body`,
/// then shuts the service down and drops everything, also when `body` throws.
func withFinancialService(
    settings: [String: String] = [:],
    prepare: (PostgresPool) async throws -> Void = { _ in },
    _ body: (RunningService) async throws -> Void
) async throws {
    let server = try await SharedServers.shared.postgresServer()
    let database = "financial_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await server.createDatabase(database)
    let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: server.url(database: database)), maxConnections: 4)
    let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("financial-secrets-\(UUID().uuidString)")
    var broker: KafkaBroker?
    do {
        try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
        let jwtSecret = UUID().uuidString + UUID().uuidString
        try Data(jwtSecret.utf8).write(to: secrets.appendingPathComponent("jwt_secret"))
        try Data((server.url(database: database) + "\n").utf8).write(to: secrets.appendingPathComponent("database_url"))
        let kafka = try await KafkaBroker.start()
        broker = kafka
        try await createTopic(kafka, "financial.transactions", partitions: 6)
        try await prepare(pool)

        var environment = [
            "SERVICE_NAME": "financial",
            "HOST": "127.0.0.1",
            "PORT": String(try FreePort.next()),
            "JWT_SECRET_FILE": secrets.appendingPathComponent("jwt_secret").path,
            "DATABASE_URL_FILE": secrets.appendingPathComponent("database_url").path,
            "KAFKA_BROKERS": kafka.bootstrapServers,
            "DATABASE_POOL_SIZE": "12",
        ]
        environment.merge(settings) { $1 }
        let configuration = try FinancialConfiguration(environment: environment)
        let app = try await buildApplication(configuration: configuration, logger: quietLogger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: quietLogger)
        let running = Task { try await group.run() }
        let service = RunningService(port: configuration.common.port, pool: pool, broker: kafka, tokens: AccessToken(secret: jwtSecret))
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
