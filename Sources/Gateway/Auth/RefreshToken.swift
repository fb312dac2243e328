import Crypto
import Foundation
import ServiceKit

/// Opaque refresh tokens: 32 random bytes, base64url (43 characters). Only
/// their SHA-256 is stored, so a database leak yields no usable token.
enum RefreshToken {
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(Data(bytes))
    }

    /// Lower-case hex of the SHA-256 of the token text.
    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
