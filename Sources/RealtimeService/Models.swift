import Foundation
import Hummingbird
import ServiceKit

/// A Redis stream entry id, `<milliseconds>-<sequence>`: the `id` of every
/// frame and the `last_event_id` a client reconnects with. Ordered as Redis
/// orders entries.
struct StreamID: Comparable, Hashable, Sendable, CustomStringConvertible {
    var milliseconds: UInt64
    var sequence: UInt64

    static let zero = StreamID(milliseconds: 0, sequence: 0)

    /// Parses exactly `digits-digits` (both parts within UInt64), as Redis
    /// hands them out; anything else is nil.
    init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 20 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let milliseconds = UInt64(parts[0]), let sequence = UInt64(parts[1])
        else { return nil }
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    var description: String { "\(milliseconds)-\(sequence)" }

    static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}

/// The Redis names the real-time replicas share.
enum RealtimeKeys {
    /// The user's frames (a stream), trimmed to the replay window.
    static func events(_ user: UUID) -> String { "swap:rt:events:\(user.lowercaseString)" }
    /// The wake-up channel: published after a frame was appended for the user.
    static func wakeups(_ user: UUID) -> String { "swap:rt:user:\(user.lowercaseString)" }
    /// The pattern every replica subscribes to.
    static let wakeupPattern = "swap:rt:user:*"
    /// Marks that an event's frame was appended for a user (dedup of redeliveries).
    static func delivered(event: UUID, user: UUID) -> String { "swap:rt:seen:\(event.lowercaseString):\(user.lowercaseString)" }
    /// The user's live connections (a sorted set scored by expiry time).
    static func presence(_ user: UUID) -> String { "swap:rt:presence:\(user.lowercaseString)" }

    /// The user of a wake-up channel name.
    static func user(ofWakeupChannel channel: String) -> UUID? {
        let prefix = "swap:rt:user:"
        guard channel.hasPrefix(prefix) else { return nil }
        return UUID(uuidString: String(channel.dropFirst(prefix.count)))
    }
}

/// One frame as stored in a user's stream (fields `type`, `ts`, `data`,
/// `event_id`) and as sent: `{"id", "type", "ts", "data"}`.
struct StoredFrame: Sendable, Equatable {
    var type: String
    /// RFC 3339 time of the event.
    var ts: String
    /// The frame's `data` object as JSON text.
    var data: String
    /// The Kafka event it came from.
    var eventID: String

    var fields: [(String, String)] {
        [("type", type), ("ts", ts), ("data", data), ("event_id", eventID)]
    }

    init(type: String, ts: String, data: String, eventID: String) {
        self.type = type
        self.ts = ts
        self.data = data
        self.eventID = eventID
    }

    init?(fields: [String: String]) {
        guard let type = fields["type"], let ts = fields["ts"], let data = fields["data"] else { return nil }
        self.init(type: type, ts: ts, data: data, eventID: fields["event_id"] ?? "")
    }

    /// The text frame sent to the client, with the stream entry id as `id`.
    func json(id: String) -> String {
        #"{"id":\#(Self.quoted(id)),"type":\#(Self.quoted(type)),"ts":\#(Self.quoted(ts)),"data":\#(data)}"#
    }

    /// A JSON string literal (ids, times and types are plain ASCII, but escape anyway).
    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// `GET /api/v1/presence/{user_id}`.
struct Presence: ResponseEncodable, Sendable, Equatable {
    var userId: String
    var online: Bool
}
