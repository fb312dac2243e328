import Foundation
import Logging
import ServiceLifecycle
import SwapKafka
import UnixSignals

/// The start-up every service executable shares: read the configuration
/// (on any problem, print every one and exit 2, as a usage error), switch
/// to JSON logs, log what it starts with, build the application, and run it
/// until SIGTERM or SIGINT. Shutdown is graceful for at most
/// SHUTDOWN_GRACE_PERIOD, then the remaining work is cancelled.
public enum ServiceMain {
    public static func run<Configuration: ServiceConfiguration>(
        configuration read: () throws -> Configuration,
        startupDetails: (Configuration) -> Logger.Metadata = { _ in [:] },
        build: (Configuration, Logger) async throws -> any Service
    ) async throws {
        let configuration: Configuration
        do {
            configuration = try read()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(2)
        }
        let common = configuration.common
        JSONLogHandler.bootstrap(service: common.serviceName, level: common.logLevel)
        let logger = Logger(label: common.serviceName)
        logger.info("starting", metadata: startupDetails(configuration).merging(["environment": "\(common.environment)"]) { $1 })
        let service = try await build(configuration, logger)
        var group = ServiceGroupConfiguration(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = common.shutdownGracePeriod
        try await ServiceGroup(configuration: group).run()
    }

    /// The librdkafka a Kafka-using service runs with, for its start-up line.
    public static var kafkaDetails: Logger.Metadata {
        ["librdkafka": "\(KafkaLibrary.version)"]
    }
}
