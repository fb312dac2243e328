import Logging
import SwapKafka
import Synchronization

/// The relay's producer, replaced by a new one when librdkafka declares it
/// unusable. A fatal error (an idempotent producer fenced by the broker,
/// for instance after a long outage) fails every later send of that
/// producer; only a new producer, with a new producer id, can send again.
final class ReplaceableProducer: Sendable {
    private let configuration: KafkaProducerConfiguration
    private let logger: Logger
    private let slot: Mutex<KafkaProducer>

    init(configuration: KafkaProducerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.slot = Mutex(try KafkaProducer(configuration: configuration, logger: logger))
    }

    var current: KafkaProducer { slot.withLock { $0 } }

    /// Replaces `failed` by a new producer when it had a fatal error and is
    /// still the current one; the old one is shut down, its queue purged.
    /// When the new one cannot be created, the old one stays and the next
    /// failure tries again.
    func replaceIfFatal(_ failed: KafkaProducer, after error: any Error) async {
        let fatal: KafkaError? = if case .fatal = error as? KafkaError { error as? KafkaError } else { failed.fatalError }
        guard let fatal, current === failed else { return }
        let fresh: KafkaProducer
        do {
            fresh = try KafkaProducer(configuration: configuration, logger: logger)
        } catch {
            logger.error("cannot create a new Kafka producer", metadata: ["error": "\(error)"])
            return
        }
        let replaced = slot.withLock { producer in
            guard producer === failed else { return false }
            producer = fresh
            return true
        }
        guard replaced else {
            await fresh.shutdown(timeout: .zero)
            return
        }
        logger.error("Kafka producer unusable; replaced it with a new one", metadata: ["error": "\(fatal)"])
        await failed.shutdown(timeout: .milliseconds(100))
    }

    func shutdown(timeout: Duration) async {
        await current.shutdown(timeout: timeout)
    }
}
