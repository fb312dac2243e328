import SwapKafka
import SwapPostgres
import SwapRedis

/// The settings of the datastores and brokers a service uses, named as
/// `swapctl` generates them (SwapGenerators' ServiceEnvironment). A service
/// reads only those of what it uses; each one it reads is required, and a
/// missing or malformed one is a problem reported with all the others.
extension EnvironmentReader {
    /// DATABASE_URL_FILE (a managed database), else DATABASE_HOST, PORT, NAME,
    /// USER and DATABASE_PASSWORD_FILE.
    public func postgres() -> PostgresConfiguration {
        if optionalString("DATABASE_URL_FILE") != nil {
            return PostgresConfiguration(connectionString: secret("DATABASE_URL"))
        }
        guard let host = optionalString("DATABASE_HOST") else {
            problem("DATABASE_HOST (or DATABASE_URL_FILE) is required")
            return PostgresConfiguration(host: "", user: "", database: "")
        }
        return PostgresConfiguration(
            host: host,
            port: int("DATABASE_PORT", default: 5432, in: 1...65535),
            user: string("DATABASE_USER"),
            password: secret("DATABASE_PASSWORD"),
            database: string("DATABASE_NAME")
        )
    }

    /// REDIS_URL: `redis://[[user]:password@]host[:port][/database]`.
    public func redis() -> RedisConfiguration {
        guard let url = optionalString("REDIS_URL") else {
            problem("REDIS_URL is required")
            return RedisConfiguration()
        }
        guard let configuration = try? RedisConfiguration(url: url) else {
            // Not echoed: the URL may carry a password.
            problem("REDIS_URL must be redis://[[user]:password@]host[:port][/database]")
            return RedisConfiguration()
        }
        return configuration
    }

    /// KAFKA_BROKERS: `host:port[,host:port...]`.
    public func kafkaBrokers() -> [String] {
        let brokers = list("KAFKA_BROKERS")
        if brokers.isEmpty { problem("KAFKA_BROKERS is required (host:port[,host:port...])") }
        return brokers
    }

    /// KAFKA_CONSUMER_GROUP, for a service that consumes topics.
    public func kafkaConsumerGroup() -> String {
        string("KAFKA_CONSUMER_GROUP")
    }

    /// KAFKA_TOPICS (the topology's `consumes`), `fallback` when unset.
    public func kafkaTopics(default fallback: [String]) -> [String] {
        let topics = list("KAFKA_TOPICS")
        return topics.isEmpty ? fallback : topics
    }

    /// KAFKA_SESSION_TIMEOUT (default 10s): how long the group waits for a
    /// silent member. The first join of a group takes about 2/3 of it, so
    /// local stacks set it low.
    public func kafkaSessionTimeout() -> Duration {
        duration("KAFKA_SESSION_TIMEOUT", default: .seconds(10), in: .seconds(1)...(.seconds(300)))
    }

    /// DATABASE_POOL_SIZE (default 10): database sessions of this process.
    public func databasePoolSize() -> Int {
        int("DATABASE_POOL_SIZE", default: 10, in: 1...500)
    }
}

extension KafkaConsumerConfiguration {
    /// A group member of `service` with the session timeout the topology
    /// sets, heartbeating often enough to keep it (a third of it, at most 3 s).
    public static func member(of group: String, brokers: [String], service: String, sessionTimeout: Duration) -> Self {
        var configuration = Self(bootstrapServers: brokers, groupID: group, clientID: service)
        configuration.sessionTimeout = sessionTimeout
        configuration.heartbeatInterval = min(.seconds(3), sessionTimeout / 3)
        return configuration
    }
}
