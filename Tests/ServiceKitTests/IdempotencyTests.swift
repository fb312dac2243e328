import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import ServiceTesting
import SwapPostgres
import Testing

@Suite("Idempotency keys", .serialized, .timeLimit(.minutes(10)))
struct IdempotencyTests {
    struct AmountInput: Codable {
        var amount: Int
    }

    struct Receipt: Codable {
        var id: UUID
        var balance: Int
    }

    static let tokens = AccessToken(secret: "idempotency-test-secret")
    static let metrics = ServiceMetrics(service: "idempotency-test")

    static func token(for user: UUID) -> String {
        let now = Int(Date().timeIntervalSince1970)
        return tokens.sign(.init(sub: user.uuidString.lowercased(), email: "u@example.com", iat: now, exp: now + 3600))
    }

    /// POST /api/v1/deposits (key optional) and /api/v1/withdrawals (key
    /// required): the shape of the financial service's handlers. A deposit of
    /// 7 waits at `gate` inside its transaction.
    static func application(pool: PostgresPool, gate: Gate) -> some ApplicationProtocol {
        let store = IdempotencyStore(scope: "test")
        let router = ServiceRouter.make(metrics: metrics, checks: [])
        let api = router.group("/api/v1").add(middleware: AuthMiddleware(tokens: tokens))
        api.post("/deposits") { request, context in
            let user = try context.requireUser()
            let key = try IdempotencyStore.key(in: request, required: false)
            let input = try await request.decode(as: AmountInput.self, context: context)
            return try await store.run(
                key: key, user: user.id, request: IdempotentRequest(request, body: input), requestID: context.requestID, in: pool
            ) { connection in
                if input.amount == 7 { await gate.wait() }
                guard (1...1_000_000).contains(input.amount) else {
                    throw APIError.badRequest("amount must be 1...1000000", code: "invalid_amount")
                }
                let balance = try await connection.query("""
                    INSERT INTO balances (user_id, balance) VALUES (\(user.id), \(input.amount))
                    ON CONFLICT (user_id) DO UPDATE SET balance = balances.balance + EXCLUDED.balance
                    RETURNING balance
                    """)[0].decode(Int.self, column: 0)
                return try IdempotentResponse(status: .created, json: ["deposit": Receipt(id: UUID(), balance: balance)])
            }
        }
        api.post("/withdrawals") { request, context in
            let user = try context.requireUser()
            let key = try IdempotencyStore.key(in: request, required: true)
            let input = try await request.decode(as: AmountInput.self, context: context)
            return try await store.run(
                key: key, user: user.id, request: IdempotentRequest(request, body: input), requestID: context.requestID, in: pool
            ) { connection in
                // A change made before the refusal must not survive it.
                try await connection.execute("INSERT INTO attempts (user_id) VALUES (\(user.id))")
                let balance = try await connection.query("SELECT balance FROM balances WHERE user_id = \(user.id) FOR UPDATE")
                    .first.map { try $0.decode(Int.self, column: 0) } ?? 0
                guard balance >= input.amount else {
                    throw APIError.unprocessable("insufficient_funds", "the balance is too low")
                }
                try await connection.execute("UPDATE balances SET balance = balance - \(input.amount) WHERE user_id = \(user.id)")
                return try IdempotentResponse(status: .created, json: ["withdrawal": Receipt(id: UUID(), balance: balance - input.amount)])
            }
        }
        return Application(router: router)
    }

    static func withApp(_ body: @escaping @Sendable (any TestClientProtocol, PostgresPool, Gate) async throws -> Void) async throws {
        try await withTestDatabase { pool, _ in
            try await Migrator(pool: pool, logger: quietLogger).migrate(IdempotencyStore.migrations)
            try await pool.query("CREATE TABLE balances (user_id uuid PRIMARY KEY, balance bigint NOT NULL)")
            try await pool.query("CREATE TABLE attempts (user_id uuid NOT NULL)")
            let gate = Gate()
            try await application(pool: pool, gate: gate).test(.router) { client in
                try await body(client, pool, gate)
            }
        }
    }

