import Foundation
import SwapPostgres

/// The settings every service reads, named as `swapctl` generates them
/// (see SwapGenerators' ServiceEnvironment): the one contract between the
/// topology, the deployments, the harness and the services.
public struct CommonConfiguration: Sendable {
    public var serviceName: String
    public var environment: String
    public var host: String
    public var port: Int
    public var logLevel: String
    public var jwtSecret: String
    public var database: PostgresConfiguration?
    public var redisURL: String?
    public var kafkaBrokers: String?
    public var kafkaConsumerGroup: String?
    public var kafkaTopics: [String]
    /// How long shutdown waits for in-flight work before giving up.
    public var shutdownGracePeriod: Duration

    public init(reader: EnvironmentReader, defaultName: String) {
        serviceName = reader.string("SERVICE_NAME", default: defaultName)
        environment = reader.string("SWAP_ENVIRONMENT", default: "local")
        host = reader.string("HOST", default: "0.0.0.0")
        port = reader.int("PORT", in: 1...65535)
        logLevel = reader.string("LOG_LEVEL", default: "info")
        jwtSecret = reader.secret("JWT_SECRET")
        database = Self.database(reader)
        redisURL = reader.optionalString("REDIS_URL")
        kafkaBrokers = reader.optionalString("KAFKA_BROKERS")
        kafkaConsumerGroup = reader.optionalString("KAFKA_CONSUMER_GROUP")
        kafkaTopics = reader.optionalString("KAFKA_TOPICS")?.split(separator: ",").map(String.init) ?? []
        shutdownGracePeriod = reader.duration("SHUTDOWN_GRACE_PERIOD", default: .seconds(20))
    }

    /// DATABASE_URL_FILE (managed databases) or DATABASE_HOST/PORT/NAME/USER + DATABASE_PASSWORD_FILE.
    private static func database(_ reader: EnvironmentReader) -> PostgresConfiguration? {
        if reader.optionalString("DATABASE_URL_FILE") != nil {
            return PostgresConfiguration(connectionString: reader.secret("DATABASE_URL"))
        }
        guard let host = reader.optionalString("DATABASE_HOST") else { return nil }
        return PostgresConfiguration(
            host: host,
            port: reader.int("DATABASE_PORT", default: 5432, in: 1...65535),
            user: reader.string("DATABASE_USER"),
            password: reader.secret("DATABASE_PASSWORD"),
            database: reader.string("DATABASE_NAME")
        )
    }
}
