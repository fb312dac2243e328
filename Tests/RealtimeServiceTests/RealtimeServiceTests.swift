import Foundation
import HummingbirdWSClient
import NIOWebSocket
import ServiceKit
import ServiceTesting
import Testing

@testable import RealtimeService

/// Integration tests against real Redis and a real broker, with two
/// replicas sharing them (see ``RealtimeEnvironment``); events are produced
/// to the topics directly, in the envelope format the other services use.
@Suite(.serialized, .timeLimit(.minutes(10)), .realtimeEnvironment)
struct RealtimeServiceTests {
    let env: RealtimeEnvironment

    init() throws {
        env = try RealtimeEnvironment.shared
    }

    // MARK: Upgrade and authentication

    @Test func upgradeWithoutAValidTokenIs401JSONAndNoUpgrade() async throws {
        let user = UUID()
        let upgrade = [
            ("Connection", "Upgrade"), ("Upgrade", "websocket"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ]
        let expired = env.token(for: user, expiresIn: -60)
        let wrongSecret = AccessToken(secret: "another-secret").sign(.init(sub: user.uuidString.lowercased(), email: "x@example.com", iat: 0, exp: Int(Date().timeIntervalSince1970) + 600))
        for query in ["", "?token=", "?token=garbage", "?token=\(expired)", "?token=\(wrongSecret)"] {
            let response = try await rawHTTPExchange(port: env.replicaA.port, target: "/ws\(query)", headers: upgrade + [("X-Request-ID", "req-\(query.count)")])
            #expect(response.status == 401, "query \(query)")
            let error = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])["error"] as? [String: Any]
            #expect(error?["code"] as? String == "unauthorized")
            #expect(error?["request_id"] as? String == "req-\(query.count)")
            #expect(response.headers.contains { $0.0.lowercased() == "x-request-id" && $0.1 == "req-\(query.count)" })
        }
        // A real WebSocket client is refused too.
        await #expect(throws: (any Error).self) {
            _ = try await TestSocket.connect("\(env.replicaA.webSocketURL)?token=garbage")
        }
        // Without upgrade headers: the same 401; with a valid token it is 426.
        #expect(try await env.get(env.replicaB, "/ws").status == 401)
        #expect(try await env.get(env.replicaB, "/ws?token=\(env.token(for: user))").status == 426)
    }

    @Test func malformedLastEventIDIs400BeforeTheUpgrade() async throws {
        let token = env.token(for: UUID())
        for bad in ["abc", "1-", "-1", "1-2-3", "99999999999999999999999-0", "1.5-0"] {
            let response = try await rawHTTPExchange(port: env.replicaA.port, target: "/ws?token=\(token)&last_event_id=\(bad)", headers: [
                ("Connection", "Upgrade"), ("Upgrade", "websocket"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
            ])
            #expect(response.status == 400, "last_event_id \(bad)")
            let error = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])["error"] as? [String: Any]
            #expect(error?["code"] as? String == "invalid_last_event_id")
        }
    }

    @Test func pingGetsPong() async throws {
        let socket = try await TestSocket.connect("\(env.replicaA.webSocketURL)?token=\(env.token(for: UUID()))")
        try await socket.send(#"{"type":"ping"}"#)
        let frames = try await socket.waitForFrames(1, timeout: .seconds(10))
        #expect(frames.count == 1)
        #expect(frames.first?["type"] as? String == "pong")
        let closing = try await socket.close()
        #expect(closing?.closeCode == .normalClosure)
    }

    // MARK: Fan-out

    @Test func messageReachesEveryParticipantButTheSenderOnEitherReplica() async throws {
        let sender = UUID(), first = UUID(), second = UUID()
        // Replica A has no consumer: whatever its clients get was consumed by B.
        let senderSocket = try await connect(sender, to: env.replicaA)
        let firstSocket = try await connect(first, to: env.replicaA)
        let secondSocket = try await connect(second, to: env.replicaB)

        let message = Events.message(sender: sender, recipients: [sender, first, second], body: "is the bike still for sale?")
        try await env.produce(message.envelope)

        for socket in [firstSocket, secondSocket] {
            let frames = try await socket.waitForFrames(1)
            #expect(frames.count == 1)
            let frame = try #require(frames.first)
            #expect(frame["type"] as? String == "message.created")
            #expect(StreamID(frame["id"] as? String ?? "") != nil)
            #expect(RFC3339.date(from: frame["ts"] as? String ?? "") != nil)
            #expect(canonicalJSON(frame["data"] as? [String: Any]) == canonicalJSON(message.expectedData))
        }
        // A later event keyed by the same user (same partition, so consumed
        // after the first) is the sender's first frame: the message itself never came.
        let reply = Events.message(sender: first, recipients: [sender], body: "yes", key: sender)
        try await env.produce(reply.envelope)
        let senderFrames = try await senderSocket.waitForFrames(1)
        #expect(senderFrames.count == 1)
        #expect((senderFrames.first?["data"] as? [String: Any])?["body"] as? String == "yes")

        for socket in [senderSocket, firstSocket, secondSocket] { try await socket.close() }
    }

    @Test func transactionReachesBothPartiesAndADepositOnlyTheDepositor() async throws {
        let payer = UUID(), payee = UUID(), depositor = UUID()
        let payerSocket = try await connect(payer, to: env.replicaA)
        let payeeSocket = try await connect(payee, to: env.replicaB)
        let depositorSocket = try await connect(depositor, to: env.replicaA)

        let transfer = Events.transaction(from: payer, to: payee, amount: 2_500)
        let deposit = Events.transaction(from: nil, to: depositor, amount: 10_000)
        try await env.produce(transfer.envelope)
        try await env.produce(deposit.envelope)

        for socket in [payerSocket, payeeSocket] {
            let frame = try #require(try await socket.waitForFrames(1).first)
            #expect(frame["type"] as? String == "transaction.completed")
            #expect(canonicalJSON(frame["data"] as? [String: Any]) == canonicalJSON(transfer.expectedData))
        }
        let depositFrame = try #require(try await depositorSocket.waitForFrames(1).first)
        #expect((depositFrame["data"] as? [String: Any])?["kind"] as? String == "deposit")
        #expect(canonicalJSON(depositFrame["data"] as? [String: Any]) == canonicalJSON(deposit.expectedData))
        #expect(payerSocket.frames.count == 1 && payeeSocket.frames.count == 1)

        for socket in [payerSocket, payeeSocket, depositorSocket] { try await socket.close() }
    }

    @Test func pointsReachTheEarnerWithDeltaBalanceAndSource() async throws {
        let earner = UUID()
        let socket = try await connect(earner, to: env.replicaA)
        let award = Events.points(user: earner, delta: 25, balance: 125)
        try await env.produce(award.envelope)
        let frame = try #require(try await socket.waitForFrames(1).first)
        #expect(frame["type"] as? String == "points.awarded")
        let data = try #require(frame["data"] as? [String: Any])
        #expect(Set(data.keys) == ["delta", "balance", "source_event_id"])
        #expect(canonicalJSON(data) == canonicalJSON(award.expectedData))
        try await socket.close()
    }

    // MARK: Replay

    @Test func reconnectReplaysExactlyTheMissedEventsOnceAndInOrder() async throws {
        let user = UUID()
        let awards = (1...6).map { Events.points(user: user, delta: $0, balance: $0 * 10) }
        func deltas(_ frames: [[String: Any]]) -> [Int] {
            frames.compactMap { ($0["data"] as? [String: Any])?["delta"] as? Int }
        }

        let first = try await connect(user, to: env.replicaA)
        try await env.produce(awards[0].envelope)
        try await env.produce(awards[1].envelope)
        let seen = try await first.waitForFrames(2)
        #expect(deltas(seen) == [1, 2])
        let lastID = try #require(seen.last?["id"] as? String)
        try await first.close()

        // Missed while away: 3, 4, 3 again (a redelivery of the same event), 5.
        let observer = try await connect(user, to: env.replicaB)
        for award in [awards[2], awards[3], awards[2], awards[4]] { try await env.produce(award.envelope) }
        let observed = try await observer.waitForFrames(3)
        #expect(deltas(observed) == [3, 4, 5])

        let resumed = try await connect(user, to: env.replicaB, lastEventID: lastID)
        let replayed = try await resumed.waitForFrames(3)
        #expect(deltas(replayed) == [3, 4, 5])
        #expect(replayed.compactMap { $0["id"] as? String } == observed.compactMap { $0["id"] as? String })
        try await env.produce(awards[5].envelope)
        let all = try await resumed.waitForFrames(4)
        #expect(deltas(all) == [3, 4, 5, 6])
        let ids = all.compactMap { StreamID($0["id"] as? String ?? "") }
        #expect(ids == ids.sorted() && Set(ids).count == 4)
        #expect(ids.allSatisfy { $0 > StreamID(lastID)! })

        // An id older than anything kept replays everything kept, once, in order.
        let fromStart = try await connect(user, to: env.replicaA, lastEventID: "1-0")
        #expect(deltas(try await fromStart.waitForFrames(6)) == [1, 2, 3, 4, 5, 6])
        try await Task.sleep(for: .milliseconds(300))
        #expect(fromStart.frames.count == 6 && resumed.frames.count == 4 && observer.frames.count == 4)

        for socket in [observer, resumed, fromStart] { try await socket.close() }
    }

    // MARK: Presence

    @Test func presenceIsTrueWhileConnectedAndFalseAfterDisconnect() async throws {
        let user = UUID()
        #expect(try await env.isOnline(user, via: env.replicaB) == false)
        let first = try await connect(user, to: env.replicaA)
        let second = try await connect(user, to: env.replicaB)
        #expect(await eventually(timeout: .seconds(5)) { (try? await env.isOnline(user, via: env.replicaB)) == true })
        try await first.close()
        // Still online through the other replica's socket.
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await env.isOnline(user, via: env.replicaA) == true)
        try await second.close()
        #expect(await eventually(timeout: .seconds(5)) { (try? await env.isOnline(user, via: env.replicaA)) == false })

        // The endpoint needs a token and a well-formed id.
        let path = "/api/v1/presence/\(user.uuidString.lowercased())"
        #expect(try await env.get(env.replicaA, path).status == 401)
        let malformed = try await env.get(env.replicaA, "/api/v1/presence/not-a-uuid", token: env.token(for: user))
        #expect(malformed.status == 400)
    }

    // MARK: Backpressure

    @Test func clientThatNeverReadsIsDisconnectedOnceItsQueueIsFull() async throws {
        let user = UUID(), sender = UUID()
        let stalled = try await StalledClient.connect(port: env.replicaA.port, token: env.token(for: user))
        #expect(await eventually(timeout: .seconds(5)) { (try? await env.isOnline(user, via: env.replicaA)) == true })

        // About 5 MB of frames: more than the socket buffers, NIO's write
        // buffer and the 8-frame queue together hold.
        let body = String(repeating: "x", count: 64 * 1024)
        for _ in 0..<80 {
            try await env.produce(Events.message(sender: sender, recipients: [user], body: body, key: user).envelope)
        }
        #expect(await eventually(timeout: .seconds(60)) { (try? await env.isOnline(user, via: env.replicaA)) == false })
        let metrics = String(decoding: try await env.get(env.replicaA, "/metrics").body, as: UTF8.self)
        let disconnects = metrics.split(separator: "\n").first { $0.hasPrefix(#"swap_realtime_slow_client_disconnects_total{service="realtime-a"}"#) }
        #expect(disconnects.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0 >= 1)
        // The server cut the connection: once the client reads again it finds the end.
        #expect(await stalled.drainUntilClosed(timeout: .seconds(30)))
        await stalled.close()

        // The replica still serves everyone else.
        let other = try await connect(UUID(), to: env.replicaA)
        try await other.send(#"{"type":"ping"}"#)
        #expect(try await other.waitForFrames(1, timeout: .seconds(10)).first?["type"] as? String == "pong")
        try await other.close()
    }

    @Test func socketThatAnswersNothingIsClosedAfterTheIdleTimeout() async throws {
        let replica = try await env.startReplica(name: "realtime-idle", settings: ["IDLE_TIMEOUT": "2s"])
        let quiet = UUID(), lively = UUID()
        // Never reads, so never answers the server's pings.
        let silent = try await StalledClient.connect(port: replica.port, token: env.token(for: quiet))
        // Answers pings (any WebSocket client does while it reads).
        let answering = try await connect(lively, to: replica)
        #expect(await eventually(timeout: .seconds(5)) { (try? await env.isOnline(quiet, via: env.replicaA)) == true })
        let start = ContinuousClock.now
        #expect(await eventually(timeout: .seconds(10)) { (try? await env.isOnline(quiet, via: env.replicaA)) == false })
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(await silent.drainUntilClosed(timeout: .seconds(5)))
        await silent.close()
        // The client that answers pings stays connected well past the timeout.
        try await Task.sleep(for: .seconds(1))
        #expect(try await env.isOnline(lively, via: env.replicaA) == true)
        try await answering.close()
        await replica.stop()
    }

    // MARK: Shutdown

    @Test func gracefulShutdownClosesSocketsWithGoingAway() async throws {
        let replica = try await env.startReplica(name: "realtime-c")
        let user = UUID()
        let socket = try await connect(user, to: replica)
        #expect(await eventually(timeout: .seconds(5)) { (try? await env.isOnline(user, via: env.replicaA)) == true })
        async let stopped: Void = replica.stop()
        let close = try await socket.closed()
        await stopped
        #expect(close?.closeCode == .goingAway)
        #expect(try await env.isOnline(user, via: env.replicaA) == false)
    }

    // MARK: Helpers

    private func connect(_ user: UUID, to replica: Replica, lastEventID: String? = nil) async throws -> TestSocket {
        var url = "\(replica.webSocketURL)?token=\(env.token(for: user))"
        if let lastEventID { url += "&last_event_id=\(lastEventID)" }
        return try await TestSocket.connect(url)
    }
}

/// `value` as JSON with sorted keys, for comparing parsed frames with what was produced.
func canonicalJSON(_ value: Any?) -> String {
    guard let value, let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "<not JSON>" }
    return String(decoding: data, as: UTF8.self)
}

/// Events in the envelope format the other services produce, with the frame data each should become.
enum Events {
    struct Produced {
        var envelope: EventEnvelope
        var expectedData: [String: Any]
    }

    static func message(sender: UUID, recipients: [UUID], body: String, key: UUID? = nil) -> Produced {
        let message: [String: Any] = [
            "id": UUID().uuidString.lowercased(), "conversation_id": UUID().uuidString.lowercased(),
            "sender_id": sender.uuidString.lowercased(), "body": body, "client_message_id": NSNull(),
            "created_at": RFC3339.string(from: Date()),
        ]
        var data = message
        data["recipient_ids"] = recipients.map { $0.uuidString.lowercased() }
        return Produced(envelope: envelope("messages.created", key: key ?? sender, type: "message.created", data), expectedData: message)
    }

    static func transaction(from: UUID?, to: UUID, amount: Int) -> Produced {
        let data: [String: Any] = [
            "id": UUID().uuidString.lowercased(), "kind": from == nil ? "deposit" : "transfer",
            "from_user_id": from.map { $0.uuidString.lowercased() as Any } ?? NSNull(), "to_user_id": to.uuidString.lowercased(),
            "amount": amount, "status": "completed", "note": NSNull(), "created_at": RFC3339.string(from: Date()),
        ]
        return Produced(envelope: envelope("financial.transactions", key: from ?? to, type: "transaction.completed", data), expectedData: data)
    }

    static func points(user: UUID, delta: Int, balance: Int) -> Produced {
        let source = UUID().uuidString.lowercased()
        let data: [String: Any] = ["user_id": user.uuidString.lowercased(), "delta": delta, "balance": balance, "source_event_id": source]
        return Produced(
            envelope: envelope("points.awarded", key: user, type: "points.awarded", data),
            expectedData: ["delta": delta, "balance": balance, "source_event_id": source]
        )
    }

    private static func envelope(_ topic: String, key: UUID, type: String, _ data: [String: Any]) -> EventEnvelope {
        let json = (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])) ?? Data("{}".utf8)
        return EventEnvelope(topic: topic, key: key.uuidString.lowercased(), type: type, dataJSON: json)
    }
}
