import Foundation
import Logging
import ServiceKit
import Testing

@testable import RealtimeService

/// The pure parts: stream ids, recipients and frame data of each event type, frame text.
struct RealtimeUnitTests {
    let logger = Logger(label: "test")

    @Test func streamIDsParseOnlyWhatRedisHandsOut() {
        #expect(StreamID("1714566600000-0") == StreamID(milliseconds: 1_714_566_600_000, sequence: 0))
        #expect(StreamID("18446744073709551615-18446744073709551615") != nil)
        for bad in ["", "1", "1-", "-1", "a-1", "1-1-1", "+1-0", "18446744073709551616-0", " 1-0", "1-0 "] {
            #expect(StreamID(bad) == nil, "\(bad)")
        }
        #expect(StreamID("5-1")! < StreamID("5-2")! && StreamID("5-9")! < StreamID("6-0")!)
        #expect(StreamID("12-3")!.description == "12-3")
    }

    @Test func messageGoesToRecipientsButTheSenderWithoutTheRecipientList() throws {
        let sender = UUID(), other = UUID()
        let event = envelope("message.created", [
            "id": "m1", "sender_id": sender.uuidString.lowercased(), "body": "hi",
            "recipient_ids": [sender.uuidString.lowercased(), other.uuidString.lowercased(), other.uuidString.lowercased()],
        ])
        let delivery = try #require(EventFanout.delivery(for: event, logger: logger))
        #expect(delivery.recipients == [other])
        #expect(delivery.frame.type == "message.created")
        #expect(delivery.frame.eventID == event.eventIDString)
        #expect(!delivery.frame.data.contains("recipient_ids") && delivery.frame.data.contains(#""body":"hi""#))
    }

    @Test func transactionsGoToBothPartiesAndDepositsToTheDepositor() throws {
        let from = UUID(), to = UUID()
        let transfer = envelope("transaction.completed", ["from_user_id": from.uuidString, "to_user_id": to.uuidString, "amount": 5])
        #expect(EventFanout.delivery(for: transfer, logger: logger)?.recipients == [from, to])
        let deposit = envelope("transaction.completed", ["from_user_id": NSNull(), "to_user_id": to.uuidString, "amount": 5])
        #expect(EventFanout.delivery(for: deposit, logger: logger)?.recipients == [to])
    }

    @Test func pointsKeepOnlyDeltaBalanceAndSource() throws {
        let user = UUID()
        let event = envelope("points.awarded", ["user_id": user.uuidString, "delta": 3, "balance": 10, "source_event_id": "e1"])
        let delivery = try #require(EventFanout.delivery(for: event, logger: logger))
        #expect(delivery.recipients == [user])
        #expect(delivery.frame.data == #"{"balance":10,"delta":3,"source_event_id":"e1"}"#)
    }

    @Test func otherTypesAndIncompleteDataAreNotDelivered() {
        #expect(EventFanout.delivery(for: envelope("wallet.created", ["user_id": UUID().uuidString]), logger: logger) == nil)
        #expect(EventFanout.delivery(for: envelope("message.created", ["sender_id": UUID().uuidString]), logger: logger) == nil)
        #expect(EventFanout.delivery(for: envelope("message.created", ["recipient_ids": ["not-a-uuid"]]), logger: logger) == nil)
        #expect(EventFanout.delivery(for: envelope("transaction.completed", ["from_user_id": UUID().uuidString]), logger: logger) == nil)
        #expect(EventFanout.delivery(for: envelope("points.awarded", ["delta": 1, "balance": 1]), logger: logger) == nil)
    }

    @Test func frameTextCarriesTheStreamIDAndTheDataUnchanged() throws {
        let frame = StoredFrame(type: "points.awarded", ts: "2026-11-25T15:04:05.123Z", data: #"{"delta":1}"#, eventID: "e")
        let text = frame.json(id: "7-0")
        #expect(text == #"{"id":"7-0","type":"points.awarded","ts":"2026-11-25T15:04:05.123Z","data":{"delta":1}}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
        #expect(ClientSession.isPing(#"{"type":"ping"}"#) && ClientSession.isPing(#" { "type" : "ping" } "#))
        #expect(!ClientSession.isPing(#"{"type":"pong"}"#) && !ClientSession.isPing("ping"))
    }

    @Test func configurationListsEveryProblemAtOnce() {
        #expect(throws: ConfigurationError.self) { try RealtimeConfiguration(environment: [:]) }
        do {
            _ = try RealtimeConfiguration(environment: ["PORT": "x", "REPLAY_WINDOW": "5m", "KAFKA_CONSUMER_ENABLED": "maybe"])
        } catch let error as ConfigurationError {
            let text = error.problems.joined(separator: "\n")
            for name in ["PORT", "JWT_SECRET_FILE", "REDIS_URL", "KAFKA_BROKERS", "REPLAY_WINDOW", "KAFKA_CONSUMER_ENABLED"] {
                #expect(text.contains(name), "\(name) missing from \(text)")
            }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    private func envelope(_ type: String, _ data: [String: Any]) -> EventEnvelope {
        let json = (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])) ?? Data()
        return EventEnvelope(topic: "t", key: "k", type: type, dataJSON: json)
    }
}
