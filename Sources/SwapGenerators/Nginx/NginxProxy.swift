import SwapTopology

/// Upstreams, proxy headers and the locations of the routed paths.
enum NginxProxy {
    /// Headers nginx sets on every response itself; the services' copies are
    /// hidden so a client never sees one twice.
    static let ownedResponseHeaders = [
        "X-Request-ID", "X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy",
        "Strict-Transport-Security",
    ]

    static func routedServices(_ topology: Topology) -> [Service] {
        topology.services.filter { !$0.routes.isEmpty }
    }

    static func upstreamName(_ service: Service) -> String { "\(service.name)_backend" }

    static func maps(_ topology: Topology, into out: inout NginxWriter) {
        let routes = routedServices(topology).flatMap(\.routes)
        if routes.contains(where: \.websocket) {
            out.comment(
                "WebSocket upgrade. A plain request maps to an empty Connection header",
                "(not \"close\"), so it can still reuse a keepalive upstream connection."
            )
            out.block("map $http_upgrade $connection_upgrade") { out in
                out.directive("default upgrade")
                out.directive("\"\" \"\"")
            }
            out.blank()
        }
        if routes.contains(where: \.sticky) {
            out.comment(
                "Sticky routes hash this key (consistent hashing, so adding a replica moves",
                "few clients). Not ip_hash: every client behind one NAT, and every local",
                "client, would share one replica. A client that sends ?client_id= stays on",
                "its replica across reconnects; without one the random request id spreads",
                "connections evenly. Either way events reach every replica through Redis,",
                "so a reconnect that lands elsewhere still gets them."
            )
            out.block("map $arg_client_id $swap_sticky_key") { out in
                out.directive("\"\" $request_id")
                out.directive("default $arg_client_id")
            }
            out.blank()
        }
    }

    /// Proxy settings for every proxied location; a location that sets its own
    /// `proxy_set_header` must repeat `headers` (nginx replaces, not merges).
    static func defaults(into out: inout NginxWriter) {
        out.comment("Upstream requests: HTTP/1.1 keepalive, forwarding headers, request id.")
        out.directive("proxy_http_version 1.1")
        headers(connection: "\"\"", into: &out)
        out.comment("The ingress owns these response headers.")
        for header in ownedResponseHeaders { out.directive("proxy_hide_header \(header)") }
        out.directive("proxy_connect_timeout 5s")
        out.directive("proxy_send_timeout 60s")
        out.directive("proxy_read_timeout 60s")
        out.directive("proxy_next_upstream error timeout")
        out.directive("proxy_next_upstream_tries 2")
        out.blank()
    }

    /// X-Forwarded-For is the peer address alone: nginx is the edge, so a
    /// client-sent X-Forwarded-For is not trusted.
    static func headers(connection: String, upgrade: Bool = false, into out: inout NginxWriter) {
        out.directive("proxy_set_header Host $host")
        out.directive("proxy_set_header X-Real-IP $remote_addr")
        out.directive("proxy_set_header X-Forwarded-For $remote_addr")
        out.directive("proxy_set_header X-Forwarded-Proto $scheme")
        out.directive("proxy_set_header X-Forwarded-Host $host")
        out.directive("proxy_set_header X-Forwarded-Port $server_port")
        out.directive("proxy_set_header X-Request-ID $swap_request_id")
        if upgrade { out.directive("proxy_set_header Upgrade $http_upgrade") }
        out.directive("proxy_set_header Connection \(connection)")
    }

    static func upstreams(_ topology: Topology, _ options: NginxOptions, into out: inout NginxWriter) {
        for service in routedServices(topology) {
            let sticky = service.routes.contains(where: \.sticky)
            let servers = options.upstreams[service.name] ?? ["\(service.name):\(service.port.value)"]
            out.comment("\(service.name): \(service.replicas.value) replica(s)" + (sticky ? ", sticky (see $swap_sticky_key)" : ""))
            out.block("upstream \(upstreamName(service))") { out in
                out.directive("zone \(upstreamName(service)) 64k")
                if sticky { out.directive("hash $swap_sticky_key consistent") }
                for server in servers {
                    let resolve = options.resolveUpstreams && options.flavour == .modern ? " resolve" : ""
                    out.directive("server \(server)\(resolve) max_fails=3 fail_timeout=10s")
                }
                out.directive("keepalive 32")
            }
            out.blank()
        }
    }

    /// The locations of every routed path. A path ending in `/` is a prefix
    /// (`^~`: no regex is tried after it); any other path matches itself and
    /// what lies below it (`/ws`, `/ws/x`), never a longer name (`/wsx`).
    /// nginx tries regex locations in order, so the longer paths go first.
    static func locations(_ topology: Topology, into out: inout NginxWriter) {
        let routes = routedServices(topology).flatMap { service in service.routes.map { (service, $0) } }
        let prefixes = routes.filter { $0.1.path.value.hasSuffix("/") }
        let exact = routes.filter { !$0.1.path.value.hasSuffix("/") }.sorted { $0.1.path.value.count > $1.1.path.value.count }
        for (service, route) in prefixes + exact {
            let path = route.path.value
            let matcher = path.hasSuffix("/") ? "^~ \(path)" : "~ ^\(regexEscaped(path))(?:/|$)"
            out.block("location \(matcher)") { out in
                if route.websocket {
                    out.comment("WebSocket: upgrade headers; idle connections live an hour.")
                    headers(connection: "$connection_upgrade", upgrade: true, into: &out)
                    out.directive("proxy_read_timeout 1h")
                    out.directive("proxy_send_timeout 1h")
                }
                out.directive("proxy_pass http://\(upstreamName(service))")
            }
        }
        let paths = Set(routes.map(\.1.path.value))
        let bare = prefixes.map { String($0.1.path.value.dropLast()) }.filter { !$0.isEmpty && !paths.contains($0) }
        if !bare.isEmpty {
            out.comment("Not routed: without these nginx answers \(bare[0]) with its own HTML 301 to \(bare[0])/.")
        }
        for path in bare {
            out.block("location = \(path)") { $0.directive("return 404") }
        }
    }

    static func regexEscaped(_ path: String) -> String {
        let special = Set(#"\.+*?()[]^$|"#)
        return path.map { special.contains($0) ? "\\\($0)" : String($0) }.joined()
    }
}
