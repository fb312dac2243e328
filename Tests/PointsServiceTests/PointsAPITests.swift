import Foundation
import HTTPTypes
@testable import PointsService
import ServiceKit
import ServiceTesting
import SwapKafka
import SwapPostgres
import Testing

@Suite("Points service API", .serialized, .timeLimit(.minutes(10)))
struct PointsAPITests {
    static let catalogue: [(String, String, Int)] = [
        ("964d7db4-6e27-435c-a337-d615be6cc060", "Coffee voucher", 500),
        ("2c850011-d813-46c9-8bba-42b23a172d53", "Free delivery", 1000),
        ("76b53a62-9af4-48f3-8389-79cdd0408657", "Cinema ticket", 2500),
        ("416a7de6-a5d4-44d4-b303-b80c6a1889ba", "Gift card (10 USD)", 5000),
    ]
    static let coffee = catalogue[0].0
    static let delivery = catalogue[1].0

    @Test("a new user has zero points and an empty history; the catalogue is seeded; redemption errors: 400, 404, 422 insufficient_points (stored)")
    func endpointsAndErrors() async throws {
        try await withPointsService { service in
            let client = service.client()
            defer { Task { await client.close() } }
            for (method, path) in [("GET", "/api/v1/points"), ("GET", "/api/v1/points/history"), ("GET", "/api/v1/rewards"), ("POST", "/api/v1/rewards/\(Self.coffee)/redeem")] {
                let reply = try await client.send(.init(method)!, path)
                #expect(reply.status == 401, "\(method) \(path)")
                #expect(reply.errorCode == "unauthorized")
            }
            let user = UUID()
            let token = service.token(user)
            let points = try await client.send(.get, "/api/v1/points", token: token)
            #expect(points.status == 200)
            #expect(Set(points.json.keys) == ["user_id", "balance", "lifetime"])
            #expect(points.json["user_id"] as? String == user.uuidString.lowercased())
            #expect(try points.decode(PointsJSON.self) == PointsJSON(userId: user, balance: 0, lifetime: 0))
            let history = try await client.send(.get, "/api/v1/points/history", token: token)
            #expect(history.status == 200)
            #expect(history.json["items"] as? [Any] != nil && history.json["next_cursor"] is NSNull)

            let rewards = try await client.send(.get, "/api/v1/rewards", token: token)
            #expect(rewards.status == 200)
            struct Rewards: Decodable { var items: [RewardJSON] }
            let items = try rewards.decode(Rewards.self).items
            #expect(items.map { [$0.id.uuidString.lowercased(), $0.name, String($0.cost)] } == Self.catalogue.map { [$0.0, $0.1, String($0.2)] })
            #expect((rewards.json["items"] as? [[String: Any]])?.allSatisfy { Set($0.keys) == ["id", "name", "cost"] } == true)

            let malformed = try await client.send(.post, "/api/v1/rewards/not-a-uuid/redeem", token: token)
            #expect(malformed.status == 400)
            let unknown = try await client.send(.post, "/api/v1/rewards/\(UUID())/redeem", token: token, headers: ["Idempotency-Key": "r-unknown"])
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not_found")
            let poor = try await client.send(.post, "/api/v1/rewards/\(Self.coffee)/redeem", token: token, headers: ["Idempotency-Key": "r-poor"])
            #expect(poor.status == 422)
            #expect(poor.errorCode == "insufficient_points")

            // Earning points later does not change a stored 422 under the same key; a new key succeeds.
            try await PointsAwarder(pool: service.pool, unit: 100).handle(transactionEvent(from: user, to: UUID(), amount: 70_000))
            let stillPoor = try await client.send(.post, "/api/v1/rewards/\(Self.coffee)/redeem", token: token, headers: ["Idempotency-Key": "r-poor"])
            #expect(stillPoor.status == 422)
            #expect(stillPoor.errorCode == "insufficient_points")
            let bought = try await client.send(.post, "/api/v1/rewards/\(Self.coffee)/redeem", token: token, headers: ["Idempotency-Key": "r-ok"])
            #expect(bought.status == 201)
            let redemption = try bought.decode(RedemptionReply.self).redemption
            #expect(redemption.rewardId.uuidString.lowercased() == Self.coffee && redemption.cost == 500)
            #expect(Set((bought.json["redemption"] as? [String: Any] ?? [:]).keys) == ["id", "reward_id", "cost", "created_at"])
            #expect(try await client.send(.get, "/api/v1/points", token: token).decode(PointsJSON.self) == PointsJSON(userId: user, balance: 200, lifetime: 700))
            let longKey = try await client.send(.post, "/api/v1/rewards/\(Self.coffee)/redeem", token: token, headers: ["Idempotency-Key": String(repeating: "k", count: 256)])
            #expect(longKey.status == 400)

            // Another user sees none of it.
            let stranger = service.token(UUID())
            #expect(try await client.send(.get, "/api/v1/points/history", token: stranger).decode(HistoryPage.self).items.isEmpty)
            #expect(try await client.send(.get, "/api/v1/points", token: stranger).decode(PointsJSON.self).balance == 0)

            for query in ["limit=0", "limit=101", "limit=x", "cursor=garbage"] {
                #expect(try await client.send(.get, "/api/v1/points/history?\(query)", token: token).status == 400, "\(query)")
            }
            let ready = try await client.send(.get, "/ready")
            #expect(ready.status == 200)
            #expect(ready.json["checks"] as? [String: String] == ["postgres": "ok", "kafka": "ok"])
        }
    }

