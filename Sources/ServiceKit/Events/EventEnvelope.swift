import Foundation
import SwapKafka

/// An event as API.md defines it: the Kafka value is
/// `{"data": {...}, "event_id": "...", "occurred_at": "...", "type": "..."}`
/// (keys sorted), the Kafka key is ``key`` (the user the event concerns
/// most, so one user's events stay ordered), and every message carries the
/// headers `event_id` and `type`.
public struct EventEnvelope: Sendable, Equatable {
    public var eventID: UUID
    public var type: String
    public var occurredAt: Date
    /// The `data` object as JSON text (snake_case keys, RFC 3339 times).
    public var data: Data
    public var topic: String
    public var key: String

    /// An event whose `data` is `payload` encoded as API.md JSON.
    public init<Payload: Encodable>(
        topic: String, key: String, type: String, data payload: Payload,
        eventID: UUID = UUID(), occurredAt: Date = Date()
    ) throws {
        self.init(topic: topic, key: key, type: type, dataJSON: try APIJSON.encoder.encode(payload), eventID: eventID, occurredAt: occurredAt)
    }

    /// An event whose `data` is already JSON text.
    public init(topic: String, key: String, type: String, dataJSON: Data, eventID: UUID = UUID(), occurredAt: Date = Date()) {
        self.eventID = eventID
        self.type = type
        // Whole milliseconds, as the wire format carries them: decoding gives back an equal value.
        self.occurredAt = EventTime.rounded(occurredAt)
        self.data = dataJSON
        self.topic = topic
        self.key = key
    }

    /// The lower-case event id, as in the JSON value and the `event_id` header.
    public var eventIDString: String { eventID.lowercaseString }

    /// Decodes `data` (snake_case keys, RFC 3339 times).
    public func decodeData<Payload: Decodable>(_ type: Payload.Type) throws -> Payload {
        try APIJSON.decoder.decode(Payload.self, from: data)
    }

    /// The Kafka message value.
    public func encodedValue() throws -> Data {
        guard let dataValue = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw EventDecodingError.malformed("data is not JSON")
        }
        let wire = WireEnvelope(data: dataValue, eventId: eventIDString, occurredAt: EventTime.string(occurredAt), type: type)
        return try Self.wireEncoder.encode(wire)
    }

    /// The Kafka message headers.
    public var headers: [KafkaHeader] {
        [KafkaHeader(key: "event_id", value: eventIDString), KafkaHeader(key: "type", value: type)]
    }

    /// Decodes a Kafka message value; `topic` and `key` come from the message.
    public static func decode(value: some Collection<UInt8>, topic: String, key: String?) throws -> EventEnvelope {
        let wire: WireEnvelope
        do {
            wire = try JSONDecoder().decode(WireEnvelope.self, from: Data(value))
        } catch {
            throw EventDecodingError.malformed("the value is not an event envelope")
        }
        guard let eventID = UUID(uuidString: wire.eventId) else { throw EventDecodingError.malformed("event_id is not a UUID") }
        guard let occurredAt = RFC3339.date(from: wire.occurredAt) else {
            throw EventDecodingError.malformed("occurred_at is not an RFC 3339 time")
        }
        return EventEnvelope(
            topic: topic, key: key ?? "", type: wire.type, dataJSON: try wireEncoder.encode(wire.data),
            eventID: eventID, occurredAt: occurredAt
        )
    }

    /// Decodes a consumed message.
    public static func decode(_ message: KafkaConsumerMessage) throws -> EventEnvelope {
        try decode(value: message.value, topic: message.topic, key: message.keyString)
    }

    static var wireEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The value's shape; `data` passes through as any JSON.
    struct WireEnvelope: Codable {
        var data: JSONValue
        var eventId: String
        var occurredAt: String
        var type: String

        enum CodingKeys: String, CodingKey {
            case data
            case eventId = "event_id"
            case occurredAt = "occurred_at"
            case type
        }
    }
}

/// `occurred_at` as RFC 3339 UTC with exactly three fraction digits, formatted
/// from whole milliseconds (formatting a `Date` directly can print one
/// millisecond less than it was parsed from, through floating-point error).
enum EventTime {
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func rounded(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds(date)) / 1000)
    }

    static func string(_ date: Date) -> String {
        let milliseconds = milliseconds(date)
        var seconds = milliseconds / 1000
        var fraction = milliseconds % 1000
        if fraction < 0 {
            seconds -= 1
            fraction += 1000
        }
        let whole = Date.ISO8601FormatStyle().format(Date(timeIntervalSince1970: Double(seconds)))
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}

/// A consumed message that is not an event envelope.
public enum EventDecodingError: Error, Sendable, Equatable {
    case malformed(String)
}

/// Any JSON value, for passing `data` through unchanged (integers stay integers).
enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
