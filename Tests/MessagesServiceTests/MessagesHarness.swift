import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LocalServers
import Logging
import MessagesService
import NIOCore
import ServiceKit
import SwapKafka
import SwapPostgres

let testSecret = "messages-test-secret-0123456789abcdef"

/// A signed-in test user: a row in auth.users and an access token for it.
struct TestUser: Sendable {
    let id: UUID
    let token: String
    var idString: String { id.uuidString.lowercased() }
}

/// The messages service on 127.0.0.1 with its own PostgreSQL and broker,
/// driven over HTTP; everything is stopped when the test ends, also on failure.
struct MessagesHarness: Sendable {
    let client: any TestClientProtocol
    let postgres: PostgresPool
    let broker: KafkaBroker
    let topic: String

    static func run(_ body: @Sendable (MessagesHarness) async throws -> Void) async throws {
        try await withPostgres { postgresServer in
            try await withKafkaBroker { broker in
                let topic = "messages.created-\(UUID().uuidString.prefix(8).lowercased())"
                let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: [broker.bootstrapServers]))
                try await admin.createTopic(KafkaTopicSpecification(name: topic, partitions: 3, replicationFactor: 1))
                await admin.shutdown()

                let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("messages-test-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: secrets) }
                let jwtFile = secrets.appendingPathComponent("jwt_secret")
                let passwordFile = secrets.appendingPathComponent("db_password")
                try Data("\(testSecret)\n".utf8).write(to: jwtFile)
                try Data("unused\n".utf8).write(to: passwordFile)
                let environment = [
                    "SERVICE_NAME": "messages",
                    "PORT": "3001",
                    "HOST": "127.0.0.1",
                    "JWT_SECRET_FILE": jwtFile.path,
                    "DATABASE_HOST": postgresServer.host,
                    "DATABASE_PORT": String(postgresServer.port),
                    "DATABASE_NAME": "swap",
                    "DATABASE_USER": postgresServer.user,
                    "DATABASE_PASSWORD_FILE": passwordFile.path,
                    "KAFKA_BROKERS": broker.bootstrapServers,
                ]
                var configuration = try MessagesConfiguration(environment: environment)
                configuration.common.port = 0
                configuration.eventsTopic = topic
                configuration.relay.minIdleInterval = .milliseconds(20)
                configuration.relay.maxIdleInterval = .milliseconds(200)
                configuration.relay.minErrorBackoff = .milliseconds(100)
                configuration.relay.maxErrorBackoff = .seconds(1)
                configuration.relay.shutdownGracePeriod = .seconds(1)
                let app = try await buildApplication(configuration: configuration, logger: quietLogger)
                let pool = PostgresPool(configuration: PostgresConfiguration(connectionString: postgresServer.url(database: "swap")), maxConnections: 4)
                do {
                    try await app.test(.live) { client in
                        try await body(MessagesHarness(client: client, postgres: pool, broker: broker, topic: topic))
                    }
                    await pool.close()
                } catch {
                    await pool.close()
                    throw error
                }
            }
        }
    }

    /// Inserts a user into auth.users (as the gateway's sign-up would) and signs a token for it.
    func user(_ name: String = "user") async throws -> TestUser {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let rows = try await postgres.query("INSERT INTO auth.users (email, encrypted_password) VALUES (\(email), 'x') RETURNING id")
        let id = try rows[0].decode(UUID.self, column: 0)
        return TestUser(id: id, token: Self.token(for: id, email: email))
    }

    static func token(for id: UUID, email: String = "someone@example.com") -> String {
        let now = Int(Date().timeIntervalSince1970)
        return AccessToken(secret: testSecret).sign(.init(sub: id.uuidString.lowercased(), email: email, iat: now, exp: now + 600))
    }

    /// Sends a request on the shared keep-alive connection, or, with
    /// `ownConnection`, on a connection of its own (requests on one HTTP/1.1
    /// connection are served one after the other, so races need their own).
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ path: String, as user: TestUser?, json: String? = nil,
        headers extra: HTTPFields = [:], ownConnection: Bool = false
    ) async throws -> Reply {
        var headers = extra
        if let user { headers[.authorization] = "Bearer \(user.token)" }
        var body: ByteBuffer?
        if let json {
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            body = ByteBuffer(string: json)
        }
        if ownConnection, let port = client.port {
            let request = TestClient.Request(path, method: method, headers: headers, body: body)
            let response = try await TestClient.withClient(host: "127.0.0.1", port: port) { try await $0.execute(request) }
            return Reply(status: Int(response.status.code), headers: response.headers, body: response.body.map { Array($0.readableBytesView) } ?? [])
        }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(response.body.readableBytesView))
    }

    /// Opens (or finds) a conversation and returns its id.
    func open(_ user: TestUser, with other: TestUser, listing: String? = nil) async throws -> String {
        var json = "{\"participant_id\": \"\(other.idString)\""
        if let listing { json += ", \"listing_id\": \"\(listing)\"" }
        let reply = try await send(.post, "/api/v1/conversations", as: user, json: json + "}")
        guard [200, 201].contains(reply.status), let id = reply.object("conversation")?["id"] as? String else {
            throw TestFailure("opening a conversation answered \(reply.status): \(reply.text)")
        }
        return id
    }

    /// Posts a message and returns the reply.
    @discardableResult
    func post(_ user: TestUser, in conversation: String, body: String, clientMessageID: String = UUID().uuidString) async throws -> Reply {
        let json = try JSONSerialization.data(withJSONObject: ["body": body, "client_message_id": clientMessageID])
        return try await send(.post, "/api/v1/conversations/\(conversation)/messages", as: user, json: String(decoding: json, as: UTF8.self))
    }

    /// Every message of the topic, all partitions.
    func topicMessages() async throws -> [KafkaConsumerMessage] {
        let reader = try KafkaPartitionReader(configuration: KafkaPartitionReaderConfiguration(bootstrapServers: [broker.bootstrapServers]))
        do {
            var ranges: [KafkaPartitionRange] = []
            for partition in try await reader.partitions(of: topic) {
                let marks = try await reader.watermarks(topic: topic, partition: partition)
                ranges.append(KafkaPartitionRange(topic: topic, partition: partition, start: marks.low, end: marks.high))
            }
            let messages = try await reader.read(ranges, maxMessages: 1_000_000)
            await reader.shutdown()
            return messages
        } catch {
            await reader.shutdown()
            throw error
        }
    }
}

struct Reply: Sendable {
    let status: Int
    let headers: HTTPFields
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    func object(_ name: String) -> [String: Any]? { json[name] as? [String: Any] }
    var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    var nextCursor: String? { json["next_cursor"] as? String }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let quietLogger: Logger = {
    var logger = Logger(label: "messages-test")
    logger.logLevel = .warning
    return logger
}()

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
