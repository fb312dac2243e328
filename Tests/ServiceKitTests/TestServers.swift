import Foundation
import LocalServers
import Logging
import SwapKafka
import SwapPostgres

/// One PostgreSQL server, one broker and one Redis for the whole test
/// process (LocalServers stops them at exit); tests get their own database
/// and their own topics on them.
actor SharedServers {
    static let shared = SharedServers()
    private var postgres: PostgresServer?
    private var broker: KafkaBroker?
    private var redis: RedisServer?

    func postgresServer() async throws -> PostgresServer {
        if let postgres { return postgres }
        var options = PostgresServer.Options()
        options.database = nil
        let started = try await PostgresServer.start(options)
        postgres = started
        return started
    }

    func kafkaBroker() async throws -> KafkaBroker {
        if let broker { return broker }
        let started = try await KafkaBroker.start()
        broker = started
        return started
    }

    func redisServer() async throws -> RedisServer {
        if let redis { return redis }
        let started = try await RedisServer.start()
        redis = started
        return started
    }
}

/// Runs `body` with a pool on a fresh database, dropped afterwards.
func withTestDatabase<Value>(
    maxConnections: Int = 8,
    _ body: (PostgresPool, PostgresServer) async throws -> Value
) async throws -> Value {
    let server = try await SharedServers.shared.postgresServer()
    let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    try await server.createDatabase(name)
    let pool = makePool(server, database: name, maxConnections: maxConnections)
    do {
        let value = try await body(pool, server)
        await pool.close()
        try await server.dropDatabase(name)
        return value
    } catch {
        await pool.close()
        try? await server.dropDatabase(name)
        throw error
    }
}

func makePool(_ server: PostgresServer, database: String, maxConnections: Int = 8) -> PostgresPool {
    PostgresPool(
        configuration: PostgresConfiguration(connectionString: server.url(database: database)),
        maxConnections: maxConnections
    )
}

/// The database name a pool connects to.
func databaseName(_ pool: PostgresPool) async throws -> String {
    try await pool.query("SELECT current_database()")[0].decode(String.self, column: 0)
}

func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

func producerConfiguration(_ broker: KafkaBroker) -> KafkaProducerConfiguration {
    var configuration = KafkaProducerConfiguration(bootstrapServers: [broker.bootstrapServers], clientID: "servicekit-test")
    configuration.linger = .milliseconds(1)
    return configuration
}

/// Tansu's first group join takes about 2/3 of the session timeout: keep it low.
func consumerConfiguration(_ broker: KafkaBroker, group: String) -> KafkaConsumerConfiguration {
    var configuration = KafkaConsumerConfiguration(bootstrapServers: [broker.bootstrapServers], groupID: group, clientID: "servicekit-test")
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .seconds(1)
    return configuration
}

func createTopic(_ broker: KafkaBroker, _ name: String, partitions: Int = 3) async throws {
    let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: [broker.bootstrapServers]))
    try await admin.createTopic(KafkaTopicSpecification(name: name, partitions: partitions, replicationFactor: 1))
    await admin.shutdown()
}

/// Every message of `topic`, all partitions, in offset order per partition.
func readWholeTopic(_ broker: KafkaBroker, _ topic: String) async throws -> [KafkaConsumerMessage] {
    let reader = try KafkaPartitionReader(configuration: KafkaPartitionReaderConfiguration(bootstrapServers: [broker.bootstrapServers]))
    defer { Task { await reader.shutdown() } }
    var ranges: [KafkaPartitionRange] = []
    for partition in try await reader.partitions(of: topic) {
        let marks = try await reader.watermarks(topic: topic, partition: partition)
        ranges.append(KafkaPartitionRange(topic: topic, partition: partition, start: marks.low, end: marks.high))
    }
    return try await reader.read(ranges, maxMessages: 1_000_000)
}

func header(_ message: KafkaConsumerMessage, _ key: String) -> String? {
    message.headers.first { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) }
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

/// A gate a test opens once.
actor Gate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func open() {
        isOpen = true
        for continuation in waiting { continuation.resume() }
        waiting = []
    }
}

/// Thread-safe collected values for handlers.
actor Recorder<Value: Sendable> {
    private(set) var values: [Value] = []
    func append(_ value: Value) { values.append(value) }
    var count: Int { values.count }
}

let quietLogger: Logger = {
    var logger = Logger(label: "servicekit-test")
    logger.logLevel = .warning
    return logger
}()

/// The value of the sample of `name` carrying every label in `labels`, from Prometheus text.
func metricValue(_ exposition: String, _ name: String, _ labels: [String: String]) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") {
        guard let close = line.lastIndex(of: "}") else { continue }
        let labelText = line[line.index(line.startIndex, offsetBy: name.count + 1)..<close]
        let matches = labels.allSatisfy { key, value in labelText.contains("\(key)=\"\(value)\"") }
        if matches { return Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) }
    }
    return nil
}
