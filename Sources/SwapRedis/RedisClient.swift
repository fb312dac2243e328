/// Anything that can send Redis commands: a ``RedisConnection`` or a
/// ``RedisPool``. The typed helpers (``get(_:)``, ``set(_:to:expiration:condition:)``,
/// streams...) are built on these two requirements.
public protocol RedisClient: Sendable {
    /// Sends one command as a binary-safe argument vector and returns its reply.
    ///
    /// - Parameter blockTime: for commands that block server-side (`XREAD
    ///   BLOCK`, `BLPOP`): how long the server may stay silent on top of the
    ///   command timeout.
    /// - Throws: ``RedisError``; an error reply throws kind `server`.
    func send(bytes arguments: [[UInt8]], blockingUpTo blockTime: Duration?) async throws -> RedisValue

    /// Writes all commands, then reads all replies, in one round trip.
    /// Error replies come back as ``RedisValue/error(_:)`` in their place.
    func pipeline(bytes commands: [[[UInt8]]]) async throws -> [RedisValue]
}

extension RedisClient {
    /// Sends one command, such as `["SET", "key", "value"]`.
    @discardableResult
    public func send(_ arguments: [String]) async throws -> RedisValue {
        try await self.send(bytes: arguments.map { Array($0.utf8) }, blockingUpTo: nil)
    }

    /// Sends one command, such as `send("INCR", "hits")`.
    @discardableResult
    public func send(_ arguments: String...) async throws -> RedisValue {
        try await self.send(arguments)
    }

    /// Pipelines `commands`; see ``pipeline(bytes:)``.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisValue] {
        try await self.pipeline(bytes: commands.map { $0.map { Array($0.utf8) } })
    }
}

/// When `SET` may write.
public enum RedisSetCondition: Sendable {
    case always
    /// `NX`: only when the key does not exist.
    case ifNotExists
    /// `XX`: only when the key exists.
    case ifExists
}

extension RedisClient {
    /// `GET`; `nil` when the key does not exist.
    public func get(_ key: String) async throws -> String? {
        try await self.send(["GET", key]).string
    }

    /// `GET` for binary values.
    public func getBytes(_ key: String) async throws -> [UInt8]? {
        try await self.send(["GET", key]).bytes
    }

    /// `SET` with optional `EX`/`PX` expiry and `NX`/`XX`; returns whether it wrote.
    @discardableResult
    public func set(
        _ key: String, to value: String, expiration: Duration? = nil, condition: RedisSetCondition = .always
    ) async throws -> Bool {
        try await self.set(key, bytes: Array(value.utf8), expiration: expiration, condition: condition)
    }

    /// `SET` for binary values.
    @discardableResult
    public func set(
        _ key: String, bytes value: [UInt8], expiration: Duration? = nil, condition: RedisSetCondition = .always
    ) async throws -> Bool {
        var arguments: [[UInt8]] = [Array("SET".utf8), Array(key.utf8), value]
        if let expiration {
            arguments += [Array("PX".utf8), Array(String(max(1, expiration.milliseconds)).utf8)]
        }
        switch condition {
        case .always: break
        case .ifNotExists: arguments.append(Array("NX".utf8))
        case .ifExists: arguments.append(Array("XX".utf8))
        }
        return try await !self.send(bytes: arguments, blockingUpTo: nil).isNull
    }

    /// `DEL`; returns how many keys existed.
    @discardableResult
    public func delete(_ keys: String...) async throws -> Int {
        try await self.integer(["DEL"] + keys)
    }

    /// `INCRBY`; returns the new value.
    @discardableResult
    public func increment(_ key: String, by amount: Int64 = 1) async throws -> Int64 {
        Int64(try await self.integer(["INCRBY", key, String(amount)]))
    }

    /// `PEXPIRE`; returns whether the key exists.
    @discardableResult
    public func expire(_ key: String, after duration: Duration) async throws -> Bool {
        try await self.integer(["PEXPIRE", key, String(max(1, duration.milliseconds))]) == 1
    }

    /// `EVAL`: runs a Lua script with `KEYS` and `ARGV`.
    @discardableResult
    public func eval(_ script: String, keys: [String] = [], arguments: [String] = []) async throws -> RedisValue {
        try await self.send(["EVAL", script, String(keys.count)] + keys + arguments)
    }

    /// `HSET`; returns how many fields were added (not updated).
    @discardableResult
    public func hset(_ key: String, fields: [(String, String)]) async throws -> Int {
        try await self.integer(["HSET", key] + fields.flatMap { [$0.0, $0.1] })
    }

    /// `HGET`; `nil` when the field or key does not exist.
    public func hget(_ key: String, field: String) async throws -> String? {
        try await self.send(["HGET", key, field]).string
    }

    /// `HGETALL` as a dictionary.
    public func hgetAll(_ key: String) async throws -> [String: String] {
        let reply = try await self.send(["HGETALL", key])
        guard let elements = reply.array else { throw RedisError(kind: .unexpectedReply, details: "HGETALL") }
        return try pairs(elements, command: "HGETALL")
    }

    /// `PUBLISH`; returns how many subscribers received the message.
    @discardableResult
    public func publish(_ message: String, to channel: String) async throws -> Int {
        try await self.integer(["PUBLISH", channel, message])
    }

    func integer(_ arguments: [String]) async throws -> Int {
        let reply = try await self.send(arguments)
        guard case .integer(let value) = reply else {
            throw RedisError(kind: .unexpectedReply, details: "\(arguments.first ?? "") did not return an integer")
        }
        return Int(value)
    }
}

/// `[k1, v1, k2, v2...]` to a dictionary.
func pairs(_ elements: [RedisValue], command: String) throws(RedisError) -> [String: String] {
    guard elements.count % 2 == 0 else { throw RedisError(kind: .unexpectedReply, details: command) }
    var result: [String: String] = [:]
    var index = 0
    while index < elements.count {
        guard let key = elements[index].string, let value = elements[index + 1].string else {
            throw RedisError(kind: .unexpectedReply, details: command)
        }
        result[key] = value
        index += 2
    }
    return result
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
