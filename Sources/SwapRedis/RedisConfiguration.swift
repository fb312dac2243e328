import Foundation

/// Where and how to connect.
public struct RedisConfiguration: Sendable {
    /// Host name or address.
    public var host: String
    /// TCP port.
    public var port: Int
    /// ACL user name (Redis 6+); `nil` authenticates as `default`.
    public var username: String?
    /// Password for `AUTH`; `nil` skips authentication.
    public var password: String?
    /// Database index for `SELECT`.
    public var database: Int
    /// How long to wait when connecting.
    public var connectTimeout: Duration = .seconds(5)
    /// How long to wait for any reply before the connection is deemed dead
    /// (`nil`: forever). Blocking commands get their block time on top.
    public var commandTimeout: Duration? = .seconds(30)

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[[user]:password@]host[:port][/database]`.
    public init(url: String) throws(RedisError) {
        guard let components = URLComponents(string: url), components.scheme == "redis",
              let host = components.host, !host.isEmpty
        else {
            throw RedisError(kind: .connectionFailed, details: "not a redis:// URL")
        }
        let path = components.path.drop(while: { $0 == "/" })
        guard path.isEmpty || Int(path) != nil else {
            throw RedisError(kind: .connectionFailed, details: "the database in a redis:// URL must be a number")
        }
        self.init(
            host: host,
            port: components.port ?? 6379,
            username: components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding },
            password: components.password?.removingPercentEncoding,
            database: Int(path) ?? 0
        )
    }
}
