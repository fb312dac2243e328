import LocalServers

/// The settings (environment variables) a test gives a service, in the
/// groups every service reads.
public enum ServiceSettings {
    /// `SERVICE_NAME`, `HOST` (127.0.0.1), `PORT` (a free one) and `JWT_SECRET_FILE`.
    public static func common(_ name: String, jwtSecretFile: String) throws -> [String: String] {
        ["SERVICE_NAME": name, "HOST": "127.0.0.1", "PORT": String(try FreePort.next()), "JWT_SECRET_FILE": jwtSecretFile]
    }

    /// `DATABASE_HOST`, `_PORT`, `_NAME`, `_USER` and `_PASSWORD_FILE` for
    /// `database` on `server`; the local server trusts loopback, so the
    /// password file (written to `secrets`) only has to exist.
    public static func database(_ database: String, on server: PostgresServer, secrets: SecretFiles) throws -> [String: String] {
        [
            "DATABASE_HOST": server.host,
            "DATABASE_PORT": String(server.port),
            "DATABASE_NAME": database,
            "DATABASE_USER": server.user,
            "DATABASE_PASSWORD_FILE": try secrets.write("db_password", "unused\n"),
        ]
    }
}
