import FinancialService
import Foundation
import HTTPTypes
import ServiceKit
import ServiceTesting
import SwapPostgres
import Testing

@Suite("Financial service API", .serialized, .timeLimit(.minutes(10)))
struct FinancialAPITests {
    @Test("every user has a wallet from sign-up on: the trigger creates it, existing users are backfilled, currency from CURRENCY")
    func walletsExistFromSignup() async throws {
        var early = UUID()
        try await withFinancialService(settings: ["CURRENCY": "EUR"], prepare: { pool in
            // A user who signed up before the financial service ever ran.
            try await Migrator(pool: pool, logger: quietLogger).migrate(AuthSchema.migrations)
            early = try await insertUser("early@example.com", on: pool)
        }) { service in
            let client = service.client()
            defer { Task { await client.close() } }

            let backfilled = try await client.send(.get, "/api/v1/wallet", token: service.token(early))
            #expect(backfilled.status == 200)
            let wallet = try backfilled.decode(WalletJSON.self)
            #expect(wallet.userId == early && wallet.balance == 0 && wallet.currency == "EUR")

            // Signing up inside a transaction that rolls back leaves no wallet behind; a committed one has it at once.
            let rolledBack = try? await service.pool.withTransaction { connection -> UUID in
                let rows = try await connection.query("INSERT INTO auth.users (email, encrypted_password) VALUES ('gone@example.com', 'x') RETURNING id")
                let id = try rows[0].decode(UUID.self, column: 0)
                let wallets = try await connection.query("SELECT count(*)::bigint FROM wallets WHERE user_id = \(id)")
                #expect(try wallets[0].decode(Int.self, column: 0) == 1, "the wallet is created in the sign-up's own transaction")
                throw TestFailure("roll back")
            }
            #expect(rolledBack == nil)
            let orphans = try await service.pool.query("SELECT count(*)::bigint FROM wallets WHERE user_id NOT IN (SELECT id FROM auth.users)")
            #expect(try orphans[0].decode(Int.self, column: 0) == 0)

            let user = try await service.createUser()
            let fresh = try await client.send(.get, "/api/v1/wallet", token: service.token(user))
            #expect(fresh.status == 200)
            let json = fresh.json
            #expect(Set(json.keys) == ["user_id", "balance", "currency", "updated_at"])
            #expect(json["user_id"] as? String == user.uuidString.lowercased())
            #expect(json["balance"] as? Int == 0)
            #expect(json["currency"] as? String == "EUR")
            #expect(RFC3339.date(from: json["updated_at"] as? String ?? "") != nil)

            // Deleting the user deletes the wallet.
            try await service.pool.execute("DELETE FROM auth.users WHERE id = \(user)")
            let deleted = try await client.send(.get, "/api/v1/wallet", token: service.token(user))
            #expect(deleted.status == 404)
            #expect(deleted.errorCode == "not_found")
        }
    }

