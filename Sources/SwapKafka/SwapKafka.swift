/// # SwapKafka
///
/// A thin wrapper over librdkafka (>= 2.3) for the Swap services: an
/// idempotent ``KafkaProducer``, a consumer-group member ``KafkaConsumer``
/// with manual commits, and ``KafkaAdmin`` for topics. Only this module
/// imports `CRdKafka`, and every C call lives under `RDKafka/`; the public
/// API carries Swift types only.
///
/// ## Library version
/// Every client calls ``KafkaLibrary/checkVersion()`` before creating a
/// handle and throws ``KafkaError/unsupportedLibrary(version:minimum:)``
/// below 2.3 (Debian's 2.0.2 cannot talk to current brokers). Log
/// ``KafkaLibrary/version`` at start-up.
///
/// ## Threads: no blocking librdkafka call runs on a NIO event loop
/// - `KafkaProducer` owns one dedicated `Thread` that polls the handle's
///   main queue (`rd_kafka_queue_poll`, 100 ms) for delivery-report and error
///   events. `send` registers a `CheckedContinuation` under a fresh message id
///   before calling the non-blocking `rd_kafka_produceva` (the id travels as
///   the message's opaque pointer), and the poll thread resumes it when the
///   broker acknowledged the message or librdkafka gave up on it.
/// - `KafkaConsumer` owns one dedicated `Thread` running `rd_kafka_consumer_poll`
///   (100 ms) that copies each message out of C memory into a bounded buffer
///   read by ``KafkaConsumer/messages``; when the buffer is full the thread
///   waits for the reader instead of polling. The same thread performs
///   `rd_kafka_consumer_close` (leave the group) when the consumer closes.
/// - The remaining blocking calls (`rd_kafka_flush`, `rd_kafka_subscribe`,
///   `rd_kafka_commit` in synchronous mode, `rd_kafka_metadata`, waiting for
///   admin results) run on a private, perpetual `NIOThreadPool` of four
///   threads, and the async caller is resumed through a checked continuation.
///   Once submitted they run to completion (bounded by their librdkafka
///   timeouts) even if the calling task is cancelled.
/// - `KafkaPartitionReader` (reads offset ranges without joining a group)
///   runs its assign/poll loop and watermark queries on the same pool.
/// - `rd_kafka_destroy` runs on the client's poll thread (producer, consumer)
///   or on the pool (admin, reader), after in-flight calls on the handle
///   finished. `rd_kafka_new`, `rd_kafka_produceva` and `rd_kafka_purge` do
///   not block and run on the caller's thread.
///
/// ## Ownership
/// Each `rd_kafka_t` lives in one `RDKafkaHandle`, the module's only
/// `@unchecked Sendable` type. It frees the handle exactly once: when the
/// client shuts down, or in `deinit` on any failure path before a poll thread
/// took it over.
public enum KafkaLibrary {
    /// The oldest librdkafka this module accepts (2.3.0).
    public static let minimumVersion = "2.3.0"

    /// The loaded librdkafka's version, such as `2.8.0`, for start-up logs.
    public static var version: String { RDKafkaVersion.string }

    /// The loaded librdkafka's version as `major * 10_000 + minor * 100 + revision`
    /// (2.8.0 is 20800).
    public static var versionNumber: Int { RDKafkaVersion.number }

    /// Throws ``KafkaError/unsupportedLibrary(version:minimum:)`` when the
    /// loaded librdkafka is older than ``minimumVersion``.
    public static func checkVersion() throws(KafkaError) {
        guard RDKafkaVersion.number >= 20300 else {
            throw .unsupportedLibrary(version: RDKafkaVersion.string, minimum: minimumVersion)
        }
    }
}
