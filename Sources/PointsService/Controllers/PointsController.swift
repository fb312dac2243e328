import Foundation
import Hummingbird
import ServiceKit
import SwapPostgres

/// `/api/v1/points`, `/api/v1/points/history`, `/api/v1/rewards` and
/// `/api/v1/rewards/{id}/redeem`, every route behind the access token.
struct PointsController {
    let repository: any PointsRepository
    let pool: PostgresPool
    let idempotency: IdempotencyStore

    func add(to router: Router<ServiceRequestContext>, auth: AuthMiddleware) {
        let api = router.group("/api/v1").add(middleware: auth)
        api.get("points", use: points)
        api.get("points/history", use: history)
        api.get("rewards", use: rewards)
        api.post("rewards/:id/redeem", use: redeem)
    }

    @Sendable func points(_ request: Request, context: ServiceRequestContext) async throws -> PointsBalance {
        try await repository.balance(of: context.requireUser().id)
    }

    @Sendable func history(_ request: Request, context: ServiceRequestContext) async throws -> Page<HistoryItem> {
        let user = try context.requireUser()
        let page = try PageRequest<HistoryCursor>(request)
        let fetched = try await repository.history(of: user.id, after: page.cursor, limit: page.limit + 1)
        let items = Array(fetched.prefix(page.limit))
        let next = fetched.count > page.limit ? items.last.map { OpaqueCursor.encode(HistoryCursor(seq: $0.seq)) } : nil
        return Page(items: items.map(\.item), nextCursor: next)
    }

    @Sendable func rewards(_ request: Request, context: ServiceRequestContext) async throws -> RewardList {
        _ = try context.requireUser()
        return RewardList(items: try await repository.rewards())
    }

    @Sendable func redeem(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let key = try IdempotencyStore.key(in: request, required: false)
        guard let reward = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw APIError.badRequest("the reward id must be a UUID", code: "invalid_id")
        }
        // The request has no body: method and path identify it.
        let identity = IdempotentRequest(method: request.method.rawValue, path: request.uri.path, body: Data())
        return try await idempotency.run(
            key: key, user: user.id, request: identity, requestID: context.requestID, in: pool
        ) { connection in
            let redemption = try await repository.redeem(reward, by: user.id, on: connection)
            return try IdempotentResponse(status: .created, json: RedemptionEnvelope(redemption: redemption))
        }
    }
}
