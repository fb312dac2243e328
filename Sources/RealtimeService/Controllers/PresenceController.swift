import Foundation
import Hummingbird
import ServiceKit

/// `GET /api/v1/presence/{user_id}` -> `{user_id, online}`: whether the user
/// has a socket open on any replica. Any signed-in user may ask about any
/// user (it is what a chat shows next to a name); a malformed id is 400.
struct PresenceController: Sendable {
    let presence: any PresenceRepository

    func add(to router: Router<ServiceRequestContext>, auth: AuthMiddleware) {
        router.group("/api/v1/presence")
            .add(middleware: auth)
            .get(":user_id") { _, context -> Presence in
                _ = try context.requireUser()
                guard let text = context.parameters.get("user_id"), let user = UUID(uuidString: text) else {
                    throw APIError.badRequest("user_id must be a UUID", code: "invalid_user_id")
                }
                return Presence(userId: user.lowercaseString, online: try await presence.isOnline(user))
            }
    }
}
