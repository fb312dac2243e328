import CRdKafka
import Logging
import Synchronization

/// An idempotent producer (`enable.idempotence=true`, `acks=all`).
///
/// ``send(topic:key:value:headers:partition:)`` returns only once the broker
/// acknowledged the message. Call ``shutdown(timeout:)`` before dropping the
/// producer: it flushes what is still queued. A producer dropped without it
/// stops its poll thread and destroys the handle without flushing.
public final class KafkaProducer: Sendable {
    private let core: ProducerCore

    /// Creates the producer and starts its poll thread.
    public init(configuration: KafkaProducerConfiguration, logger: Logger = Logger(label: "swap.kafka.producer")) throws {
        let handle = try RDKafkaHandle.make(kind: .producer, properties: configuration.rdProperties(), logger: logger)
        self.core = ProducerCore(handle: handle, logger: logger)
        let core = self.core
        startDedicatedThread(name: "kafka-producer") { core.runPollLoop() }
    }

    deinit {
        self.core.requestStop()
    }

    /// Sends one message and waits for the broker's acknowledgement.
    ///
    /// - Parameter partition: a fixed partition; `nil` lets the partitioner
    ///   choose from the key (the same key always lands on the same partition).
    /// - Throws: ``KafkaError``, such as ``KafkaError/messageTimedOut(topic:)``
    ///   after ``KafkaProducerConfiguration/messageTimeout``,
    ///   ``KafkaError/unknownTopic(_:)``, ``KafkaError/queueFull`` or
    ///   ``KafkaError/shutDown``. Cancelling the calling task does not recall
    ///   a message librdkafka already holds: the call still waits for its fate.
    public func send(
        topic: String, key: [UInt8]? = nil, value: [UInt8], headers: [KafkaHeader] = [], partition: Int? = nil
    ) async throws -> KafkaDeliveryReport {
        let message = OutgoingMessage(topic: topic, partition: partition, key: key, value: value, headers: headers)
        return try await withCheckedThrowingContinuation { continuation in
            self.core.send(message, continuation: continuation)
        }
    }

    /// Sends one message with a UTF-8 key and value.
    public func send(
        topic: String, key: String?, value: String, headers: [KafkaHeader] = [], partition: Int? = nil
    ) async throws -> KafkaDeliveryReport {
        try await self.send(
            topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8), headers: headers, partition: partition
        )
    }

    /// Waits until every message handed to librdkafka is acknowledged or
    /// failed; throws ``KafkaError/timedOut(operation:)`` after `timeout`.
    public func flush(timeout: Duration) async throws {
        try await self.core.flush(timeout: timeout)
    }

    /// Refuses new messages, flushes for up to `timeout` (then purges what is
    /// left, whose senders get ``KafkaError/shutDown``), stops the poll thread
    /// and destroys the handle. Safe to call more than once; later calls
    /// wait for the first to finish.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        await self.core.shutdown(timeout: timeout)
    }

    /// The fatal error that made this producer unusable, if one did: every
    /// send now fails with it, and only a new producer can send again.
    public var fatalError: KafkaError? {
        self.core.state.withLock { $0.fatal }
    }

    /// Makes librdkafka raise a fatal error as a fenced producer would
    /// (`rd_kafka_test_fatal_error`), for tests of recovery.
    func simulateFatalError(reason: String) throws {
        try self.core.handle.withPointer { pointer in
            _ = rd_kafka_test_fatal_error(pointer, RD_KAFKA_RESP_ERR__FENCED, reason)
        }
    }
}

struct OutgoingMessage: Sendable {
    var topic: String
    var partition: Int?
    var key: [UInt8]?
    var value: [UInt8]
    var headers: [KafkaHeader]
}

/// The producer's state, shared by its public face and its poll thread (which
/// keeps it alive until the handle is destroyed).
final class ProducerCore: Sendable {
    typealias Continuation = CheckedContinuation<KafkaDeliveryReport, any Error>

    enum Phase { case running, closing, stopped }

    struct State {
        var phase = Phase.running
        var stopRequested = false
        var nextID: UInt = 1
        var pending: [UInt: Continuation] = [:]
        var fatal: KafkaError?
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let handle: RDKafkaHandle
    let logger: Logger
    let state = Mutex(State())

    init(handle: RDKafkaHandle, logger: Logger) {
        self.handle = handle
        self.logger = logger
    }

    func send(_ message: OutgoingMessage, continuation: Continuation) {
        // Register before producing: the poll thread may see the report before produce returns.
        let registered: Result<UInt, KafkaError> = self.state.withLock { state in
            if let fatal = state.fatal { return .failure(fatal) }
            guard state.phase == .running else { return .failure(.shutDown) }
            let id = state.nextID
            state.nextID += 1
            state.pending[id] = continuation
            return .success(id)
        }
        switch registered {
        case .failure(let error):
            continuation.resume(throwing: error)
        case .success(let id):
            do {
                try self.produce(message, id: id)
            } catch {
                self.complete(id: id, with: .failure(error))
            }
        }
    }

    /// Resumes the sender of message `id`, once.
    func complete(id: UInt, with result: Result<KafkaDeliveryReport, any Error>) {
        let continuation = self.state.withLock { $0.pending.removeValue(forKey: id) }
        continuation?.resume(with: result)
    }

    /// From now on every send fails with `error`: the producer must be recreated.
    func recordFatal(_ error: KafkaError) {
        let first = self.state.withLock { state in
            guard state.fatal == nil else { return false }
            state.fatal = error
            return true
        }
        if first { self.logger.critical("Kafka producer unusable; recreate it", metadata: ["error": "\(error)"]) }
    }

    func flush(timeout: Duration) async throws {
        let handle = self.handle
        try await BlockingPool.run { try Self.flushBlocking(handle, timeout: timeout) }
    }

    func shutdown(timeout: Duration) async {
        let first = self.state.withLock { state in
            guard state.phase == .running else { return false }
            state.phase = .closing
            return true
        }
        if first {
            do {
                try await self.flush(timeout: timeout)
            } catch {
                self.logger.warning("Kafka producer flush failed at shutdown; purging", metadata: ["error": "\(error)"])
                self.purge()
            }
            self.requestStop()
        }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let stopped = self.state.withLock { state in
                guard state.phase != .stopped else { return true }
                state.stopWaiters.append(waiter)
                return false
            }
            if stopped { waiter.resume() }
        }
    }

    /// Asks the poll thread to finish: it serves the remaining reports for a
    /// few seconds, fails what is left with ``KafkaError/shutDown`` and
    /// destroys the handle.
    func requestStop() {
        self.state.withLock { state in
            if state.phase == .running { state.phase = .closing }
            state.stopRequested = true
        }
    }

    /// The poll thread's body.
    func runPollLoop() {
        var drainDeadline: ContinuousClock.Instant?
        while true {
            let (stop, idle) = self.state.withLock { ($0.stopRequested, $0.pending.isEmpty) }
            if stop {
                if idle { break }
                let deadline = drainDeadline ?? .now + .seconds(5)
                drainDeadline = deadline
                if ContinuousClock.now >= deadline { break }
            }
            self.pollEvents(timeoutMilliseconds: 100)
        }
        let orphans = self.state.withLock { state in
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for continuation in orphans { continuation.resume(throwing: KafkaError.shutDown) }
        self.handle.destroy()
        let waiters = self.state.withLock { state in
            state.phase = .stopped
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
        self.logger.debug("Kafka producer stopped")
    }
}
