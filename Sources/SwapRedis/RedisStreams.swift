/// One stream entry: its id and its fields.
public struct RedisStreamEntry: Sendable, Hashable {
    /// The entry id, such as `1714566600000-0`.
    public let id: String
    /// The entry's field/value pairs.
    public let fields: [String: String]

    public init(id: String, fields: [String: String]) {
        self.id = id
        self.fields = fields
    }
}

/// How `XADD` trims the stream.
public enum RedisStreamTrim: Sendable {
    /// `MAXLEN [~] count`: keep about (or exactly) the newest `count` entries.
    case maxLength(Int, approximate: Bool = true)
    /// `MINID [~] id`: drop entries with ids below `id`.
    case minID(String, approximate: Bool = true)

    var arguments: [String] {
        switch self {
        case .maxLength(let count, let approximate): ["MAXLEN", approximate ? "~" : "=", String(count)]
        case .minID(let id, let approximate): ["MINID", approximate ? "~" : "=", id]
        }
    }
}

extension RedisClient {
    /// `XADD`; returns the new entry's id.
    @discardableResult
    public func xadd(
        _ stream: String, id: String = "*", fields: [(String, String)], trim: RedisStreamTrim? = nil
    ) async throws -> String {
        guard !fields.isEmpty else { throw RedisError(kind: .invalidCommand, details: "XADD needs at least one field") }
        let arguments = ["XADD", stream] + (trim?.arguments ?? []) + [id] + fields.flatMap { [$0.0, $0.1] }
        guard let entryID = try await self.send(arguments).string else {
            throw RedisError(kind: .unexpectedReply, details: "XADD")
        }
        return entryID
    }

    /// `XLEN`.
    public func xlen(_ stream: String) async throws -> Int {
        try await self.integer(["XLEN", stream])
    }

    /// `XRANGE` from `start` to `end` (inclusive; `-` and `+` are the ends).
    public func xrange(_ stream: String, from start: String = "-", to end: String = "+", count: Int? = nil) async throws -> [RedisStreamEntry] {
        let reply = try await self.send(["XRANGE", stream, start, end] + (count.map { ["COUNT", String($0)] } ?? []))
        return try streamEntries(reply)
    }

    /// `XREAD`: entries after the given id of each stream (`$` for only new
    /// ones), waiting up to `block` when there are none. Returns only the
    /// streams that had entries; empty when the wait timed out.
    public func xread(
        streams: [(stream: String, after: String)], count: Int? = nil, block: Duration? = nil
    ) async throws -> [String: [RedisStreamEntry]] {
        var arguments = ["XREAD"]
        if let count { arguments += ["COUNT", String(count)] }
        if let block { arguments += ["BLOCK", String(max(0, block.milliseconds))] }
        arguments += ["STREAMS"] + streams.map(\.stream) + streams.map(\.after)
        let reply = try await self.send(bytes: arguments.map { Array($0.utf8) }, blockingUpTo: block)
        if reply.isNull { return [:] }
        guard let perStream = reply.array else { throw RedisError(kind: .unexpectedReply, details: "XREAD") }
        var result: [String: [RedisStreamEntry]] = [:]
        for item in perStream {
            guard let pair = item.array, pair.count == 2, let name = pair[0].string else {
                throw RedisError(kind: .unexpectedReply, details: "XREAD")
            }
            result[name] = try streamEntries(pair[1])
        }
        return result
    }
}

/// `[[id, [f1, v1, ...]], ...]` to entries.
private func streamEntries(_ reply: RedisValue) throws(RedisError) -> [RedisStreamEntry] {
    guard let items = reply.array else { throw RedisError(kind: .unexpectedReply, details: "stream entries") }
    var entries: [RedisStreamEntry] = []
    entries.reserveCapacity(items.count)
    for item in items {
        guard let pair = item.array, pair.count == 2, let id = pair[0].string, let fields = pair[1].array else {
            throw RedisError(kind: .unexpectedReply, details: "stream entry")
        }
        entries.append(RedisStreamEntry(id: id, fields: try pairs(fields, command: "stream entry")))
    }
    return entries
}
