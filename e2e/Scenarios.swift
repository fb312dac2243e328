import Foundation

/// One end-to-end scenario.
struct Scenario: Sendable {
    var name: String
    var timeLimit: Duration = .seconds(120)
    var run: @Sendable (Stack) async throws -> Void
}

enum Scenarios {
    static let all: [Scenario] = [
        Scenario(name: "newcomer's journey", run: newcomersJourney),
        Scenario(name: "security: no token is 401 on every /api/ route", run: noTokenIs401),
        Scenario(name: "security: forged tokens are 401", run: forgedTokens),
        Scenario(name: "security: another user's conversation and listing are 404", run: foreignResources),
        Scenario(name: "security: HTTP redirects to HTTPS", run: httpRedirects),
        Scenario(name: "health: aggregated /health is 200 with every service ready", run: healthAllReady),
        Scenario(name: "bank invariant under concurrent idempotent transfers", timeLimit: .seconds(180), run: bankInvariant),
        Scenario(name: "faults: points service killed mid-stream awards every transfer once", timeLimit: .seconds(180), run: pointsKilled),
        Scenario(name: "faults: a killed realtime replica's client reconnects with last_event_id and misses nothing", timeLimit: .seconds(180), run: realtimeReplicaKilled),
        Scenario(name: "faults: health turns 503 naming a stopped service", timeLimit: .seconds(120), run: healthNamesStoppedService),
        Scenario(name: "security: the TLS endpoint refuses TLS 1.0 and 1.1", run: oldTLSRefused),
        Scenario(name: "faults: with the broker stopped transfers still succeed and their events arrive after it returns", timeLimit: .seconds(180), run: brokerStopped),
        Scenario(name: "faults: PostgreSQL restarted: services report not-ready, then recover without a restart of their own", timeLimit: .seconds(180), run: postgresRestarted),
        // Last: it spends this client's nginx rate-limit budget.
        Scenario(name: "security: nginx rate limiting answers 429 in the JSON error shape", run: nginxRateLimits),
    ]

    // MARK: a. newcomer's journey