    @Test("completed transfers on financial.transactions earn the sender floor(amount / unit) points once; deposits, held transfers and zero awards earn nothing; points.awarded is published once per award")
    func awardsFromEvents() async throws {
        try await withPointsService(settings: ["POINTS_UNIT": "100"]) { service in
            let client = service.client()
            defer { Task { await client.close() } }
            let (alice, bob, carol) = (UUID(), UUID(), UUID())
            let first = try transactionEvent(from: alice, to: bob, amount: 60_050)
            let events = [
                first,
                first,  // the same event delivered twice
                try transactionEvent(from: alice, to: bob, amount: 99),  // 0 points
                try transactionEvent(kind: "deposit", from: nil, to: alice, amount: 100_000),
                try transactionEvent(from: alice, to: bob, amount: 500_000, status: "held"),
                try transactionEvent(from: bob, to: alice, amount: 1_000),
                try transactionEvent(from: bob, to: alice, amount: 1_000, type: "transaction.reversed"),
                try transactionEvent(from: carol, to: alice, amount: 100),  // the last one
            ]
            try await publish(events, to: service.broker)
            #expect(try await eventually(timeout: .seconds(60)) {
                try await client.send(.get, "/api/v1/points", token: service.token(carol)).decode(PointsJSON.self).balance == 1
            })
            #expect(try await client.send(.get, "/api/v1/points", token: service.token(alice)).decode(PointsJSON.self) == PointsJSON(userId: alice, balance: 600, lifetime: 600))
            #expect(try await client.send(.get, "/api/v1/points", token: service.token(bob)).decode(PointsJSON.self) == PointsJSON(userId: bob, balance: 10, lifetime: 10))
            let history = try await client.send(.get, "/api/v1/points/history", token: service.token(alice)).decode(HistoryPage.self)
            #expect(history.items.count == 1)
            #expect(history.items.first?.delta == 600 && history.items.first?.reason == "transfer" && history.items.first?.sourceEventId == first.eventID)
            #expect(try await count("SELECT count(*)::bigint FROM swap_processed_events", on: service.pool) == 3)

