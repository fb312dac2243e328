import Crypto
import Foundation

/// HS256 access tokens in the shape Supabase Auth issues (API.md): claims
/// `sub`, `email`, `role: "authenticated"`, `aud: "authenticated"`, `iat`, `exp`.
public struct AccessToken: Sendable {
    public struct Claims: Codable, Sendable, Equatable {
        public var sub: String
        public var email: String
        public var role: String
        public var aud: String
        public var iat: Int
        public var exp: Int

        public init(sub: String, email: String, role: String = "authenticated", aud: String = "authenticated", iat: Int, exp: Int) {
            self.sub = sub
            self.email = email
            self.role = role
            self.aud = aud
            self.iat = iat
            self.exp = exp
        }
    }

    public enum Failure: Error, Equatable {
        case malformed
        case unsupportedAlgorithm
        case badSignature
        case expired
        case wrongAudience
        case wrongRole
    }

    private let secret: Data

    public init(secret: String) {
        self.secret = Data(secret.utf8)
    }

    private var key: SymmetricKey { SymmetricKey(data: secret) }

    public func sign(_ claims: Claims) -> String {
        let header = Base64URL.encode(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = Base64URL.encode((try? encoder.encode(claims)) ?? Data())
        let input = "\(header).\(payload)"
        let signature = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: key)
        return "\(input).\(Base64URL.encode(Data(signature)))"
    }

    /// Verifies the signature with a constant-time comparison, then the algorithm,
    /// audience, role and expiry. `alg: none` and every other algorithm are refused.
    public func verify(_ token: String, now: Date = Date()) throws(Failure) -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerData = Base64URL.decode(String(parts[0])),
              let payloadData = Base64URL.decode(String(parts[1])),
              let signature = Base64URL.decode(String(parts[2]))
        else { throw .malformed }
        struct Header: Decodable { var alg: String }
        guard let header = try? JSONDecoder().decode(Header.self, from: headerData) else { throw .malformed }
        guard header.alg == "HS256" else { throw .unsupportedAlgorithm }
        let input = Data("\(parts[0]).\(parts[1])".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: key) else { throw .badSignature }
        guard let claims = try? JSONDecoder().decode(Claims.self, from: payloadData) else { throw .malformed }
        guard claims.aud == "authenticated" else { throw .wrongAudience }
        guard claims.role == "authenticated" else { throw .wrongRole }
        guard Double(claims.exp) > now.timeIntervalSince1970 else { throw .expired }
        return claims
    }
}

/// Base64url without padding, as JWTs use.
public enum Base64URL {
    public static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        guard text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