    @Test("the API needs a valid access token; errors carry the request id")
    func authorization() async throws {
        try await withFinancialService { service in
            let client = service.client()
            defer { Task { await client.close() } }
            let user = try await service.createUser()
            for (method, path) in [("GET", "/api/v1/wallet"), ("POST", "/api/v1/wallet/deposits"), ("POST", "/api/v1/transfers"), ("GET", "/api/v1/transactions")] {
                let reply = try await client.send(.init(method)!, path, json: method == "POST" ? #"{"amount": 1}"# : nil, headers: ["X-Request-ID": "req-\(path.count)"])
                #expect(reply.status == 401, "\(method) \(path)")
                #expect(reply.errorCode == "unauthorized")
                #expect(reply.requestID == "req-\(path.count)")
                #expect((reply.json["error"] as? [String: Any])?["request_id"] as? String == "req-\(path.count)")
            }
            let forged = AccessToken(secret: "another-secret").sign(.init(sub: user.uuidString, email: "x@example.com", iat: 0, exp: Int(Date().timeIntervalSince1970) + 600))
            #expect(try await client.send(.get, "/api/v1/wallet", token: forged).status == 401)
            // A valid token for a user that does not exist.
            let unknown = try await client.send(.get, "/api/v1/wallet", token: service.token(UUID()))
            #expect(unknown.status == 404)
        }
    }

    @Test("deposits: 201 with the transaction, amounts validated, Idempotency-Key optional and honoured")
    func deposits() async throws {
        try await withFinancialService { service in
            let client = service.client()
            defer { Task { await client.close() } }
            let user = try await service.createUser()
            let token = service.token(user)

            let first = try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: #"{"amount": 5000}"#, headers: ["Idempotency-Key": "dep-1"])
            #expect(first.status == 201)
            let transaction = try first.decode(TransactionReply.self).transaction
            #expect(transaction.kind == "deposit" && transaction.fromUserId == nil && transaction.toUserId == user)
            #expect(transaction.amount == 5000 && transaction.status == "completed" && transaction.note == nil)
            let fields = first.json["transaction"] as? [String: Any] ?? [:]
            #expect(Set(fields.keys) == ["id", "kind", "from_user_id", "to_user_id", "amount", "status", "note", "created_at"])
            #expect(fields["from_user_id"] is NSNull && fields["note"] is NSNull)

            // The same key and body: the first response again, no second deposit.
            let replay = try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: #"{ "amount" : 5000 }"#, headers: ["Idempotency-Key": "dep-1"])
            #expect(replay.status == 201)
            #expect(replay.body == first.body)
            // The same key with another body.
            let reused = try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: #"{"amount": 6000}"#, headers: ["Idempotency-Key": "dep-1"])
            #expect(reused.status == 409)
            #expect(reused.errorCode == "idempotency_key_reused")
            // Keys are per user: another user's identical key is independent.
            let other = try await service.createUser()
            let otherDeposit = try await client.send(.post, "/api/v1/wallet/deposits", token: service.token(other), json: #"{"amount": 5000}"#, headers: ["Idempotency-Key": "dep-1"])
            #expect(otherDeposit.status == 201)
            #expect(try otherDeposit.decode(TransactionReply.self).transaction.id != transaction.id)

            // Without a key every request is a new deposit.
            for _ in 0..<2 {
                #expect(try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: #"{"amount": 250}"#).status == 201)
            }
            #expect(try await client.send(.get, "/api/v1/wallet", token: token).decode(WalletJSON.self).balance == 5500)

            let invalid = [#"{"amount": 0}"#, #"{"amount": -5}"#, #"{"amount": 100000001}"#, #"{"amount": 1.5}"#, #"{"amount": "100"}"#,
                           #"{"amount": null}"#, #"{}"#, #"[]"#, "not json", #"{"amount": 1e40}"#]
            for body in invalid {
                let reply = try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: body, headers: ["Idempotency-Key": "bad-\(body.hashValue)"])
                #expect(reply.status == 400, "\(body)")
                #expect(reply.errorCode != nil)
            }
            #expect(try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: #"{"amount": 100000000}"#).status == 201)
            let longKey = try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: #"{"amount": 1}"#, headers: ["Idempotency-Key": String(repeating: "k", count: 256)])
            #expect(longKey.status == 400)
            let textBody = try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: nil, headers: ["Content-Type": "text/plain"])
            #expect(textBody.status == 415)
            #expect(try await client.send(.get, "/api/v1/wallet", token: token).decode(WalletJSON.self).balance == 100_005_500)
        }
    }

    @Test("transfers: key required, self 422, unknown user 404, insufficient funds 422 (stored), held above the limit, rate limit 429")
    func transferRules() async throws {
        try await withFinancialService(settings: ["FRAUD_HOLD_ABOVE": "10000", "FRAUD_MAX_PER_MINUTE": "4"]) { service in
            let client = service.client()
            defer { Task { await client.close() } }
            let alice = try await service.createUser()
            let bob = try await service.createUser()
            let token = service.token(alice)
            func transfer(_ body: String, key: String?) async throws -> Reply {
                try await client.send(.post, "/api/v1/transfers", token: token, json: body, headers: key.map { ["Idempotency-Key": $0] } ?? [:])
            }
            func balance(_ user: UUID) async throws -> Int {
                try await client.send(.get, "/api/v1/wallet", token: service.token(user)).decode(WalletJSON.self).balance
            }
            let toBob = { (amount: Int) in json(["to_user_id": bob.uuidString.lowercased(), "amount": amount]) }

            let noKey = try await transfer(toBob(100), key: nil)
            #expect(noKey.status == 400)
            #expect(noKey.errorCode == "idempotency_key_required")

            // Beyond the balance: 422, stored: the same key still answers 422 after a deposit.
            let poor = try await transfer(toBob(100), key: "t-poor")
            #expect(poor.status == 422)
            #expect(poor.errorCode == "insufficient_funds")
            #expect(try await client.send(.post, "/api/v1/wallet/deposits", token: token, json: #"{"amount": 50000}"#).status == 201)
            let poorAgain = try await transfer(toBob(100), key: "t-poor")
            #expect(poorAgain.status == 422)
            #expect(poorAgain.errorCode == "insufficient_funds")

            let toSelf = try await transfer(json(["to_user_id": alice.uuidString, "amount": 10]), key: "t-self")
            #expect(toSelf.status == 422)
            let unknown = try await transfer(json(["to_user_id": UUID().uuidString, "amount": 10]), key: "t-unknown")
            #expect(unknown.status == 404)
            for (index, body) in [json(["to_user_id": "bob", "amount": 10]), json(["amount": 10]), json(["to_user_id": bob.uuidString]),
                                  json(["to_user_id": bob.uuidString, "amount": 0]), json(["to_user_id": bob.uuidString, "amount": 100_000_001]),
                                  json(["to_user_id": bob.uuidString, "amount": 5, "note": String(repeating: "n", count: 501)]),
                                  json(["to_user_id": bob.uuidString, "amount": 5, "note": 7])].enumerated() {
                let reply = try await transfer(body, key: "t-bad-\(index)")
                #expect(reply.status == 400, "\(body)")
            }
            #expect(try await balance(alice) == 50000)
            #expect(try await balance(bob) == 0)

            let sent = try await transfer(json(["to_user_id": bob.uuidString, "amount": 1200, "note": "lunch 🍜"]), key: "t-ok")
            #expect(sent.status == 201)
            let transaction = try sent.decode(TransactionReply.self).transaction
            #expect(transaction.kind == "transfer" && transaction.fromUserId == alice && transaction.toUserId == bob)
            #expect(transaction.amount == 1200 && transaction.status == "completed" && transaction.note == "lunch 🍜")
            #expect(try await transfer(json(["to_user_id": bob.uuidString, "amount": 1200, "note": "lunch 🍜"]), key: "t-ok").body == sent.body)
            #expect(try await balance(alice) == 48800)
            #expect(try await balance(bob) == 1200)

            // Above the hold limit: recorded as held, no money moves.
            let held = try await transfer(toBob(10001), key: "t-held")
            #expect(held.status == 201)
            #expect(try held.decode(TransactionReply.self).transaction.status == "held")
            #expect(try await balance(alice) == 48800)
            #expect(try await balance(bob) == 1200)

            // Two transfers so far this minute (one completed, one held); two more are allowed, the fifth is 429.
            #expect(try await transfer(toBob(1), key: "t-3").status == 201)
            #expect(try await transfer(toBob(1), key: "t-4").status == 201)
            let limited = try await transfer(toBob(1), key: "t-5")
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // Bob is not limited by Alice's transfers.
            #expect(try await client.send(.post, "/api/v1/transfers", token: service.token(bob), json: json(["to_user_id": alice.uuidString, "amount": 1]), headers: ["Idempotency-Key": "b-1"]).status == 201)
            #expect(try await balance(alice) == 48799)
            #expect(try await balance(bob) == 1201)
        }
    }

    @Test("transactions: newest first, only the caller's, cursor pages never repeat or skip, bad limit or cursor is 400")
    func transactionsList() async throws {
        try await withFinancialService { service in
            let client = service.client()
            defer { Task { await client.close() } }
            let alice = try await service.createUser()
            let bob = try await service.createUser()
            let carol = try await service.createUser()
            #expect(try await client.send(.post, "/api/v1/wallet/deposits", token: service.token(alice), json: #"{"amount": 100000}"#).status == 201)
            #expect(try await client.send(.post, "/api/v1/wallet/deposits", token: service.token(carol), json: #"{"amount": 100000}"#).status == 201)
            var expected: [UUID] = []
            for index in 0..<7 {
                let (from, to) = index % 3 == 2 ? (bob, alice) : (alice, bob)
                if from == bob {
                    _ = try await client.send(.post, "/api/v1/wallet/deposits", token: service.token(bob), json: #"{"amount": 10}"#)
                }
                let reply = try await client.send(.post, "/api/v1/transfers", token: service.token(from), json: json(["to_user_id": to.uuidString, "amount": 10 + index]), headers: ["Idempotency-Key": "list-\(index)"])
                #expect(reply.status == 201)
                expected.append(try reply.decode(TransactionReply.self).transaction.id)
            }
            // Carol's own activity never shows up in Alice's list.
            _ = try await client.send(.post, "/api/v1/transfers", token: service.token(carol), json: json(["to_user_id": bob.uuidString, "amount": 5]), headers: ["Idempotency-Key": "carol"])

            let all = try await client.send(.get, "/api/v1/transactions?limit=100", token: service.token(alice)).decode(TransactionPage.self)
            #expect(all.nextCursor == nil)
            #expect(all.items.count == 8)
            #expect(Array(all.items.map(\.id).prefix(7)) == expected.reversed(), "newest first")
            #expect(all.items.last?.kind == "deposit")
            #expect(all.items.allSatisfy { $0.fromUserId == alice || $0.toUserId == alice })

            // Pages of 3, with new transactions arriving between pages: no repeats, no gaps among the older ones.
            var seen: [UUID] = []
            var cursor: String?
            var pages = 0
            repeat {
                let path = "/api/v1/transactions?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, path, token: service.token(alice))
                #expect(page.status == 200)
                #expect(page.json.keys.contains("next_cursor"))
                let decoded = try page.decode(TransactionPage.self)
                seen += decoded.items.map(\.id)
                cursor = decoded.nextCursor
                pages += 1
                _ = try await client.send(.post, "/api/v1/transfers", token: service.token(alice), json: json(["to_user_id": bob.uuidString, "amount": 1]), headers: ["Idempotency-Key": "late-\(pages)"])
            } while cursor != nil && pages < 10
            #expect(seen == all.items.map(\.id))

            let carolsView = try await client.send(.get, "/api/v1/transactions", token: service.token(carol)).decode(TransactionPage.self)
            #expect(carolsView.items.count == 2)
            #expect(Set(carolsView.items.map(\.id)).isDisjoint(with: expected))

            for query in ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor", "cursor=\(Base64URL.encode(Data("{\"x\":1}".utf8)))"] {
                let reply = try await client.send(.get, "/api/v1/transactions?\(query)", token: service.token(alice))
                #expect(reply.status == 400, "\(query)")
            }
            let defaultPage = try await client.send(.get, "/api/v1/transactions", token: service.token(alice)).decode(TransactionPage.self)
            #expect(defaultPage.items.count == 11)
        }
    }

    @Test("health, readiness with each dependency, and metrics")
    func healthAndMetrics() async throws {
        try await withFinancialService { service in
            let client = service.client()
            defer { Task { await client.close() } }
            #expect(try await client.send(.get, "/health").json["status"] as? String == "ok")
            let ready = try await client.send(.get, "/ready")
            #expect(ready.status == 200)
            #expect(ready.json["checks"] as? [String: String] == ["postgres": "ok", "kafka": "ok"])
            _ = try await client.send(.get, "/api/v1/wallet", token: service.token(try await service.createUser()))
            let metrics = String(decoding: try await client.send(.get, "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("http_requests_total"))
            #expect(metrics.contains("route=\"/api/v1/wallet\""))
            // The database pool's use, read at the scrape (DATABASE_POOL_SIZE is 12 in these tests).
            #expect(metricValue(metrics, ServiceMetrics.poolConnections, ["service": "financial", "pool": "postgres", "state": "max"]) == 12)
            #expect((metricValue(metrics, ServiceMetrics.poolConnections, ["service": "financial", "pool": "postgres", "state": "open"]) ?? 0) >= 1)
            #expect(metricValue(metrics, ServiceMetrics.poolWaiting, ["service": "financial", "pool": "postgres"]) != nil)
            #expect(try await client.send(.get, "/api/v1/nothing-here", token: service.token(UUID())).status == 404)
        }
    }

    @Test("configuration: every problem is reported at once; settings have their defaults")
    func configuration() throws {
        do {
            _ = try FinancialConfiguration(environment: ["CURRENCY": "usd", "FRAUD_MAX_PER_MINUTE": "0"])
            Issue.record("an empty environment must be refused")
        } catch let error as ConfigurationError {
            let text = error.description
            for expected in ["PORT", "JWT_SECRET_FILE", "DATABASE_HOST", "KAFKA_BROKERS", "CURRENCY", "FRAUD_MAX_PER_MINUTE"] {
                #expect(text.contains(expected), "\(expected) missing from: \(text)")
            }
        }
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("jwt-\(UUID().uuidString)")
        try Data("s3cret".utf8).write(to: secret)
        defer { try? FileManager.default.removeItem(at: secret) }
        let configuration = try FinancialConfiguration(environment: [
            "PORT": "3002", "JWT_SECRET_FILE": secret.path, "DATABASE_URL_FILE": secret.path, "KAFKA_BROKERS": "127.0.0.1:9092",
        ])
        #expect(configuration.currency == "USD")
        #expect(configuration.holdAbove == 1_000_000)
        #expect(configuration.maxTransfersPerMinute == 60)
        #expect(configuration.kafkaBrokers == ["127.0.0.1:9092"])
    }
}
