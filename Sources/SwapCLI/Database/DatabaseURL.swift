import Foundation

/// A PostgreSQL connection URL split so that its password never reaches a
/// command line or the terminal: tools get ``withoutPassword`` as `--dbname`
/// and the password through `PGPASSWORD` in their environment; people see
/// ``masked``.
struct DatabaseURL: Sendable, Equatable {
    /// The URL with no password in it (user, host, port, database, parameters kept).
    let withoutPassword: String
    /// The URL with the password shown as `***`, for messages.
    let masked: String
    let password: String?
    let user: String?
    /// The database name, `postgres` when the URL names none (libpq's default is the user name).
    let database: String

    enum Problem: Error, CustomStringConvertible {
        case notAURL
        case unreadable(path: String, reason: String)
        case empty(path: String)

        var description: String {
            switch self {
            // The text itself is not shown: it may be a key=value string with a password in it.
            case .notAURL: "expected a postgresql:// or postgres:// URL"
            case let .unreadable(path, reason): "cannot read \(path): \(reason)"
            case let .empty(path): "\(path) is empty"
            }
        }
    }

    /// Parses `postgres[ql]://[user[:password]@]host[:port][/database][?parameters]`.
    /// The password may hold `@`, `/` or `:` unescaped (as pasted from a
    /// dashboard): the user part ends at the last `@` before the parameters.
    init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let schemeEnd = trimmed.range(of: "://"),
              ["postgres", "postgresql"].contains(trimmed[..<schemeEnd.lowerBound].lowercased()) else {
            throw Problem.notAURL
        }
        let scheme = String(trimmed[..<schemeEnd.lowerBound])
        var rest = String(trimmed[schemeEnd.upperBound...])
        var query = ""
        if let question = rest.firstIndex(of: "?") {
            query = String(rest[question...])
            rest = String(rest[..<question])
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            rest = String(rest[rest.index(after: at)...])
            if let colon = info.firstIndex(of: ":") {
                user = String(info[..<colon])
                password = String(info[info.index(after: colon)...])
            } else {
                user = String(info)
            }
        }
        // A password may also come as a parameter.
        var parameters: [String] = []
        for pair in query.dropFirst().split(separator: "&") {
            if pair.lowercased().hasPrefix("password=") {
                password = String(pair.dropFirst("password=".count))
            } else {
                parameters.append(String(pair))
            }
        }
        let parameterText = parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&")
        let userText = user.map { $0 + "@" } ?? ""
        self.withoutPassword = "\(scheme)://\(userText)\(rest)\(parameterText)"
        let maskedUser = user.map { password == nil ? "\($0)@" : "\($0):***@" } ?? (password == nil ? "" : ":***@")
        self.masked = "\(scheme)://\(maskedUser)\(rest)\(parameterText)"
        self.password = password.map { $0.removingPercentEncoding ?? $0 }
        self.user = user.map { $0.removingPercentEncoding ?? $0 }
        let path = rest.firstIndex(of: "/").map { String(rest[rest.index(after: $0)...]) } ?? ""
        self.database = path.isEmpty ? "postgres" : (path.removingPercentEncoding ?? path)
    }

    /// Reads a URL from a secret file (the `*_FILE` convention): surrounding
    /// whitespace, such as a trailing newline, is ignored.
    static func read(file path: String) throws -> DatabaseURL {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw Problem.empty(path: path) }
        return try DatabaseURL(text)
    }

    /// The environment a client tool needs besides the URL.
    var clientEnvironment: [String: String] {
        password.map { ["PGPASSWORD": $0] } ?? [:]
    }

    /// Replaces the password wherever a tool's message might repeat it.
    func scrub(_ text: String) -> String {
        guard let password, !password.isEmpty else { return text }
        var out = text.replacingOccurrences(of: password, with: "***")
        if let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != password {
            out = out.replacingOccurrences(of: encoded, with: "***")
        }
        return out
    }
}
