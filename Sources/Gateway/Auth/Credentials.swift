import ServiceKit

/// The body of signup and password login, validated: 400 for anything malformed.
struct Credentials: Sendable {
    /// Lower-cased: emails are unique regardless of case.
    let email: String
    let password: String

    /// bcrypt reads at most 72 bytes; a longer password would silently be
    /// truncated, so it is refused instead.
    static let passwordBytes = 8...72

    struct Body: Decodable {
        var email: String
        var password: String
    }

    init(_ body: Body) throws {
        guard let email = Self.normalisedEmail(body.email) else {
            throw APIError.badRequest("email must be a valid email address", code: "invalid_email")
        }
        guard Self.passwordBytes.contains(body.password.utf8.count) else {
            throw APIError.badRequest(
                "password must be \(Self.passwordBytes.lowerBound) to \(Self.passwordBytes.upperBound) bytes long",
                code: "invalid_password"
            )
        }
        // The C implementation stops at NUL: "a\0b" and "a\0c" would be the same password.
        guard !body.password.utf8.contains(0) else {
            throw APIError.badRequest("password must not contain NUL characters", code: "invalid_password")
        }
        self.email = email
        password = body.password
    }

    /// A deliberately plain check: printable ASCII only (internationalised
    /// domains arrive as punycode; and Swift's and PostgreSQL's ideas of
    /// lower case agree on ASCII, which the table's check constraint needs),
    /// one `@`, a non-empty local part of at most 64 bytes, a dotted domain of
    /// letters, digits and hyphens, 254 bytes in all.
    static func normalisedEmail(_ text: String) -> String? {
        guard text.unicodeScalars.allSatisfy({ $0.isASCII }) else { return nil }
        let email = text.lowercased()
        guard (3...254).contains(email.utf8.count) else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let local = parts[0], domain = parts[1]
        guard (1...64).contains(local.utf8.count),
              local.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && !"()<>[]\\,;:\"".unicodeScalars.contains($0) }),
              !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..")
        else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        for label in labels {
            guard (1...63).contains(label.utf8.count), !label.hasPrefix("-"), !label.hasSuffix("-"),
                  label.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
            else { return nil }
        }
        return email
    }
}
