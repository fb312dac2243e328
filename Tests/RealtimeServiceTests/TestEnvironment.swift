import Foundation
import HTTPTypes
import LocalServers
import Logging
import RealtimeService
import ServiceKit
import ServiceTesting
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
    static let tokens = AccessToken(secret: secret)
    static let group = "swap-realtime-test"

    let redis: RedisServer
    let broker: KafkaBroker
    let producer: KafkaProducer
    let secrets: SecretFiles
    let jwtSecretFile: String
    /// Sockets only.
    let replicaA: Replica
    /// Sockets and the consumer.
    let replicaB: Replica

    static var shared: RealtimeEnvironment {
        get throws {
            guard let current else { throw TestFailure("the suite needs the .realtimeEnvironment trait") }
            return current
        }
    }

    private init(
        redis: RedisServer, broker: KafkaBroker, producer: KafkaProducer, secrets: SecretFiles, jwtSecretFile: String, replicaA: Replica, replicaB: Replica
    ) {
        self.redis = redis
        self.broker = broker
        self.producer = producer
        self.secrets = secrets
        self.jwtSecretFile = jwtSecretFile
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
        let secrets = SecretFiles("realtime-test")
        var replicas: [Replica] = []
        do {
            let jwtSecretFile = try secrets.write("jwt_secret", secret)
            try await createTopics(broker, RealtimeConfiguration.defaultTopics, partitions: 3)
            var configuration = KafkaProducerConfiguration(bootstrapServers: [broker.bootstrapServers], clientID: "realtime-test")
            configuration.linger = .milliseconds(1)
            let producer = try KafkaProducer(configuration: configuration)
            replicas.append(try await Replica.start(name: "realtime-a", consumer: false, redis: redis, broker: broker, jwtSecretFile: jwtSecretFile))
            replicas.append(try await Replica.start(name: "realtime-b", consumer: true, redis: redis, broker: broker, jwtSecretFile: jwtSecretFile))
            return RealtimeEnvironment(
                redis: redis, broker: broker, producer: producer, secrets: secrets, jwtSecretFile: jwtSecretFile,
                replicaA: replicas[0], replicaB: replicas[1]
            )
        } catch {
            for replica in replicas { await replica.stop() }
            await broker.stop()
            await redis.stop()
            secrets.remove()
            throw error
        }
    }

    func stop() async {
        await replicaA.stop()
        await replicaB.stop()
        await producer.shutdown(timeout: .seconds(5))
        await broker.stop()
        await redis.stop()
        secrets.remove()
    }

    /// Starts one more replica (sockets only), for tests that stop it.
    func startReplica(name: String, settings: [String: String] = [:]) async throws -> Replica {
        try await Replica.start(name: name, consumer: false, redis: redis, broker: broker, jwtSecretFile: jwtSecretFile, settings: settings)
    }

    // MARK: Tokens and events

    func token(for user: UUID, expiresIn: TimeInterval = 3600) -> String {
        Self.tokens.sign(user: user, email: "\(user.uuidString.prefix(8))@example.com", lifetime: .seconds(expiresIn))
    }

    /// Produces `envelope` as the other services' outbox relays do.
    func produce(_ envelope: EventEnvelope) async throws {
        try await producer.send(envelope)
    }

    // MARK: HTTP

    /// A GET on a connection of its own, so that replicas stopping in between do not matter.
    func get(_ replica: Replica, _ path: String, token: String? = nil) async throws -> Reply {
        try await withServiceClient(port: replica.port) { try await $0.send(.get, path, token: token) }
    }

    func isOnline(_ user: UUID, via replica: Replica, asking asker: UUID = UUID()) async throws -> Bool {
        let response = try await get(replica, "/api/v1/presence/\(user.uuidString.lowercased())", token: token(for: asker))
        guard response.status == 200, let online = response.json["online"] as? Bool else {
            throw TestFailure("presence answered \(response.status)")
        }
        return online
    }
}

/// One replica running in this process on its own port.
final class Replica: Sendable {
    let name: String
    private let application: RunningApplication

    private init(name: String, application: RunningApplication) {
        self.name = name
        self.application = application
    }

    var port: Int { application.port }
    var webSocketURL: String { "ws://127.0.0.1:\(port)/ws" }

    /// Starts a replica and returns once its `/ready` answers 200.
    static func start(
        name: String, consumer: Bool, redis: RedisServer, broker: KafkaBroker, jwtSecretFile: String, settings: [String: String] = [:]
    ) async throws -> Replica {
        let defaults = try ServiceSettings.common(name, jwtSecretFile: jwtSecretFile).merging([
            "REDIS_URL": redis.url, "KAFKA_BROKERS": broker.bootstrapServers,
            "KAFKA_CONSUMER_GROUP": RealtimeEnvironment.group, "KAFKA_TOPICS": RealtimeConfiguration.defaultTopics.joined(separator: ","),
            "KAFKA_CONSUMER_ENABLED": consumer ? "true" : "false", "KAFKA_SESSION_TIMEOUT": "3s",
            "OUTBOUND_QUEUE_LIMIT": "8", "OUTBOUND_STALL_TIMEOUT": "1s", "PRESENCE_TTL": "6s", "IDLE_TIMEOUT": "20s",
        ]) { $1 }
        let configuration = try RealtimeConfiguration(environment: defaults.merging(settings) { $1 })
        let logger = Logger.quiet(name)
        let app = try buildApplication(configuration: configuration, logger: logger)
        let application = try await RunningApplication.start(app, port: configuration.common.port, readiness: .answering("/ready"), logger: logger)
        return Replica(name: name, application: application)
    }

    /// Graceful shutdown (as on SIGTERM); returns once every service stopped.
    func stop() async {
        try? await application.stop()
    }
}
