import AsyncHTTPClient
import Foundation
import LocalServers
import Logging
import NIOCore
import NIOHTTP1
import RealtimeService
import ServiceKit
import ServiceLifecycle
import SwapKafka
import Testing

/// One Redis, one broker and two replicas of the service for the whole
/// suite: replica A serves sockets only (no consumer), replica B also
/// consumes, so every event a client on A receives crossed replicas through
/// Redis. Tests isolate themselves with fresh user ids.
struct RealtimeEnvironmentTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let environment = try await RealtimeEnvironment.start()
        do {
            try await RealtimeEnvironment.$current.withValue(environment) { try await function() }
        } catch {
            await environment.stop()
            throw error
        }
        await environment.stop()
    }
}

extension Trait where Self == RealtimeEnvironmentTrait {
    static var realtimeEnvironment: Self { Self() }
}

final class RealtimeEnvironment: Sendable {
    @TaskLocal static var current: RealtimeEnvironment?

    static let secret = "realtime-test-secret-0123456789abcdef"
    static let group = "swap-realtime-test"

    let redis: RedisServer
    let broker: KafkaBroker
    let producer: KafkaProducer
    let secretFolder: URL
    let http: HTTPClient
    /// Sockets only.
    let replicaA: Replica
    /// Sockets and the consumer.
    let replicaB: Replica

    static var shared: RealtimeEnvironment {
        get throws {
            guard let current else { throw TestSetupError("the suite needs the .realtimeEnvironment trait") }
            return current
        }
    }

    private init(redis: RedisServer, broker: KafkaBroker, producer: KafkaProducer, secretFolder: URL, http: HTTPClient, replicaA: Replica, replicaB: Replica) {
        self.redis = redis
        self.broker = broker
        self.producer = producer
        self.secretFolder = secretFolder
        self.http = http
        self.replicaA = replicaA
        self.replicaB = replicaB
    }

    static func start() async throws -> RealtimeEnvironment {
        let redis = try await RedisServer.start()
        let broker: KafkaBroker
        do {
            broker = try await KafkaBroker.start()
        } catch {
            await redis.stop()
            throw error
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("realtime-test-\(UUID().uuidString)")
        var replicas: [Replica] = []
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(secret.utf8).write(to: folder.appendingPathComponent("jwt_secret"))
            let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: [broker.bootstrapServers]))
            try await admin.createTopics(RealtimeConfiguration.defaultTopics.map {
                KafkaTopicSpecification(name: $0, partitions: 3, replicationFactor: 1)
            })
            await admin.shutdown()
            var configuration = KafkaProducerConfiguration(bootstrapServers: [broker.bootstrapServers], clientID: "realtime-test")
            configuration.linger = .milliseconds(1)
            let producer = try KafkaProducer(configuration: configuration)
            replicas.append(try await Replica.start(name: "realtime-a", consumer: false, redis: redis, broker: broker, secretFolder: folder))
            replicas.append(try await Replica.start(name: "realtime-b", consumer: true, redis: redis, broker: broker, secretFolder: folder))
            return RealtimeEnvironment(
                redis: redis, broker: broker, producer: producer, secretFolder: folder, http: http,
                replicaA: replicas[0], replicaB: replicas[1]
            )
        } catch {
            for replica in replicas { await replica.stop() }
            try? await http.shutdown()
            await broker.stop()
            await redis.stop()
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
    }

    func stop() async {
        await replicaA.stop()
        await replicaB.stop()
        await producer.shutdown(timeout: .seconds(5))
        try? await http.shutdown()
        await broker.stop()
        await redis.stop()
        try? FileManager.default.removeItem(at: secretFolder)
    }

    /// Starts one more replica (sockets only), for tests that stop it.
    func startReplica(name: String, settings: [String: String] = [:]) async throws -> Replica {
        try await Replica.start(name: name, consumer: false, redis: redis, broker: broker, secretFolder: secretFolder, settings: settings)
    }

    // MARK: Tokens and events

    func token(for user: UUID, expiresIn: TimeInterval = 3600) -> String {
        let now = Int(Date().timeIntervalSince1970)
        return AccessToken(secret: Self.secret).sign(.init(
            sub: user.uuidString.lowercased(), email: "\(user.uuidString.prefix(8))@example.com", iat: now, exp: now + Int(expiresIn)
        ))
    }

    /// Produces `envelope` as the other services' outbox relays do: JSON value, key, `event_id`/`type` headers.
    func produce(_ envelope: EventEnvelope) async throws {
        _ = try await producer.send(
            topic: envelope.topic, key: Array(envelope.key.utf8), value: Array(try envelope.encodedValue()), headers: envelope.headers
        )
    }

    // MARK: HTTP

    func get(_ replica: Replica, _ path: String, headers: [(String, String)] = []) async throws -> (status: Int, headers: [(String, String)], body: Data) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(replica.port)\(path)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.map { ($0.name, $0.value) }, Data(body.readableBytesView))
    }

    func isOnline(_ user: UUID, via replica: Replica, asking asker: UUID = UUID()) async throws -> Bool {
        let response = try await get(replica, "/api/v1/presence/\(user.uuidString.lowercased())", headers: [("Authorization", "Bearer \(token(for: asker))")])
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any],
              let online = object["online"] as? Bool
        else { throw TestSetupError("presence answered \(response.status)") }
        return online
    }
}

/// One replica running in this process on its own port.
final class Replica: Sendable {
    let name: String
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(name: String, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.name = name
        self.port = port
        self.group = group
        self.task = task
    }

    static func start(
        name: String, consumer: Bool, redis: RedisServer, broker: KafkaBroker, secretFolder: URL, settings: [String: String] = [:]
    ) async throws -> Replica {
        let port = try FreePort.next()
        let configuration = try RealtimeConfiguration(environment: settings.merging([
            "SERVICE_NAME": name, "HOST": "127.0.0.1", "PORT": String(port),
            "JWT_SECRET_FILE": secretFolder.appendingPathComponent("jwt_secret").path,
            "REDIS_URL": redis.url, "KAFKA_BROKERS": broker.bootstrapServers,
            "KAFKA_CONSUMER_GROUP": RealtimeEnvironment.group, "KAFKA_TOPICS": RealtimeConfiguration.defaultTopics.joined(separator: ","),
            "KAFKA_CONSUMER_ENABLED": consumer ? "true" : "false", "KAFKA_SESSION_TIMEOUT": "3s",
            "OUTBOUND_QUEUE_LIMIT": "8", "OUTBOUND_STALL_TIMEOUT": "1s", "PRESENCE_TTL": "6s", "IDLE_TIMEOUT": "20s",
        ]) { given, _ in given })
        var logger = Logger(label: name)
        logger.logLevel = .warning
        let app = try buildApplication(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        let replica = Replica(name: name, port: port, group: group, task: task)
        let ready = await eventually(timeout: .seconds(20)) {
            guard let status = try? await Self.readyStatus(port: port) else { return false }
            return status == 200
        }
        guard ready else {
            await replica.stop()
            throw TestSetupError("\(name) did not become ready")
        }
        return replica
    }

    private static func readyStatus(port: Int) async throws -> Int {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/ready"), timeout: .seconds(3))
        return Int(response.status.code)
    }

    /// Graceful shutdown (as on SIGTERM); returns once every service stopped.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    var webSocketURL: String { "ws://127.0.0.1:\(port)/ws" }
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