    @Sendable static func newcomersJourney(_ stack: Stack) async throws {
        let alice = try await stack.signup("alice")
        let bob = try await stack.signup("bob")
        let me = try await stack.call(.GET, "/auth/v1/user", token: alice.token, status: 200)
        try expect(me["id"] as? String == alice.id, "GET /auth/v1/user: \(me)")

        try await stack.deposit(alice, 50_000)
        try expect(try await stack.balance(alice) == 50_000, "alice's balance after a 50000 deposit")

        // A listing, found nearby by the other user.
        let lat = 52.52 + Double.random(in: -0.01...0.01), lon = 13.405 + Double.random(in: -0.01...0.01)
        let created = try await stack.call(.POST, "/api/v1/listings", token: alice.token,
                                           json: ["title": "E2E bicycle", "lat": lat, "lon": lon, "category": "bikes"], status: 201)
        guard let listing = created["listing"] as? [String: Any], let listingID = listing["id"] as? String else { throw Failure("no listing in \(created)") }
        try expect(listing["owner_id"] as? String == alice.id, "listing owner_id \(listing["owner_id"] ?? "nil")")
        let nearby = try await stack.call(.GET, "/api/v1/listings/nearby?lat=\(lat)&lon=\(lon)&radius_m=500&limit=50", token: bob.token, status: 200)
        let items = nearby["items"] as? [[String: Any]] ?? []
        try expect(items.contains { $0["id"] as? String == listingID }, "nearby search did not find listing \(listingID) (\(items.count) items)")

        // Bob is connected; Alice opens a conversation about the listing and writes.
        let bobSocket = try await LiveSocket.connect(stack, token: bob.token)
        let aliceSocket = try await LiveSocket.connect(stack, token: alice.token)
        defer { Task { await bobSocket.close(); await aliceSocket.close() } }
        let opened = try await stack.call(.POST, "/api/v1/conversations", token: alice.token,
                                          json: ["participant_id": bob.id, "listing_id": listingID], status: 201)
        guard let conversationID = (opened["conversation"] as? [String: Any])?["id"] as? String else { throw Failure("no conversation in \(opened)") }
        let same = try await stack.call(.POST, "/api/v1/conversations", token: bob.token,
                                        json: ["participant_id": alice.id, "listing_id": listingID], status: 200)
        try expect((same["conversation"] as? [String: Any])?["id"] as? String == conversationID, "bob got another conversation: \(same)")

        let sent = try await stack.call(.POST, "/api/v1/conversations/\(conversationID)/messages", token: alice.token,
                                        json: ["body": "Is the bike still available?", "client_message_id": UUID().uuidString], status: 201)
        guard let messageID = (sent["message"] as? [String: Any])?["id"] as? String else { throw Failure("no message in \(sent)") }
        try await bobSocket.waitFor("message.created") { $0["id"] as? String == messageID }
        let reply = try await stack.call(.POST, "/api/v1/conversations/\(conversationID)/messages", token: bob.token,
                                         json: ["body": "Yes! 120 and it is yours.", "client_message_id": UUID().uuidString], status: 201)
        guard let replyID = (reply["message"] as? [String: Any])?["id"] as? String else { throw Failure("no message in \(reply)") }
        try await aliceSocket.waitFor("message.created") { $0["id"] as? String == replyID }
        try expect(bobSocket.events("message.created").allSatisfy { ($0["data"] as? [String: Any])?["id"] as? String != replyID },
                   "the sender got its own message.created")
        let history = try await stack.call(.GET, "/api/v1/conversations/\(conversationID)/messages", token: bob.token, status: 200)
        try expect((history["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == [messageID, replyID], "history: \(history)")

        // Pay: the cheapest reward decides the amount, so the points cover it.
        let rewards = try await stack.call(.GET, "/api/v1/rewards", token: alice.token, status: 200)
        let cheapest = (rewards["items"] as? [[String: Any]] ?? []).min { (($0["cost"] as? NSNumber)?.intValue ?? .max) < (($1["cost"] as? NSNumber)?.intValue ?? .max) }
        guard let reward = cheapest, let rewardID = reward["id"] as? String, let cost = (reward["cost"] as? NSNumber)?.intValue else {
            throw Failure("no rewards: \(rewards)")
        }
        let amount = max(12_000, cost * 100)
        try expect(amount <= 50_000, "the cheapest reward costs \(cost) points: more than this journey can earn")
        let transaction = try await stack.transfer(alice, to: bob, amount)
        try expect(transaction["status"] as? String == "completed", "transfer status \(transaction["status"] ?? "nil")")
        guard let transactionID = transaction["id"] as? String else { throw Failure("no transaction id") }
        try await aliceSocket.waitFor("transaction.completed") { $0["id"] as? String == transactionID }
        try await bobSocket.waitFor("transaction.completed") { $0["id"] as? String == transactionID }
        let awarded = try await aliceSocket.waitFor("points.awarded")
        let delta = ((awarded["data"] as? [String: Any])?["delta"] as? NSNumber)?.intValue
        try expect(delta == amount / 100, "points.awarded delta \(delta.map(String.init) ?? "nil"), expected \(amount / 100)")
        try expect(bobSocket.events("points.awarded").isEmpty, "the receiver got points.awarded")
        try expect(try await stack.balance(alice) == 50_000 - amount, "alice's balance after paying \(amount)")
        try expect(try await stack.balance(bob) == amount, "bob's balance after being paid \(amount)")
        try expect(try await stack.points(alice) == amount / 100, "alice's points")

        let key = UUID().uuidString
        let redeemed = try await stack.call(.POST, "/api/v1/rewards/\(rewardID)/redeem", token: alice.token, headers: [("Idempotency-Key", key)], status: 201)
        try expect((redeemed["redemption"] as? [String: Any])?["reward_id"] as? String == rewardID, "redemption: \(redeemed)")
        try expect(try await stack.points(alice) == amount / 100 - cost, "alice's points after redeeming \(cost)")
    }

    // MARK: b. security

    static let protectedRoutes: [(HTTPMethodName, String)] = [
        (.GET, "/api/v1/wallet"), (.POST, "/api/v1/wallet/deposits"), (.POST, "/api/v1/transfers"), (.GET, "/api/v1/transactions"),
        (.GET, "/api/v1/points"), (.GET, "/api/v1/points/history"), (.GET, "/api/v1/rewards"),
        (.POST, "/api/v1/rewards/\(UUID().uuidString)/redeem"),
        (.GET, "/api/v1/conversations"), (.POST, "/api/v1/conversations"),
        (.GET, "/api/v1/conversations/\(UUID().uuidString)/messages"), (.POST, "/api/v1/conversations/\(UUID().uuidString)/messages"),
        (.POST, "/api/v1/conversations/\(UUID().uuidString)/read"),
        (.POST, "/api/v1/listings"), (.GET, "/api/v1/listings/\(UUID().uuidString)"), (.DELETE, "/api/v1/listings/\(UUID().uuidString)"),
        (.GET, "/api/v1/listings/nearby?lat=1&lon=1&radius_m=100"), (.GET, "/api/v1/tiles/1/0/0.mvt"),
        (.GET, "/api/v1/presence/\(UUID().uuidString)"),
    ]

    @Sendable static func noTokenIs401(_ stack: Stack) async throws {
        var problems: [String] = []
        for (method, path) in protectedRoutes {
            let reply = try await stack.send(method.nio, path, json: method == .POST ? [:] : nil)
            if reply.status != 401 { problems.append("\(method) \(path) -> \(reply.status)") }
            else if (reply.json["error"] as? [String: Any])?["code"] == nil { problems.append("\(method) \(path): 401 without the error shape") }
        }
        try expect(problems.isEmpty, problems.joined(separator: "; "))
    }

    @Sendable static func forgedTokens(_ stack: Stack) async throws {
        let user = try await stack.signup("mallory")
        try await stack.call(.GET, "/api/v1/wallet", token: user.token, status: 200)
        let parts = user.token.split(separator: ".").map(String.init)
        try expect(parts.count == 3, "the access token is not a JWT")
        func b64(_ object: [String: Any]) throws -> String {
            try JSONSerialization.data(withJSONObject: object).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let now = Int(Date().timeIntervalSince1970)
        let claims: [String: Any] = ["sub": UUID().uuidString.lowercased(), "email": "x@e2e.test", "role": "authenticated", "aud": "authenticated", "iat": now, "exp": now + 3600]
        let forged = [
            "\(parts[0]).\(try b64(claims)).\(parts[2])",                       // someone else's claims, old signature
            "\(try b64(["alg": "none", "typ": "JWT"])).\(try b64(claims)).",    // alg none
            "\(parts[0]).\(parts[1]).\(String(parts[2].reversed()))",           // broken signature
            "not-a-jwt",
        ]
        for token in forged {
            for path in ["/api/v1/wallet", "/api/v1/conversations", "/api/v1/points", "/auth/v1/user"] {
                let reply = try await stack.send(.GET, path, token: token)
                try expect(reply.status == 401, "forged token \(token.prefix(24))… on \(path) -> \(reply.status)")
            }
        }
    }

    @Sendable static func foreignResources(_ stack: Stack) async throws {
        let a = try await stack.signup("owner"), b = try await stack.signup("peer"), eve = try await stack.signup("eve")
        let opened = try await stack.call(.POST, "/api/v1/conversations", token: a.token, json: ["participant_id": b.id], status: 201)
        guard let id = (opened["conversation"] as? [String: Any])?["id"] as? String else { throw Failure("no conversation in \(opened)") }
        try await stack.call(.GET, "/api/v1/conversations/\(id)/messages", token: eve.token, status: 404)
        try await stack.call(.POST, "/api/v1/conversations/\(id)/messages", token: eve.token,
                             json: ["body": "hi", "client_message_id": UUID().uuidString], status: 404)
        let listed = try await stack.call(.GET, "/api/v1/conversations", token: eve.token, status: 200)
        try expect((listed["items"] as? [Any])?.isEmpty == true, "eve lists conversations: \(listed)")
        try await stack.call(.GET, "/api/v1/conversations/\(id)/messages", token: b.token, status: 200)
        let said = try await stack.call(.POST, "/api/v1/conversations/\(id)/messages", token: a.token,
                                        json: ["body": "hello", "client_message_id": UUID().uuidString], status: 201)
        let messageID = (said["message"] as? [String: Any])?["id"] as? String ?? ""
        try await stack.call(.POST, "/api/v1/conversations/\(id)/read", token: eve.token, json: ["up_to_message_id": messageID], status: 404)
        // Listings are public to read, but only the owner may delete one.
        let created = try await stack.call(.POST, "/api/v1/listings", token: a.token, json: ["title": "Bike", "lat": 48.85, "lon": 2.35], status: 201)
        guard let listing = (created["listing"] as? [String: Any])?["id"] as? String else { throw Failure("no listing in \(created)") }
        try await stack.call(.DELETE, "/api/v1/listings/\(listing)", token: eve.token, status: 404)
        try await stack.call(.GET, "/api/v1/listings/\(listing)", token: eve.token, status: 200)
        try await stack.call(.DELETE, "/api/v1/listings/\(listing)", token: a.token, status: 204)
        try await stack.call(.GET, "/api/v1/listings/\(listing)", token: eve.token, status: 404)
    }

    @Sendable static func httpRedirects(_ stack: Stack) async throws {
        guard let http = stack.httpURL else { throw Failure("no http URL in \(stack.stateFile)") }
        let reply = try await stack.send(.GET, "/api/v1/wallet", base: http, plain: true)
        try expect(reply.status == 301, "GET \(http)/api/v1/wallet -> \(reply.status), expected 301")
        let location = reply.headers.first(name: "Location") ?? ""
        try expect(location.hasPrefix("https://") && location.hasSuffix("/api/v1/wallet"), "Location: \(location)")
    }

    @Sendable static func healthAllReady(_ stack: Stack) async throws {
        let health = try await stack.call(.GET, "/health", status: 200)
        try expect(health["status"] as? String == "ok", "status: \(health)")
        let services = health["services"] as? [String: Any] ?? [:]
        let expected = ["financial", "messages", "map", "points", "realtime"]
        for name in expected {
            try expect(services[name] as? String == "ready", "\(name) is \(services[name] ?? "missing") in \(services)")
        }
    }

    // MARK: c. bank invariant

    @Sendable static func bankInvariant(_ stack: Stack) async throws {
        var users: [User] = []
        for index in 0..<10 { users.append(try await stack.signup("bank\(index)")) }
        let deposit = 10_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for user in users { group.addTask { try await stack.deposit(user, deposit) } }
            try await group.waitForAll()
        }
        let pool = users
        // 200 transfers, each sent twice with the same key; a repeat returns the first answer.
        let outcomes = try await withThrowingTaskGroup(of: (from: Int, to: Int, amount: Int, completed: Bool).self) { group in
            for _ in 0..<200 {
                let from = Int.random(in: 0..<pool.count)
                var to = Int.random(in: 0..<pool.count)
                while to == from { to = Int.random(in: 0..<pool.count) }
                let amount = Int.random(in: 1...3_000)
                group.addTask {
                    let key = UUID().uuidString
                    let body: [String: Any] = ["to_user_id": pool[to].id, "amount": amount]
                    // 429 (nginx's or the gateway's rate limit) and 409 in progress are not stored: send again.
                    let first = try await stack.sendPatiently(.POST, "/api/v1/transfers", token: pool[from].token, json: body, headers: [("Idempotency-Key", key)])
                    let second = try await stack.sendPatiently(.POST, "/api/v1/transfers", token: pool[from].token, json: body, headers: [("Idempotency-Key", key)])
                    try expect(first.status == 201 || first.status == 422, "transfer -> \(first.status) \(first.text.prefix(200))")
                    try expect(second.status == first.status, "retry with the same key -> \(second.status), first was \(first.status)")
                    if first.status == 201 {
                        let a = (first.json["transaction"] as? [String: Any])?["id"] as? String
                        let b = (second.json["transaction"] as? [String: Any])?["id"] as? String
                        try expect(a != nil && a == b, "retry returned transaction \(b ?? "nil"), first \(a ?? "nil")")
                    }
                    return (from, to, amount, first.status == 201)
                }
            }
            var all: [(from: Int, to: Int, amount: Int, completed: Bool)] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        var expected = Array(repeating: deposit, count: users.count)
        for outcome in outcomes where outcome.completed {
            expected[outcome.from] -= outcome.amount
            expected[outcome.to] += outcome.amount
        }
        var balances: [Int] = []
        for user in users { balances.append(try await stack.balance(user)) }
        try expect(balances.allSatisfy { $0 >= 0 }, "negative balance: \(balances)")
        try expect(balances.reduce(0, +) == deposit * users.count, "sum of balances \(balances.reduce(0, +)) != deposits \(deposit * users.count)")
        try expect(balances == expected, "balances \(balances) != expected from the answers \(expected)")
        let completed = outcomes.filter(\.completed).count
        try expect(completed > 50, "only \(completed) of 200 transfers completed")
    }

    // MARK: d. faults

    @Sendable static func pointsKilled(_ stack: Stack) async throws {
        let sender = try await stack.signup("pointsender"), receiver = try await stack.signup("pointreceiver")
        try await stack.deposit(sender, 100_000)
        let socket = try await LiveSocket.connect(stack, token: sender.token)
        defer { Task { await socket.close() } }
        let before = try stack.component("points")
        guard let pid = before.pid else { throw Failure("points has no pid in state.json") }
        var expectedPoints = 0
        var transactionIDs: [String] = []
        for index in 0..<20 {
            if index == 6 { kill(pid, SIGKILL) }
            let amount = 100 * Int.random(in: 1...5)
            let transaction = try await stack.transfer(sender, to: receiver, amount)
            transactionIDs.append(transaction["id"] as? String ?? "")
            expectedPoints += amount / 100
            try await Task.sleep(for: .milliseconds(100))
        }
        let restarted = try await eventually(timeout: .seconds(60)) {
            let now = try stack.component("points")
            return now.restarts > before.restarts && now.status == "ready"
        }
        let pointsState = try stack.component("points")
        try expect(restarted, "the harness did not restart points (state: \(pointsState))")
        let arrived = try await eventually(timeout: .seconds(60)) {
            let reply = try await stack.send(.GET, "/api/v1/points", token: sender.token)
            return reply.status == 200 && (reply.json["balance"] as? NSNumber)?.intValue == expectedPoints
        }
        let balance = try await stack.points(sender)
        try expect(arrived, "points balance \(balance), expected \(expectedPoints) (awarded once per transfer)")
        // Each award exactly once, live on the socket too.
        // A batch the killed process had claimed is taken over by its successor as soon as it runs
        // (the dead relay's liveness lock went with its database session).
        _ = await eventually(timeout: .seconds(100)) { socket.events("points.awarded").count >= 20 }
        let sources = socket.events("points.awarded").compactMap { ($0["data"] as? [String: Any])?["source_event_id"] as? String }
        try expect(Set(sources).count == sources.count, "a points.awarded arrived twice: \(sources.count) frames, \(Set(sources).count) distinct")
        try expect(sources.count == 20, "\(sources.count) points.awarded frames for 20 transfers")
        try await Task.sleep(for: .seconds(2))
        try expect(try await stack.points(sender) == expectedPoints, "points changed after settling: awarded twice?")
    }

    @Sendable static func realtimeReplicaKilled(_ stack: Stack) async throws {
        let payer = try await stack.signup("payer"), payee = try await stack.signup("payee")
        try await stack.deposit(payer, 10_000)
        let socket = try await LiveSocket.connect(stack, token: payee.token)
        let first = try await stack.transfer(payer, to: payee, 10)
        let seen = try await socket.waitFor("transaction.completed") { $0["id"] as? String == first["id"] as? String }
        guard let lastEventID = seen["id"] as? String else { throw Failure("frame without id: \(seen)") }
        // Which replica holds the socket is nginx's choice: kill realtime.1; if
        // the socket survives, it is on realtime.2: kill that once .1 is back.
        let one = try stack.component("realtime.1")
        guard let pid1 = one.pid else { throw Failure("realtime.1 has no pid") }
        kill(pid1, SIGKILL)
        var closed = await eventually(timeout: .seconds(3), every: .milliseconds(50)) { socket.isClosed }
        if !closed {
            let back = try await eventually(timeout: .seconds(60)) {
                let now = try stack.component("realtime.1")
                return now.restarts > one.restarts && now.status == "ready"
            }
            try expect(back, "realtime.1 was not restarted")
            guard let pid2 = try stack.component("realtime.2").pid else { throw Failure("realtime.2 has no pid") }
            kill(pid2, SIGKILL)
            closed = await eventually(timeout: .seconds(5), every: .milliseconds(50)) { socket.isClosed }
        }
        try expect(closed, "the socket stayed open although both replicas were killed in turn")
        // Events while disconnected. A second socket without last_event_id
        // sees them arrive, so they are in the payee's stream before the
        // client reconnects: from then on only a replay can deliver them.
        let witness = try await connectWithin(.seconds(30)) { try await LiveSocket.connect(stack, token: payee.token) }
        defer { Task { await witness.close() } }
        var missed: [String] = []
        for _ in 0..<3 { missed.append(try await stack.transfer(payer, to: payee, 10)["id"] as? String ?? "") }
        for id in missed { try await witness.waitFor("transaction.completed", timeout: .seconds(60)) { $0["id"] as? String == id } }
        let again = try await connectWithin(.seconds(30)) { try await LiveSocket.connect(stack, token: payee.token, lastEventID: lastEventID) }
        defer { Task { await again.close() } }
        let live = try await stack.transfer(payer, to: payee, 10)["id"] as? String ?? ""
        for id in missed + [live] { try await again.waitFor("transaction.completed") { $0["id"] as? String == id } }
        let ids = again.events("transaction.completed").compactMap { ($0["data"] as? [String: Any])?["id"] as? String }
        try expect(!ids.contains(first["id"] as? String ?? "-"), "the event before last_event_id was replayed")
        try expect(Set(ids).count == ids.count, "an event arrived twice: \(ids)")
        try expect(ids == missed + [live], "order or content after reconnect: \(ids), expected \(missed + [live])")
        _ = await eventually(timeout: .seconds(60)) { ((try? stack.component("realtime.1").status) == "ready") && ((try? stack.component("realtime.2").status) == "ready") }
    }

    @Sendable static func oldTLSRefused(_ stack: Stack) async throws {
        guard let url = URL(string: stack.baseURL), let host = url.host, let port = url.port else { throw Failure("base URL \(stack.baseURL)") }
        for version in ["-tls1", "-tls1_1"] {
            // SECLEVEL=0 lets this client offer the old versions, so a refusal is the server's.
            let (status, output) = try runOpenSSL(["s_client", version, "-cipher", "DEFAULT:@SECLEVEL=0", "-connect", "\(host):\(port)", "-servername", host, "-CAfile", stack.caFile])
            try expect(status != 0 && !output.contains("Cipher is ECDHE"), "openssl s_client \(version) was accepted: \(output.suffix(300))")
            try expect(!output.contains("no protocols available"), "this openssl cannot offer \(version) at all, so the check proves nothing: \(output.suffix(300))")
        }
        let (status, output) = try runOpenSSL(["s_client", "-tls1_2", "-connect", "\(host):\(port)", "-servername", host, "-CAfile", stack.caFile, "-verify_return_error"])
        try expect(status == 0 && output.contains("Verify return code: 0"), "TLS 1.2 with the CA file failed: \(output.suffix(300))")
    }

    /// Runs the openssl CLI with empty standard input (so s_client closes after the handshake).
    static func runOpenSSL(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-openssl-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    @Sendable static func nginxRateLimits(_ stack: Stack) async throws {
        let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
            for _ in 0..<400 { group.addTask { try await stack.send(.GET, "/health") } }
            var all: [Reply] = []
            for try await reply in group { all.append(reply) }
            return all
        }
        let limited = replies.filter { $0.status == 429 }
        try expect(!limited.isEmpty, "400 concurrent requests got no 429: \(Dictionary(grouping: replies, by: \.status).mapValues(\.count))")
        let error = limited[0].json["error"] as? [String: Any]
        try expect(error?["code"] as? String != nil && error?["request_id"] as? String != nil, "429 body is not the JSON error shape: \(limited[0].text.prefix(200))")
        try expect(limited[0].headers.first(name: "X-Request-ID") != nil, "429 without X-Request-ID")
        // The budget refills: a request a little later is served again.
        let recovered = try await eventually(timeout: .seconds(20), every: .milliseconds(500)) {
            (try await stack.send(.GET, "/health")).status != 429
        }
        try expect(recovered, "still rate limited after 20 s")
    }

    /// The outbox at work: money moves while Kafka is away, events follow it back.
    @Sendable static func brokerStopped(_ stack: Stack) async throws {
        let payer = try await stack.signup("brokerpayer"), payee = try await stack.signup("brokerpayee")
        try await stack.deposit(payer, 10_000)
        let socket = try await LiveSocket.connect(stack, token: payee.token)
        defer { Task { await socket.close() } }
        guard let pid = try stack.component("events").pid else { throw Failure("the broker has no pid in state.json") }
        kill(pid, SIGSTOP)
        var ids: [String] = []
        do {
            for _ in 0..<3 {
                let transaction = try await stack.transfer(payer, to: payee, 100)
                ids.append(transaction["id"] as? String ?? "")
            }
            try await Task.sleep(for: .seconds(5))
        } catch {
            kill(pid, SIGCONT)
            throw error
        }
        kill(pid, SIGCONT)
        try expect(try await stack.balance(payee) == 300, "the transfers made while the broker was stopped did not all move money")
        for id in ids {
            _ = try await socket.waitFor("transaction.completed", timeout: .seconds(90)) { $0["id"] as? String == id }
        }
        let delivered = socket.events("transaction.completed").compactMap { ($0["data"] as? [String: Any])?["id"] as? String }
        try expect(Set(delivered).count == delivered.count, "an event arrived twice: \(delivered)")
    }

    /// The database goes away under running services (`swapctl stop`, its fast
    /// shutdown) and comes back on the same port: readiness says so, requests
    /// get 503 rather than 500, and the pools, relays and consumers reconnect
    /// by themselves.
    @Sendable static func postgresRestarted(_ stack: Stack) async throws {
        let payer = try await stack.signup("pgpayer"), payee = try await stack.signup("pgpayee")
        try await stack.deposit(payer, 1_000)
        let pointsBefore = try await stack.points(payer)
        let socket = try await LiveSocket.connect(stack, token: payee.token)
        defer { Task { await socket.close() } }
        guard let database = try stack.components(kind: "postgres").first?.name else { throw Failure("no postgres component in state.json") }
        let services = try stack.components(kind: "service")
        let users = Set(services.filter { $0.dependencies.contains(database) && $0.name != "gateway" }.map(\.group))
        try expect(!users.isEmpty, "no service uses \(database)")

        try await stack.swapctl(["stop", database])
        var seen: [String: Any] = [:]
        do {
            let degraded = try await eventually(timeout: .seconds(30), every: .milliseconds(300)) {
                let reply = try await stack.send(.GET, "/health")
                seen = reply.json
                let named = (reply.json["services"] as? [String: Any]) ?? [:]
                return reply.status == 503 && users.allSatisfy { named[$0] as? String == "not_ready" }
            }
            try expect(degraded, "/health did not turn 503 naming \(users.sorted()) not_ready with \(database) stopped; last: \(seen)")
            let wallet = try await stack.send(.GET, "/api/v1/wallet", token: payer.token)
            let code = (wallet.json["error"] as? [String: Any])?["code"] as? String
            try expect(wallet.status == 503 && code == "unavailable", "GET /api/v1/wallet without a database: \(wallet.status) \(wallet.text.prefix(200))")
        } catch {
            try? await stack.swapctl(["start", database])
            throw error
        }
        try await stack.swapctl(["start", database])

        let healed = try await eventually(timeout: .seconds(60), every: .milliseconds(300)) {
            let reply = try await stack.send(.GET, "/health")
            seen = reply.json
            return reply.status == 200
        }
        try expect(healed, "/health did not return to 200 after \(database) came back; last: \(seen)")
        // Everything works again: money moves, the event is relayed and consumed.
        let transaction = try await stack.transfer(payer, to: payee, 100)
        try expect(try await stack.balance(payee) == 100, "the payee's balance after the transfer")
        try await socket.waitFor("transaction.completed", timeout: .seconds(60)) { $0["id"] as? String == transaction["id"] as? String }
        let awarded = try await eventually(timeout: .seconds(60), every: .milliseconds(500)) { try await stack.points(payer) > pointsBefore }
        try expect(awarded, "no points for the transfer made after the database came back")
        for service in services {
            let now = try stack.component(service.name)
            try expect(now.pid == service.pid && now.restarts == service.restarts,
                       "\(service.name) was restarted (pid \(service.pid ?? 0) -> \(now.pid ?? 0), restarts \(service.restarts) -> \(now.restarts))")
        }
    }

    @Sendable static func healthNamesStoppedService(_ stack: Stack) async throws {
        let target = try stack.component("map")
        guard let pid = target.pid else { throw Failure("map has no pid in state.json") }
        kill(pid, SIGSTOP)
        var seen: [String: Any] = [:]
        let degraded: Bool
        do {
            degraded = try await eventually(timeout: .seconds(45), every: .milliseconds(500)) {
                let reply = try await stack.send(.GET, "/health")
                seen = reply.json
                return reply.status == 503 && (reply.json["services"] as? [String: Any])?["map"] as? String == "not_ready"
            }
        } catch {
            kill(pid, SIGCONT)
            throw error
        }
        kill(pid, SIGCONT)
        try expect(degraded, "/health never turned 503 naming map while it was stopped; last: \(seen)")
        try expect(seen["status"] as? String == "degraded", "status: \(seen)")
        let healed = try await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
            (try await stack.send(.GET, "/health")).status == 200
        }
        try expect(healed, "/health did not return to 200 after SIGCONT")
    }
}

enum HTTPMethodName: String, CustomStringConvertible {
    case GET, POST, DELETE
    var description: String { rawValue }
}

import NIOHTTP1
extension HTTPMethodName {
    var nio: HTTPMethod {
        switch self {
        case .GET: .GET
        case .POST: .POST
        case .DELETE: .DELETE
        }
    }
}
