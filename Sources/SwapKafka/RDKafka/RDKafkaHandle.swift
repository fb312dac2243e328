import CRdKafka
import Foundation
import Logging
import NIOPosix

enum RDKafkaVersion {
    /// `major * 10_000 + minor * 100 + revision` from `rd_kafka_version()`'s 0xMMmmrrpp.
    static var number: Int {
        let hex = Int(rd_kafka_version())
        return (hex >> 24 & 0xFF) * 10_000 + (hex >> 16 & 0xFF) * 100 + (hex >> 8 & 0xFF)
    }

    static var string: String { String(cString: rd_kafka_version_str()) }
}

/// The one owner of an `rd_kafka_t` (and, for producers, of its main queue).
///
/// `@unchecked Sendable`: the C handle is thread-safe for the calls made
/// through ``withPointer(_:)``; the lease count and `destroyed` flag are
/// only touched under `condition`. ``destroy()`` waits until no lease is
/// held, so `rd_kafka_destroy` never races a call in flight; a handle that
/// was never destroyed (a failure while setting a client up) is freed in
/// `deinit`.
final class RDKafkaHandle: @unchecked Sendable {
    enum Kind {
        /// A producer whose delivery reports and errors are events on the main queue.
        case producer
        /// A consumer whose main queue is forwarded to the consumer queue.
        case consumer
        /// A producer-type handle used only for admin requests and metadata.
        case admin
    }

    let logger: Logger
    private let pointer: OpaquePointer
    /// `rd_kafka_queue_get_main`, for producers; released before the handle.
    let mainQueue: OpaquePointer?
    private let logContext: Unmanaged<RDKafkaLogContext>
    private let condition = NSCondition()
    private var leases = 0
    private var destroyed = false

    private init(pointer: OpaquePointer, mainQueue: OpaquePointer?, logContext: Unmanaged<RDKafkaLogContext>, logger: Logger) {
        self.pointer = pointer
        self.mainQueue = mainQueue
        self.logContext = logContext
        self.logger = logger
    }

    deinit {
        if !self.destroyed { self.free() }
    }

    /// Checks the library version, builds the configuration and creates the handle.
    static func make(kind: Kind, properties: [(String, String)], logger: Logger) throws(KafkaError) -> RDKafkaHandle {
        try KafkaLibrary.checkVersion()
        guard let conf = rd_kafka_conf_new() else { throw .clientCreationFailed(reason: "rd_kafka_conf_new failed") }
        var confOwnedByHandle = false
        defer { if !confOwnedByHandle { rd_kafka_conf_destroy(conf) } }

        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            guard result == RD_KAFKA_CONF_OK else {
                throw .invalidConfiguration(key: key, reason: errorText.nulTerminatedString)
            }
        }
        if kind == .producer {
            rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR)
        }
        let logContext = Unmanaged.passRetained(RDKafkaLogContext(logger: logger))
        rd_kafka_conf_set_opaque(conf, logContext.toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdKafkaLogCallback)

        let type = kind == .consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER
        guard let pointer = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            logContext.release()
            throw .clientCreationFailed(reason: errorText.nulTerminatedString)
        }
        confOwnedByHandle = true

        let mainQueue = kind == .producer ? rd_kafka_queue_get_main(pointer) : nil
        let handle = RDKafkaHandle(pointer: pointer, mainQueue: mainQueue, logContext: logContext, logger: logger)
        if kind == .consumer {
            let error = rd_kafka_poll_set_consumer(pointer)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
        }
        return handle
    }

    /// Runs `body` with the handle, which stays alive until `body` returns;
    /// throws ``KafkaError/shutDown`` once ``destroy()`` has begun.
    func withPointer<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        self.condition.lock()
        guard !self.destroyed else {
            self.condition.unlock()
            throw KafkaError.shutDown
        }
        self.leases += 1
        self.condition.unlock()
        defer {
            self.condition.lock()
            self.leases -= 1
            if self.leases == 0 { self.condition.broadcast() }
            self.condition.unlock()
        }
        return try body(self.pointer)
    }

    /// Refuses new calls, waits for the ones in flight, then destroys the
    /// handle. Blocks: call it on a poll thread or the blocking pool.
    func destroy() {
        self.condition.lock()
        guard !self.destroyed else {
            self.condition.unlock()
            return
        }
        self.destroyed = true
        while self.leases > 0 { self.condition.wait() }
        self.condition.unlock()
        self.free()
    }

    private func free() {
        if let mainQueue { rd_kafka_queue_destroy(mainQueue) }
        rd_kafka_destroy(self.pointer)
        // librdkafka's threads are gone: no log callback can still read the context.
        self.logContext.release()
    }
}

extension [CChar] {
    /// The text of a C error buffer, up to its NUL.
    var nulTerminatedString: String {
        String(decoding: self.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The `rd_kafka_conf_set_opaque` value: what the log callback needs.
final class RDKafkaLogContext: Sendable {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }
}

/// librdkafka logs from its own threads; route them to swift-log.
private func rdKafkaLogCallback(
    _ handle: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ buffer: UnsafePointer<CChar>?
) {
    guard let handle, let opaque = rd_kafka_opaque(handle), let buffer else { return }
    let context = Unmanaged<RDKafkaLogContext>.fromOpaque(opaque).takeUnretainedValue()
    let logLevel: Logger.Level = switch level {
    case ...2: .critical
    case 3: .error
    case 4: .warning
    case 5: .notice
    case 6: .info
    default: .debug
    }
    let facilityName = facility.map { String(cString: $0) } ?? ""
    context.logger.log(
        level: logLevel, "\(String(cString: buffer))",
        metadata: ["kafka.facility": "\(facilityName)", "kafka.client": "\(String(cString: rd_kafka_name(handle)))"]
    )
}

/// Where short blocking librdkafka calls run: a private perpetual
/// `NIOThreadPool`, never a NIO event loop or the cooperative pool.
enum BlockingPool {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool and resumes the caller through a checked
    /// continuation. Not cancellable once submitted.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.pool.submit { state in
                guard case .active = state else {
                    continuation.resume(throwing: KafkaError.shutDown)
                    return
                }
                continuation.resume(with: Result(catching: body))
            }
        }
    }
}

extension BlockingPool {
    /// Runs `body` on the pool without waiting for it.
    static func submit(_ body: @escaping @Sendable () -> Void) {
        self.pool.submit { _ in body() }
    }
}

/// Starts a named dedicated thread (a poll loop) that ends when `body` returns.
func startDedicatedThread(name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.start()
}
