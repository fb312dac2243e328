import Foundation
import Hummingbird
import ServiceKit
import SwapPostgres

/// `/api/v1/wallet`, `/api/v1/wallet/deposits`, `/api/v1/transfers` and
/// `/api/v1/transactions`, every route behind the access token.
struct FinancialController {
    let repository: any LedgerRepository
    let pool: PostgresPool
    let idempotency: IdempotencyStore
    /// Called after a transaction that enqueued an event committed (wakes the relay).
    let committed: @Sendable () -> Void

    func add(to router: Router<ServiceRequestContext>, auth: AuthMiddleware) {
        let api = router.group("/api/v1").add(middleware: auth)
        api.get("wallet", use: wallet)
        api.post("wallet/deposits", use: deposit)
        api.post("transfers", use: transfer)
        api.get("transactions", use: transactions)
    }

    @Sendable func wallet(_ request: Request, context: ServiceRequestContext) async throws -> Wallet {
        let user = try context.requireUser()
        guard let wallet = try await repository.wallet(of: user.id) else { throw APIError.notFound("wallet not found") }
        return wallet
    }

    @Sendable func deposit(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let key = try IdempotencyStore.key(in: request, required: false)
        let input = try await request.decode(as: DepositInput.self, context: context)
        let amount = try input.validated()
        let response = try await idempotency.run(
            key: key, user: user.id, request: IdempotentRequest(request, body: input), requestID: context.requestID, in: pool
        ) { connection in
            let transaction = try await repository.deposit(to: user.id, amount: amount, idempotencyKey: key, on: connection)
            return try IdempotentResponse(status: .created, json: TransactionEnvelope(transaction: transaction))
        }
        committed()
        return response
    }

    @Sendable func transfer(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let key = try IdempotencyStore.key(in: request, required: true)
        let input = try await request.decode(as: TransferInput.self, context: context)
        let command = try input.validated(sender: user.id)
        let response = try await idempotency.run(
            key: key, user: user.id, request: IdempotentRequest(request, body: input), requestID: context.requestID, in: pool
        ) { connection in
            guard command.to != command.from else {
                throw APIError.unprocessable("self_transfer", "you cannot transfer money to yourself")
            }
            let transaction = try await repository.transfer(command, idempotencyKey: key, on: connection)
            return try IdempotentResponse(status: .created, json: TransactionEnvelope(transaction: transaction))
        }
        committed()
        return response
    }

    @Sendable func transactions(_ request: Request, context: ServiceRequestContext) async throws -> Page<LedgerTransaction> {
        let user = try context.requireUser()
        let page = try PageRequest<TransactionCursor>(request)
        let fetched = try await repository.transactions(of: user.id, after: page.cursor, limit: page.limit + 1)
        let items = Array(fetched.prefix(page.limit))
        let next = fetched.count > page.limit ? items.last.map { OpaqueCursor.encode(TransactionCursor(seq: $0.seq)) } : nil
        return Page(items: items.map(\.transaction), nextCursor: next)
    }
}
