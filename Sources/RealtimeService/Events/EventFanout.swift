import Foundation
import Logging
import ServiceKit

/// The handler of the replica's ``KafkaEventConsumer``: turns each event
/// into the frame its recipients get and appends it to their streams.
///
/// - `message.created` goes to the event's `recipient_ids` except the
///   sender (`sender_id`); its data is the message (`recipient_ids` removed).
/// - `transaction.completed` goes to `from_user_id` and `to_user_id` (a
///   deposit has no sender, so only the depositor); its data is the transaction.
/// - `points.awarded` goes to `user_id`; its data is `{delta, balance, source_event_id}`.
///
/// Other event types are ignored, and so is an event whose data lacks the
/// fields above (logged: retrying cannot fix it). Redis failures propagate,
/// so the consumer retries and commits the offset only once every recipient's
/// frame was written.
struct EventFanout: Sendable {
    let streams: any EventStreamRepository
    let logger: Logger

    /// What one event becomes.
    struct Delivery: Equatable {
        var recipients: [UUID]
        var frame: StoredFrame
    }

    func handle(_ event: EventEnvelope) async throws {
        guard let delivery = Self.delivery(for: event, logger: logger) else { return }
        let ids = try await streams.append(delivery.frame, event: event.eventID, to: delivery.recipients)
        let duplicates = ids.filter { $0 == nil }.count
        if duplicates > 0 {
            logger.debug("event already fanned out", metadata: ["event_id": "\(event.eventIDString)", "duplicates": "\(duplicates)"])
        }
    }

    /// The recipients and frame of `event`, or nil when it is not for sockets.
    static func delivery(for event: EventEnvelope, logger: Logger) -> Delivery? {
        let routing: (recipients: [UUID], data: [String: Any])?
        guard ["message.created", "transaction.completed", "points.awarded"].contains(event.type) else { return nil }
        guard let object = (try? JSONSerialization.jsonObject(with: event.data)) as? [String: Any] else {
            logger.error("ignoring an event whose data is not a JSON object", metadata: ["event_id": "\(event.eventIDString)", "type": "\(event.type)"])
            return nil
        }
        switch event.type {
        case "message.created": routing = messageCreated(object)
        case "transaction.completed": routing = transactionCompleted(object)
        default: routing = pointsAwarded(object)
        }
        guard let routing else {
            logger.error("ignoring an event whose data lacks its recipients", metadata: ["event_id": "\(event.eventIDString)", "type": "\(event.type)"])
            return nil
        }
        guard !routing.recipients.isEmpty,
              let data = try? JSONSerialization.data(withJSONObject: routing.data, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        let frame = StoredFrame(
            type: event.type, ts: RFC3339.string(from: event.occurredAt), data: String(decoding: data, as: UTF8.self),
            eventID: event.eventIDString
        )
        return Delivery(recipients: routing.recipients, frame: frame)
    }

    private static func messageCreated(_ object: [String: Any]) -> (recipients: [UUID], data: [String: Any])? {
        guard let ids = object["recipient_ids"] as? [Any] else { return nil }
        let sender = (object["sender_id"] as? String).flatMap(UUID.init(uuidString:))
        var recipients: [UUID] = []
        for value in ids {
            guard let text = value as? String, let id = UUID(uuidString: text) else { return nil }
            if id != sender, !recipients.contains(id) { recipients.append(id) }
        }
        var data = object
        data.removeValue(forKey: "recipient_ids")
        return (recipients, data)
    }

    private static func transactionCompleted(_ object: [String: Any]) -> (recipients: [UUID], data: [String: Any])? {
        guard let to = (object["to_user_id"] as? String).flatMap(UUID.init(uuidString:)) else { return nil }
        var recipients = [to]
        if let from = (object["from_user_id"] as? String).flatMap(UUID.init(uuidString:)), from != to {
            recipients.insert(from, at: 0)
        }
        return (recipients, object)
    }

    private static func pointsAwarded(_ object: [String: Any]) -> (recipients: [UUID], data: [String: Any])? {
        guard let user = (object["user_id"] as? String).flatMap(UUID.init(uuidString:)),
              let delta = object["delta"], let balance = object["balance"]
        else { return nil }
        let data: [String: Any] = ["delta": delta, "balance": balance, "source_event_id": object["source_event_id"] ?? NSNull()]
        return ([user], data)
    }
}
