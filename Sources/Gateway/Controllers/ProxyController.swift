import Foundation
import Hummingbird
import ServiceKit

/// `/api/**`: verify the access token, take a token from the caller's
/// bucket, find the owning service by longest prefix, and forward.
struct ProxyController: Sendable {
    let table: UpstreamTable
    let rateLimiter: RateLimiter
    let proxy: ReverseProxy

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    func add(to router: Router<ServiceRequestContext>, auth: AuthMiddleware) {
        let group = router.group("/api").add(middleware: auth)
        for method in Self.methods {
            group.on("**", method: method) { request, context in try await handle(request, context: context) }
        }
    }

    func handle(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        if case .limited(let retryAfter) = await rateLimiter.take(userID: user.id) {
            throw APIError.tooManyRequests(retryAfterSeconds: retryAfter)
        }
        let path = request.uri.path
        // A service must never see `..` resolved differently from how the gateway routed it.
        if path.split(separator: "/").contains(where: { segment in
            let decoded = segment.removingPercentEncoding ?? String(segment)
            return decoded == "." || decoded == ".." || decoded.contains("/")
        }) {
            throw APIError.badRequest("the path must not contain '.' or '..' segments")
        }
        guard let upstream = table.upstream(forPath: path) else {
            throw APIError.notFound("no service handles this path")
        }
        return try await proxy.forward(request, to: upstream, context: context)
    }
}
