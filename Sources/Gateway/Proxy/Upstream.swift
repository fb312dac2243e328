import Foundation
import ServiceKit

/// A service the gateway forwards to: `UPSTREAM_<NAME>_URL` and the path
/// prefixes it owns, `UPSTREAM_<NAME>_PREFIXES` (comma-separated, such as
/// `/api/v1/wallet,/api/v1/transfers`). An upstream without prefixes
/// receives no traffic but still counts for the aggregated `/health`.
public struct Upstream: Sendable, Hashable {
    /// `financial` for `UPSTREAM_FINANCIAL_URL`; the key in `/health`'s `services`.
    public var name: String
    /// `http://host:port`, without a trailing slash.
    public var baseURL: String
    public var prefixes: [String]

    public init(name: String, baseURL: String, prefixes: [String]) {
        self.name = name
        self.baseURL = baseURL
        self.prefixes = prefixes
    }

    /// Every `UPSTREAM_*_URL` of the environment, sorted by name; problems are collected, not thrown.
    static func parse(environment: [String: String], problems: EnvironmentReader) -> [Upstream] {
        var upstreams: [Upstream] = []
        var owners: [String: String] = [:]
        let urlNames = Set(environment.keys.compactMap { middle(of: $0, suffix: "_URL") })
        for key in environment.keys.sorted() {
            if let name = middle(of: key, suffix: "_PREFIXES"), !urlNames.contains(name) {
                problems.problem("\(key) is set but UPSTREAM_\(name)_URL is not")
            }
        }
        for name in urlNames.sorted() {
            let urlKey = "UPSTREAM_\(name)_URL"
            let text = environment[urlKey] ?? ""
            guard let baseURL = normalisedBaseURL(text) else {
                problems.problem("\(urlKey) must be an http:// or https:// URL with a host and no path, found '\(text)'")
                continue
            }
            var prefixes: [String] = []
            let prefixKey = "UPSTREAM_\(name)_PREFIXES"
            for raw in (environment[prefixKey] ?? "").split(separator: ",") {
                var prefix = raw.trimmingCharacters(in: .whitespaces)
                while prefix.count > 1, prefix.hasSuffix("/") { prefix.removeLast() }
                guard prefix.hasPrefix("/api/"), !prefix.contains(where: { $0 == "?" || $0 == "#" || $0 == " " }) else {
                    problems.problem("\(prefixKey): '\(prefix)' must be a path under /api/")
                    continue
                }
                if let owner = owners[prefix] {
                    problems.problem("\(prefixKey): '\(prefix)' is already routed to \(owner)")
                    continue
                }
                owners[prefix] = name.lowercased()
                prefixes.append(prefix)
            }
            upstreams.append(Upstream(name: name.lowercased(), baseURL: baseURL, prefixes: prefixes))
        }
        return upstreams
    }

    private static func middle(of key: String, suffix: String) -> String? {
        guard key.hasPrefix("UPSTREAM_"), key.hasSuffix(suffix), key.count > "UPSTREAM_".count + suffix.count else { return nil }
        return String(key.dropFirst("UPSTREAM_".count).dropLast(suffix.count))
    }

    private static func normalisedBaseURL(_ text: String) -> String? {
        guard let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty,
              components.path.isEmpty || components.path == "/",
              components.query == nil, components.fragment == nil, components.user == nil
        else { return nil }
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}

/// Which upstream owns a path: the longest matching prefix, matched on whole
/// segments (`/api/v1/wallet` owns `/api/v1/wallet/deposits`, not `/api/v1/wallets`).
struct UpstreamTable: Sendable {
    private let entries: [(prefix: String, upstream: Upstream)]

    init(_ upstreams: [Upstream]) {
        entries = upstreams
            .flatMap { upstream in upstream.prefixes.map { (prefix: $0, upstream: upstream) } }
            .sorted { $0.prefix.count != $1.prefix.count ? $0.prefix.count > $1.prefix.count : $0.prefix < $1.prefix }
    }

    func upstream(forPath path: String) -> Upstream? {
        for entry in entries {
            if path == entry.prefix || path.hasPrefix(entry.prefix + "/") { return entry.upstream }
        }
        return nil
    }
}
