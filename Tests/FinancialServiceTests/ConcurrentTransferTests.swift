import Foundation
import HTTPTypes
import ServiceKit
import ServiceTesting
import SwapKafka
import SwapPostgres
import Testing

@Suite("Financial service under concurrency", .serialized, .timeLimit(.minutes(10)))
struct ConcurrentTransferTests {
    struct PlannedTransfer: Sendable {
        var key: String
        var from: UUID
        var to: UUID
        var amount: Int
        /// Sent again on a second connection at the same time.
        var duplicateAtOnce: Bool
        /// Sent again after its outcome arrived, as a client retrying after a timeout.
        var retryAfterwards: Bool
    }

    struct Outcome: Sendable {
        var status: Int
        var body: Data

        /// The body as a replay must repeat it: errors apart from their `request_id`.
        var comparable: Data {
            guard status >= 400, var object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
                  var error = object["error"] as? [String: Any] else { return body }
            error["request_id"] = nil
            object["error"] = error
            return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? body
        }
    }

    actor Results {
        private(set) var outcomes: [String: Outcome] = [:]
        private(set) var problems: [String] = []
        private(set) var replays = 0
        private(set) var inProgress = 0
        private var next = 0

        func counted(replay: Bool, inProgress busy: Int) {
            if replay { replays += 1 }
            inProgress += busy
        }

        func take(_ count: Int) -> Int? {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }

        func record(_ key: String, _ outcome: Outcome) {
            if let first = outcomes[key] {
                if first.status != outcome.status || first.comparable != outcome.comparable {
                    problems.append("\(key): \(first.status) then \(outcome.status)")
                }
            } else {
                outcomes[key] = outcome
            }
        }

        func problem(_ text: String) {
            problems.append(text)
        }
    }

    static let users = 20
    static let transfers = 2000
    static let inFlight = 32
    static let initialDeposit = 100_000

    /// Sends until the outcome is final: 409 in progress and 503 are retried with the same key.
    static func send(_ transfer: PlannedTransfer, token: String, client: ServiceClient, results: Results) async throws -> Outcome {
        let body = json(["to_user_id": transfer.to.uuidString.lowercased(), "amount": transfer.amount])
        for attempt in 0..<500 {
            let reply = try await client.send(.post, "/api/v1/transfers", token: token, json: body, headers: ["Idempotency-Key": transfer.key])
            if reply.status == 409 && reply.errorCode == "idempotency_in_progress" || reply.status == 503 {
                try await Task.sleep(for: .milliseconds(Int.random(in: 2...10)))
                continue
            }
            await results.counted(replay: reply.headers[HTTPField.Name("Idempotent-Replayed")!] == "true", inProgress: attempt)
            return Outcome(status: reply.status, body: reply.body)
        }
        throw TestFailure("\(transfer.key) never completed")
    }

