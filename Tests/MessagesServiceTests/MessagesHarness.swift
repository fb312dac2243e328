import Foundation
import HTTPTypes
import LocalServers
import Logging
import MessagesService
import ServiceKit
import ServiceTesting
import SwapKafka
import SwapPostgres

let quietLogger = Logger.quiet("messages-test")

/// The messages service on 127.0.0.1 with its own PostgreSQL and broker,
/// driven over HTTP; everything is stopped when the test ends, also on failure.
struct MessagesHarness: Sendable, TestUserSource {
    static let secret = "messages-test-secret-0123456789abcdef"
    static let tokens = AccessToken(secret: secret)

    let client: ServiceClient
    let port: Int
    let postgres: PostgresPool
    let broker: KafkaBroker
    let topic: String

    static func run(_ body: @Sendable (MessagesHarness) async throws -> Void) async throws {
        try await withPostgres { postgresServer in
            try await withKafkaBroker { broker in
                let topic = "messages.created-\(UUID().uuidString.prefix(8).lowercased())"
                try await createTopic(broker, topic, partitions: 3)
                try await withSecretFiles("messages-test") { secrets in
                    let environment = try ServiceSettings.common("messages", jwtSecretFile: secrets.write("jwt_secret", "\(secret)\n"))
                        .merging(ServiceSettings.database("swap", on: postgresServer, secrets: secrets)) { $1 }
                        .merging(["KAFKA_BROKERS": broker.bootstrapServers]) { $1 }
                    var configuration = try MessagesConfiguration(environment: environment)
                    configuration.eventsTopic = topic
                    configuration.relay.minIdleInterval = .milliseconds(20)
                    configuration.relay.maxIdleInterval = .milliseconds(200)
                    configuration.relay.minErrorBackoff = .milliseconds(100)
                    configuration.relay.maxErrorBackoff = .seconds(1)
                    configuration.relay.shutdownGracePeriod = .seconds(1)
                    let app = try await buildApplication(configuration: configuration, logger: quietLogger)
                    try await withPostgresPool("swap", on: postgresServer) { pool in
                        try await withRunningApplication(app, port: configuration.common.port, readiness: .listening, logger: quietLogger) { running in
                            try await withServiceClient(port: running.port) { client in
                                try await body(MessagesHarness(client: client, port: running.port, postgres: pool, broker: broker, topic: topic))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sends a request on the shared keep-alive connection, or, with
    /// `ownConnection`, on a connection of its own (requests on one HTTP/1.1
    /// connection are served one after the other, so races need their own).
    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ path: String, as user: TestUser?, json: String? = nil,
        headers: [String: String] = [:], ownConnection: Bool = false
    ) async throws -> Reply {
        guard ownConnection else { return try await client.send(method, path, token: user?.token, json: json, headers: headers) }
        return try await withServiceClient(port: port) { try await $0.send(method, path, token: user?.token, json: json, headers: headers) }
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
        try await readWholeTopic(broker, topic)
    }
}
