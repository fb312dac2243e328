import Foundation

/// The settings every service reads, named as `swapctl` generates them
/// (see SwapGenerators' ServiceEnvironment): the one contract between the
/// topology, the deployments, the harness and the services. What a service
/// uses besides (PostgreSQL, Redis, Kafka) it reads through the
/// ``EnvironmentReader`` extensions in DependencySettings.swift.
public struct CommonConfiguration: Sendable {
    public var serviceName: String
    public var environment: String
    public var host: String
    public var port: Int
    public var logLevel: String
    public var jwtSecret: String
    /// How long shutdown waits for in-flight work before giving up.
    public var shutdownGracePeriod: Duration

    public init(reader: EnvironmentReader, defaultName: String) {
        serviceName = reader.string("SERVICE_NAME", default: defaultName)
        environment = reader.string("SWAP_ENVIRONMENT", default: "local")
        host = reader.string("HOST", default: "0.0.0.0")
        port = reader.int("PORT", in: 1...65535)
        logLevel = reader.string("LOG_LEVEL", default: "info")
        jwtSecret = reader.secret("JWT_SECRET")
        shutdownGracePeriod = reader.duration("SHUTDOWN_GRACE_PERIOD", default: .seconds(20))
    }
}

/// What a service's configuration type offers the start-up code.
public protocol ServiceConfiguration: Sendable {
    var common: CommonConfiguration { get }
}
