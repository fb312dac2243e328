import Foundation
import ServiceKit

extension AccessToken {
    /// An access token for `user` as the gateway signs it, valid for
    /// `lifetime` from now (a negative lifetime gives an expired token).
    public func sign(
        user: UUID, email: String = "someone@example.com", audience: String = "authenticated", lifetime: Duration = .seconds(600)
    ) -> String {
        let now = Int(Date().timeIntervalSince1970)
        return sign(.init(sub: user.uuidString.lowercased(), email: email, aud: audience, iat: now, exp: now + Int(lifetime.components.seconds)))
    }
}
