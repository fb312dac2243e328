/// A decoded RESP2 reply.
public enum RedisValue: Sendable, Hashable {
    /// A status reply, such as `OK` or `PONG`.
    case status(String)
    /// A bulk string: arbitrary bytes.
    case bulk([UInt8])
    /// An integer reply.
    case integer(Int64)
    /// An array reply (nested replies).
    case array([RedisValue])
    /// The nil reply (missing key, timed-out blocking read).
    case null
    /// An error reply. ``RedisClient/send(bytes:blockingUpTo:)`` throws it
    /// instead; it appears as a value only inside pipelines and arrays.
    case error(String)

    /// The text of a bulk string (as UTF-8) or status reply.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// The bytes of a bulk string.
    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    /// An integer reply, or a bulk string holding a decimal integer.
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether this is the nil reply.
    public var isNull: Bool { self == .null }
}
