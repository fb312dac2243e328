/// Where and how to connect.
///
/// Every session is opened with `DateStyle=ISO`, `TimeZone=UTC`,
/// `IntervalStyle=iso_8601`, `bytea_output=hex` and UTF-8, because row
/// decoding relies on those text formats; these override any `options` in a
/// connection string.
public struct PostgresConfiguration: Sendable {
    enum Target: Sendable {
        case fields(host: String, port: Int, user: String, password: String?, database: String)
        case connectionString(String)
    }

    /// TLS use, as libpq's `sslmode`.
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    let target: Target
    /// How long to wait for the server when connecting (libpq rounds up to whole seconds, minimum 2).
    public var connectTimeout: Duration = .seconds(5)
    /// When set, the server cancels any statement running longer.
    public var statementTimeout: Duration?
    /// Shown in `pg_stat_activity`.
    public var applicationName: String = "swap"
    /// TLS use; ignored when a connection string sets `sslmode` itself.
    public var tls: TLSMode = .prefer

    /// Connects over TCP (or a Unix socket directory given as `host`).
    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String) {
        self.target = .fields(host: host, port: port, user: user, password: password, database: database)
    }

    /// Connects with a libpq URI (`postgresql://user@host:port/db`) or a
    /// `key=value` connection string.
    public init(connectionString: String) {
        self.target = .connectionString(connectionString)
    }

    /// Keyword/value pairs for `PQconnectdbParams`, in order: a connection
    /// string goes first as an expandable `dbname`, so the settings after it win.
    var libpqParameters: [(String, String)] {
        var parameters: [(String, String)] = []
        switch self.target {
        case .connectionString(let string):
            parameters.append(("dbname", string))
        case .fields(let host, let port, let user, let password, let database):
            parameters.append(("host", host))
            parameters.append(("port", String(port)))
            parameters.append(("user", user))
            if let password { parameters.append(("password", password)) }
            parameters.append(("dbname", database))
            parameters.append(("sslmode", self.tls.rawValue))
        }
        var options = "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 -c bytea_output=hex"
        if let statementTimeout {
            options += " -c statement_timeout=\(max(1, statementTimeout.milliseconds))"
        }
        parameters.append(("options", options))
        parameters.append(("client_encoding", "UTF8"))
        parameters.append(("application_name", self.applicationName))
        parameters.append(("connect_timeout", String(max(2, self.connectTimeout.roundedUpSeconds))))
        // Keepalives notice a peer that vanished without closing the socket.
        parameters.append(("keepalives", "1"))
        parameters.append(("keepalives_idle", "30"))
        parameters.append(("keepalives_interval", "10"))
        parameters.append(("keepalives_count", "3"))
        return parameters
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var roundedUpSeconds: Int64 {
        let (seconds, attoseconds) = self.components
        return attoseconds > 0 ? seconds + 1 : seconds
    }
}