            // Each award is on points.awarded once, keyed by the earner.
            #expect(try await eventually {
                try await count("SELECT count(*)::bigint FROM swap_outbox WHERE state <> 'sent'", on: service.pool) == 0
            })
            let awarded = try await readWholeTopic(service.broker, "points.awarded")
            #expect(awarded.count == 3)
            var byUser: [String: PointsAwarded] = [:]
            for message in awarded {
                let event = try EventEnvelope.decode(message)
                #expect(event.type == "points.awarded")
                let data = try event.decodeData(PointsAwarded.self)
                #expect(message.keyString == data.userId.uuidString.lowercased())
                byUser[message.keyString ?? ""] = data
                let fields = try JSONSerialization.jsonObject(with: event.data) as? [String: Any] ?? [:]
                #expect(Set(fields.keys) == ["user_id", "delta", "balance", "source_event_id"])
            }
            #expect(byUser[alice.uuidString.lowercased()] == PointsAwarded(userId: alice, delta: 600, balance: 600, sourceEventId: first.eventID))
            #expect(byUser[bob.uuidString.lowercased()]?.delta == 10)

            // Spending: idempotent, newest first in the history, never below zero.
            let token = service.token(alice)
            let bought = try await client.send(.post, "/api/v1/rewards/\(Self.coffee)/redeem", token: token, headers: ["Idempotency-Key": "coffee-1"])
            #expect(bought.status == 201)
            let again = try await client.send(.post, "/api/v1/rewards/\(Self.coffee)/redeem", token: token, headers: ["Idempotency-Key": "coffee-1"])
            #expect(again.status == 201 && again.body == bought.body)
            #expect(try await client.send(.get, "/api/v1/points", token: token).decode(PointsJSON.self) == PointsJSON(userId: alice, balance: 100, lifetime: 600))
            let more = try await client.send(.post, "/api/v1/rewards/\(Self.coffee)/redeem", token: token, headers: ["Idempotency-Key": "coffee-2"])
            #expect(more.status == 422)
            #expect(more.errorCode == "insufficient_points")
            let after = try await client.send(.get, "/api/v1/points/history", token: token)
            let items = try after.decode(HistoryPage.self).items
            #expect(items.map(\.delta) == [-500, 600])
            #expect(items.first?.reason == "redemption" && items.first?.sourceEventId == nil)
            #expect(((after.json["items"] as? [[String: Any]])?.first?["source_event_id"]) is NSNull)
        }
    }

    @Test("history pages never repeat or skip, newest first")
    func historyPagination() async throws {
        try await withPointsService { service in
            let client = service.client()
            defer { Task { await client.close() } }
            let user = UUID()
            let awarder = PointsAwarder(pool: service.pool, unit: 10)
            var expected: [UUID] = []
            for index in 1...23 {
                let event = try transactionEvent(from: user, to: UUID(), amount: index * 10)
                try await awarder.handle(event)
                expected.append(event.eventID)
            }
            var seen: [UUID] = []
            var cursor: String?
            repeat {
                let page = try await client.send(.get, "/api/v1/points/history?limit=10" + (cursor.map { "&cursor=\($0)" } ?? ""), token: service.token(user)).decode(HistoryPage.self)
                seen += page.items.compactMap(\.sourceEventId)
                cursor = page.nextCursor
                // A new award between pages lands on top and does not disturb the pages still to come.
                try await awarder.handle(try transactionEvent(from: user, to: UUID(), amount: 1000))
            } while cursor != nil
            #expect(seen == expected.reversed())
            #expect(try await client.send(.get, "/api/v1/points", token: service.token(user)).decode(PointsJSON.self).balance == (1...23).reduce(0, +) + 300)
        }
    }

    @Test("redemptions: concurrent retries of one key redeem once; concurrent redemptions never overdraw")
    func concurrentRedemptions() async throws {
        try await withPointsService { service in
            let user = UUID()
            let token = service.token(user)
            try await PointsAwarder(pool: service.pool, unit: 100).handle(transactionEvent(from: user, to: UUID(), amount: 300_000))

            // Eight connections send the same key at once; each retries while the first is in progress.
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let client = ServiceClient(port: service.port)
                        defer { Task { await client.close() } }
                        while true {
                            let reply = try await client.send(.post, "/api/v1/rewards/\(Self.coffee)/redeem", token: token, headers: ["Idempotency-Key": "same"])
                            guard reply.status == 409 && reply.errorCode == "idempotency_in_progress" else { return reply }
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == 201 && $0.body == replies[0].body })
            #expect(try await count("SELECT count(*)::bigint FROM redemptions", on: service.pool) == 1)

            // 2500 points left: of ten concurrent 1000-point redemptions exactly two succeed.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let client = ServiceClient(port: service.port)
                        defer { Task { await client.close() } }
                        return try await client.send(.post, "/api/v1/rewards/\(Self.delivery)/redeem", token: token, headers: ["Idempotency-Key": "delivery-\(index)"]).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.sorted() == [201, 201] + Array(repeating: 422, count: 8))
            let client = service.client()
            #expect(try await client.send(.get, "/api/v1/points", token: token).decode(PointsJSON.self) == PointsJSON(userId: user, balance: 500, lifetime: 3000))
            await client.close()
            let ledger = try await count("SELECT sum(delta)::bigint FROM points_ledger WHERE user_id = \(user)", on: service.pool)
            #expect(ledger == 500)
        }
    }

    @Test("configuration: every problem is reported at once")
    func configuration() {
        do {
            _ = try PointsConfiguration(environment: ["POINTS_UNIT": "0"])
            Issue.record("an empty environment must be refused")
        } catch {
            let text = "\(error)"
            for expected in ["PORT", "JWT_SECRET_FILE", "DATABASE_HOST", "KAFKA_BROKERS", "KAFKA_CONSUMER_GROUP", "POINTS_UNIT"] {
                #expect(text.contains(expected), "\(expected) missing from: \(text)")
            }
        }
    }
}
