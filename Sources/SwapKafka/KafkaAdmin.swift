import Logging

/// Topic administration: create topics and read the cluster's topic list.
/// The local harness uses it to create the topology's topics.
public final class KafkaAdmin: Sendable {
    private let handle: RDKafkaHandle

    public init(configuration: KafkaAdminConfiguration, logger: Logger = Logger(label: "swap.kafka.admin")) throws {
        self.handle = try RDKafkaHandle.make(kind: .admin, properties: configuration.rdProperties(), logger: logger)
    }

    deinit {
        // Destroy on the blocking pool, never on whichever thread dropped the admin.
        let handle = self.handle
        BlockingPool.submit { handle.destroy() }
    }

    /// Creates `topics` and waits until the broker reports each one created.
    ///
    /// - Parameter ifNotExists: when true an existing topic is left as it is
    ///   (its partitions and config are not compared); when false it throws
    ///   ``KafkaError/topicAlreadyExists(_:)``.
    public func createTopics(
        _ topics: [KafkaTopicSpecification], ifNotExists: Bool = true, timeout: Duration = .seconds(30)
    ) async throws {
        guard !topics.isEmpty else { return }
        let handle = self.handle
        try await BlockingPool.run {
            try KafkaAdmin.createTopicsBlocking(handle, topics: topics, ifNotExists: ifNotExists, timeout: timeout)
        }
    }

    /// Creates one topic; see ``createTopics(_:ifNotExists:timeout:)``.
    public func createTopic(
        _ topic: KafkaTopicSpecification, ifNotExists: Bool = true, timeout: Duration = .seconds(30)
    ) async throws {
        try await self.createTopics([topic], ifNotExists: ifNotExists, timeout: timeout)
    }

    /// Every topic in the cluster's metadata, sorted by name.
    public func listTopics(timeout: Duration = .seconds(10)) async throws -> [KafkaTopicMetadata] {
        let handle = self.handle
        return try await BlockingPool.run { try KafkaAdmin.metadataBlocking(handle, timeout: timeout) }
    }

    /// One topic's metadata, or `nil` when the cluster does not know it.
    public func topic(named name: String, timeout: Duration = .seconds(10)) async throws -> KafkaTopicMetadata? {
        try await self.listTopics(timeout: timeout).first { $0.name == name }
    }

    /// Destroys the handle (on the blocking pool). Later calls throw
    /// ``KafkaError/shutDown``.
    public func shutdown() async {
        let handle = self.handle
        _ = try? await BlockingPool.run { handle.destroy() }
    }
}
