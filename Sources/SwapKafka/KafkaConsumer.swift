import Logging
import Synchronization

/// A consumer-group member with manual commits.
///
/// ```swift
/// let consumer = try KafkaConsumer(configuration: configuration)
/// try await consumer.subscribe(topics: ["orders"])
/// for try await message in consumer.messages {
///     try await process(message)
///     try await consumer.commit(message)  // after processing: at-least-once
/// }
/// await consumer.close()
/// ```
///
/// Nothing is committed automatically: a message whose offset was not
/// committed is delivered again to the group member that next owns its
/// partition. Commit offsets in order per partition; committing an older
/// message after a newer one moves the group back.
///
/// Cancelling the task that iterates ``messages`` ends the iteration and
/// closes the consumer (it leaves the group); so does ``close()``, and so does
/// dropping the consumer.
public final class KafkaConsumer: Sendable {
    private let core: ConsumerCore

    /// Creates the consumer and starts its poll thread; it joins the group
    /// once ``subscribe(topics:)`` is called.
    public init(configuration: KafkaConsumerConfiguration, logger: Logger = Logger(label: "swap.kafka.consumer")) throws {
        let handle = try RDKafkaHandle.make(kind: .consumer, properties: configuration.rdProperties(), logger: logger)
        self.core = ConsumerCore(handle: handle, buffer: MessageBuffer(capacity: configuration.bufferCapacity), logger: logger)
        let core = self.core
        startDedicatedThread(name: "kafka-consumer") { core.runPollLoop() }
    }

    deinit {
        self.core.buffer.finish()
    }

    /// Subscribes to `topics` (replacing any earlier subscription); partitions
    /// are assigned by the group's rebalance protocol.
    public func subscribe(topics: [String]) async throws {
        let handle = self.core.handle
        try await BlockingPool.run { try ConsumerCore.subscribe(handle, topics: topics) }
    }

    /// The messages of the subscribed topics, in order per partition. Ends
    /// when the consumer closes; throws ``KafkaError/fatal(reason:)`` when
    /// the client cannot continue.
    public var messages: KafkaConsumerMessages { KafkaConsumerMessages(buffer: self.core.buffer) }

    /// Commits the position after `message` and waits for the broker
    /// (`rd_kafka_commit`, synchronous, on the blocking pool).
    public func commit(_ message: KafkaConsumerMessage) async throws {
        try await self.commit([KafkaCommitOffset(after: message)])
    }

    /// Commits positions (each the offset of the next message to read).
    /// Throws ``KafkaError/commitFailed(reason:)`` when the group no longer
    /// owns a partition, ``KafkaError/shutDown`` after ``close()``.
    public func commit(_ offsets: [KafkaCommitOffset]) async throws {
        guard !offsets.isEmpty else { return }
        let handle = self.core.handle
        try await BlockingPool.run { try ConsumerCore.commit(handle, offsets: offsets) }
    }

    /// Ends ``messages`` (uncommitted buffered messages are dropped and will
    /// be redelivered to the group), leaves the group and destroys the handle,
    /// then returns. Safe to call more than once.
    public func close() async {
        await self.core.close()
    }
}

/// ``KafkaConsumer/messages``: an `AsyncSequence` that several tasks may
/// iterate; each message goes to one of them.
public struct KafkaConsumerMessages: AsyncSequence, Sendable {
    public typealias Element = KafkaConsumerMessage
    public typealias Failure = any Error

    let buffer: MessageBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = KafkaConsumerMessage
        public typealias Failure = any Error

        let buffer: MessageBuffer

        public mutating func next() async throws -> KafkaConsumerMessage? {
            try await self.buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: self.buffer)
    }
}

/// The consumer's state, shared by its public face and its poll thread (which
/// keeps it alive until the handle is destroyed).
final class ConsumerCore: Sendable {
    let handle: RDKafkaHandle
    let buffer: MessageBuffer
    let logger: Logger
    /// Who waits in ``close()``; `stopped` once the handle is destroyed.
    private let closing = Mutex<(stopped: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(handle: RDKafkaHandle, buffer: MessageBuffer, logger: Logger) {
        self.handle = handle
        self.buffer = buffer
        self.logger = logger
    }

    func close() async {
        self.buffer.finish()
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done = self.closing.withLock { closing in
                if !closing.stopped { closing.waiters.append(waiter) }
                return closing.stopped
            }
            if done { waiter.resume() }
        }
    }

    /// The poll thread's body: reads while the buffer has room, then leaves
    /// the group and destroys the handle once the buffer is finished.
    func runPollLoop() {
        while !self.buffer.isFinished {
            guard self.buffer.waitForSpace(timeoutMilliseconds: 100) else { continue }
            switch self.pollMessage(timeoutMilliseconds: 100) {
            case .message(let message):
                self.buffer.push(message)
            case .nothing:
                continue
            case .fatal(let error):
                self.logger.critical("Kafka consumer fatal error", metadata: ["error": "\(error)"])
                self.buffer.finish(throwing: error)
            }
        }
        self.closeBlocking()
        self.handle.destroy()
        let waiters = self.closing.withLock { closing in
            closing.stopped = true
            defer { closing.waiters = [] }
            return closing.waiters
        }
        for waiter in waiters { waiter.resume() }
        self.logger.debug("Kafka consumer closed")
    }
}