    static func post(
        _ client: any TestClientProtocol, _ path: String, user: UUID, key: String?, body: String, requestID: String? = nil
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token(for: user))", .contentType: "application/json"]
        if let key { headers[.idempotencyKey] = key }
        if let requestID { headers[.requestID] = requestID }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    static func errorCode(_ response: TestResponse) throws -> String? {
        (try json(response)["error"] as? [String: Any])?["code"] as? String
    }

    static func balance(_ pool: PostgresPool, _ user: UUID) async throws -> Int {
        try await pool.query("SELECT balance FROM balances WHERE user_id = \(user)").first.map { try $0.decode(Int.self, column: 0) } ?? 0
    }

    @Test("the same key and body replay the first response and change nothing")
    func replay() async throws {
        try await Self.withApp { client, pool, _ in
            let user = UUID()
            let first = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-1", body: #"{"amount": 500}"#, requestID: "req-1")
            #expect(first.status == .created)
            #expect(first.headers[IdempotencyStore.replayedHeader] == nil)
            // Same JSON, formatted differently: the same request.
            let again = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-1", body: #"{ "amount":500 }"#, requestID: "req-2")
            #expect(again.status == .created)
            #expect(Data(again.body.readableBytesView) == Data(first.body.readableBytesView))
            #expect(again.headers[.requestID] == "req-2")
            #expect(again.headers[IdempotencyStore.replayedHeader] == "true")
            #expect(try await Self.balance(pool, user) == 500)

            // Without a key every request counts.
            _ = try await Self.post(client, "/api/v1/deposits", user: user, key: nil, body: #"{"amount": 1}"#)
            _ = try await Self.post(client, "/api/v1/deposits", user: user, key: nil, body: #"{"amount": 1}"#)
            #expect(try await Self.balance(pool, user) == 502)
        }
    }

    @Test("the same key with a different body is 409 idempotency_key_reused; keys are per user")
    func reusedKey() async throws {
        try await Self.withApp { client, pool, _ in
            let user = UUID()
            _ = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-2", body: #"{"amount": 10}"#)
            let reused = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-2", body: #"{"amount": 11}"#, requestID: "req-x")
            #expect(reused.status == .conflict)
            #expect(try Self.errorCode(reused) == "idempotency_key_reused")
            #expect(((try Self.json(reused)["error"] as? [String: Any])?["request_id"] as? String) == "req-x")
            // Another endpoint with the same key and body is a different request too.
            let elsewhere = try await Self.post(client, "/api/v1/withdrawals", user: user, key: "k-2", body: #"{"amount": 10}"#)
            #expect(try Self.errorCode(elsewhere) == "idempotency_key_reused")
            #expect(try await Self.balance(pool, user) == 10)

            let other = UUID()
            let theirs = try await Self.post(client, "/api/v1/deposits", user: other, key: "k-2", body: #"{"amount": 11}"#)
            #expect(theirs.status == .created)
            #expect(try await Self.balance(pool, other) == 11)
        }
    }

    @Test("a duplicate arriving while the first still runs is 409 idempotency_in_progress")
    func concurrentDuplicate() async throws {
        try await Self.withApp { client, pool, gate in
            let user = UUID()
            let first = Task { try await Self.post(client, "/api/v1/deposits", user: user, key: "k-3", body: #"{"amount": 7}"#) }
            // The first request holds the key inside its transaction.
            #expect(try await eventually {
                try await pool.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")[0].decode(Int.self, column: 0) > 0
            })
            let duplicate = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-3", body: #"{"amount": 7}"#)
            #expect(duplicate.status == .conflict)
            #expect(try Self.errorCode(duplicate) == "idempotency_in_progress")
            await gate.open()
            let original = try await first.value
            #expect(original.status == .created)
            let replay = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-3", body: #"{"amount": 7}"#)
            #expect(Data(replay.body.readableBytesView) == Data(original.body.readableBytesView))
            #expect(try await Self.balance(pool, user) == 7)
        }
    }

    @Test("a 400 is not stored: the key can be used again")
    func badRequestIsNotStored() async throws {
        try await Self.withApp { client, pool, _ in
            let user = UUID()
            let invalid = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-4", body: #"{"amount": 0}"#)
            #expect(invalid.status == .badRequest)
            #expect(try Self.errorCode(invalid) == "invalid_amount")
            let malformed = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-4", body: #"{"amount": "#)
            #expect(malformed.status == .badRequest)
            let valid = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-4", body: #"{"amount": 3}"#)
            #expect(valid.status == .created)
            #expect(try await Self.balance(pool, user) == 3)
            #expect(try await pool.query("SELECT count(*) FROM swap_idempotency_keys")[0].decode(Int.self, column: 0) == 1)
        }
    }

    @Test("a 422 is stored and replayed with the current request id; its changes are rolled back")
    func unprocessableIsStored() async throws {
        try await Self.withApp { client, pool, _ in
            let user = UUID()
            let refused = try await Self.post(client, "/api/v1/withdrawals", user: user, key: "k-5", body: #"{"amount": 50}"#, requestID: "req-a")
            #expect(refused.status == .unprocessableContent)
            #expect(try Self.errorCode(refused) == "insufficient_funds")
            #expect(try await pool.query("SELECT count(*) FROM attempts")[0].decode(Int.self, column: 0) == 0)

            _ = try await Self.post(client, "/api/v1/deposits", user: user, key: nil, body: #"{"amount": 100}"#)
            // Money arrived since, but the key's outcome stays the first one.
            let replay = try await Self.post(client, "/api/v1/withdrawals", user: user, key: "k-5", body: #"{"amount": 50}"#, requestID: "req-b")
            #expect(replay.status == .unprocessableContent)
            let error = try #require(try Self.json(replay)["error"] as? [String: Any])
            #expect(error["code"] as? String == "insufficient_funds")
            #expect(error["message"] as? String == "the balance is too low")
            #expect(error["request_id"] as? String == "req-b")
            #expect(try await Self.balance(pool, user) == 100)

            let fresh = try await Self.post(client, "/api/v1/withdrawals", user: user, key: "k-6", body: #"{"amount": 50}"#)
            #expect(fresh.status == .created)
            #expect(try await Self.balance(pool, user) == 50)
        }
    }

    @Test("Idempotency-Key must be 1 to 255 characters, and present where required")
    func keyValidation() async throws {
        try await Self.withApp { client, pool, _ in
            let user = UUID()
            let long = try await Self.post(client, "/api/v1/deposits", user: user, key: String(repeating: "k", count: 256), body: #"{"amount": 1}"#)
            #expect(long.status == .badRequest)
            #expect(try Self.errorCode(long) == "invalid_idempotency_key")
            let longest = try await Self.post(client, "/api/v1/deposits", user: user, key: String(repeating: "k", count: 255), body: #"{"amount": 1}"#)
            #expect(longest.status == .created)
            let missing = try await Self.post(client, "/api/v1/withdrawals", user: user, key: nil, body: #"{"amount": 1}"#)
            #expect(missing.status == .badRequest)
            #expect(try Self.errorCode(missing) == "idempotency_key_required")
            #expect(try await Self.balance(pool, user) == 1)
        }
    }

    @Test("an expired key counts as new; cleanup deletes expired keys")
    func expiry() async throws {
        try await Self.withApp { client, pool, _ in
            let user = UUID()
            _ = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-7", body: #"{"amount": 5}"#)
            try await pool.query("UPDATE swap_idempotency_keys SET expires_at = now() - interval '1 second'")
            let reused = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-7", body: #"{"amount": 6}"#)
            #expect(reused.status == .created)
            #expect(try await Self.balance(pool, user) == 11)

            _ = try await Self.post(client, "/api/v1/deposits", user: user, key: "k-8", body: #"{"amount": 1}"#)
            try await pool.query("UPDATE swap_idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'k-8'")
            #expect(try await IdempotencyStore.deleteExpired(on: pool) == 1)
            #expect(try await pool.query("SELECT key FROM swap_idempotency_keys")[0].decode(String.self, column: 0) == "k-7")
        }
    }
}