    @Test("20 users, 2000 concurrent transfers with retried keys: money is conserved, no balance is negative, each key moves money once, each completed transaction is published exactly once")
    func concurrentTransfers() async throws {
        try await withFinancialService(settings: ["FRAUD_MAX_PER_MINUTE": "1000000"]) { service in
            var users: [UUID] = []
            for index in 0..<Self.users { users.append(try await service.createUser("concurrent-\(index)@example.com")) }
            let tokens = Dictionary(uniqueKeysWithValues: users.map { ($0, service.token($0)) })
            let setup = service.client()
            for user in users {
                let reply = try await setup.send(.post, "/api/v1/wallet/deposits", token: tokens[user], json: json(["amount": Self.initialDeposit]), headers: ["Idempotency-Key": "seed"])
                #expect(reply.status == 201)
            }
            await setup.close()

            let plan: [PlannedTransfer] = (0..<Self.transfers).map { index in
                let from = users.randomElement()!
                var to = users.randomElement()!
                while to == from { to = users.randomElement()! }
                return PlannedTransfer(
                    key: "transfer-\(index)", from: from, to: to, amount: Int.random(in: 1...25_000),
                    duplicateAtOnce: Double.random(in: 0..<1) < 0.15, retryAfterwards: Double.random(in: 0..<1) < 0.25
                )
            }
            let results = Results()
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<Self.inFlight {
                    group.addTask {
                        let client = ServiceClient(port: service.port)
                        let twin = ServiceClient(port: service.port)
                        defer { Task { await client.close(); await twin.close() } }
                        while let index = await results.take(Self.transfers) {
                            let transfer = plan[index]
                            let token = tokens[transfer.from]!
                            if transfer.duplicateAtOnce {
                                async let first = Self.send(transfer, token: token, client: client, results: results)
                                async let second = Self.send(transfer, token: token, client: twin, results: results)
                                let (a, b) = try await (first, second)
                                await results.record(transfer.key, a)
                                await results.record(transfer.key, b)
                            } else {
                                await results.record(transfer.key, try await Self.send(transfer, token: token, client: client, results: results))
                            }
                            if transfer.retryAfterwards {
                                await results.record(transfer.key, try await Self.send(transfer, token: token, client: client, results: results))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - started
            let (replays, inProgress) = (await results.replays, await results.inProgress)
            print("2000 transfers took \(elapsed): \(replays) replays, \(inProgress) answers 409 idempotency_in_progress")
            #expect(replays > 0)

            let outcomes = await results.outcomes
            let problems = await results.problems
            #expect(problems.isEmpty, "a retried key answered differently: \(problems.prefix(5))")
            #expect(outcomes.count == Self.transfers)
            let statuses = Dictionary(grouping: outcomes.values, by: \.status).mapValues(\.count)
            #expect(Set(statuses.keys).isSubset(of: [201, 422]), "unexpected statuses: \(statuses)")
            let succeeded = Set(outcomes.filter { $0.value.status == 201 }.map(\.key))
            #expect(succeeded.count > Self.transfers / 2)

            // Money is conserved and never negative.
            let totals = try await service.pool.query("SELECT sum(balance)::bigint, min(balance)::bigint FROM wallets")
            let (sum, minimum) = try totals[0].decode((Int, Int).self)
            #expect(sum == Self.users * Self.initialDeposit)
            #expect(minimum >= 0)

            // Each key moved money exactly once, and only the keys that answered 201.
            let rows = try await service.pool.query("""
                SELECT idempotency_key, count(*)::bigint, min(id::text) FROM transactions WHERE kind = 'transfer' GROUP BY idempotency_key
                """)
            var ledgerIDs: [String: UUID] = [:]
            for row in rows {
                let (key, count, id) = try row.decode((String?, Int, String).self)
                #expect(count == 1, "key \(key ?? "nil") has \(count) ledger rows")
                if let key { ledgerIDs[key] = UUID(uuidString: id) }
            }
            #expect(Set(ledgerIDs.keys) == succeeded)
            for key in succeeded {
                let answered = try APIJSON.decoder.decode(TransactionReply.self, from: outcomes[key]!.body).transaction
                #expect(answered.id == ledgerIDs[key], "\(key): the response names the ledger row")
            }

            // Every balance equals its deposits plus what the ledger says it received minus what it sent.
            let balances = try await service.pool.query("""
                SELECT w.user_id, w.balance,
                       coalesce((SELECT sum(amount) FROM transactions t WHERE t.to_user_id = w.user_id AND t.status = 'completed'), 0)::bigint
                     - coalesce((SELECT sum(amount) FROM transactions t WHERE t.from_user_id = w.user_id AND t.status = 'completed'), 0)::bigint
                FROM wallets w
                """)
            for row in balances {
                let (user, balance, net) = try row.decode((UUID, Int, Int).self)
                #expect(balance == net, "wallet \(user)")
            }

            // Every completed transaction reaches financial.transactions exactly once, keyed by its initiator.
            #expect(try await eventually(timeout: .seconds(120)) {
                try await service.pool.query("SELECT count(*)::bigint FROM swap_outbox WHERE state <> 'sent'")[0].decode(Int.self, column: 0) == 0
            })
            let ledger = try await service.pool.query("SELECT id, coalesce(from_user_id, to_user_id) FROM transactions WHERE status = 'completed'")
            var initiators: [UUID: UUID] = [:]
            for row in ledger {
                let (id, initiator) = try row.decode((UUID, UUID).self)
                initiators[id] = initiator
            }
            #expect(initiators.count == succeeded.count + Self.users)
            let messages = try await readWholeTopic(service.broker, "financial.transactions")
            var published: [UUID: Int] = [:]
            for message in messages {
                let event = try EventEnvelope.decode(message)
                #expect(event.type == "transaction.completed")
                let transaction = try event.decodeData(TransactionJSON.self)
                published[transaction.id, default: 0] += 1
                #expect(message.keyString == initiators[transaction.id]?.uuidString.lowercased(), "key = sender (or depositor)")
                #expect(message.headers.contains { $0.key == "event_id" })
            }
            #expect(Set(published.keys) == Set(initiators.keys))
            #expect(published.values.allSatisfy { $0 == 1 }, "duplicates on the topic: \(published.filter { $0.value > 1 }.count)")
            #expect(messages.count == initiators.count)
        }
    }
}
