import SwapTopology

/// The ingress configuration: one pure function of the topology and the
/// deployment's `NginxOptions`, shared by the generator (Docker targets and
/// the committed `local` file) and by `swapctl up`, which renders the local
/// one again with the ports and folders it picked.
public enum NginxConfig {
    /// Answered 200 on the plain-HTTP port of the default server, for
    /// container health checks and the harness (nginx alone, no upstream).
    public static let healthPath = "/nginx-health"
    /// The image the `.modern` flavour is written for (>= 1.27.3: `http2 on`,
    /// `server ... resolve`); its OpenSSL 3.3 predates X25519MLKEM768.
    public static let dockerImage = "nginx:1.27-alpine"
    /// Mozilla's server-side TLS guidelines version the TLS settings follow.
    public static let mozillaGuidelines = "6.0"

    /// The full ingress configuration (`nginx.conf`).
    public static func render(_ topology: Topology, _ options: NginxOptions) -> String {
        var out = NginxWriter()
        header(topology, options, into: &out, purpose: "Ingress for \(topology.project)", describesTLS: options.tls != nil)
        mainContext(options, into: &out)
        out.block("http") { out in
            httpBasics(topology, options, into: &out)
            requestIDs(into: &out)
            NginxErrorPages.maps(topology, into: &out)
            NginxProxy.maps(topology, into: &out)
            logging(options, into: &out)
            compression(into: &out)
            rateLimit(topology, into: &out)
            if let resolver = options.resolver { resolverDirectives(resolver, into: &out) }
            if options.tls != nil { NginxServers.tlsDefaults(options, into: &out) }
            NginxProxy.defaults(into: &out)
            NginxProxy.upstreams(topology, options, into: &out)
            NginxServers.servers(topology, options, into: &out)
        }
        return out.text
    }

    /// An HTTP-only configuration for the first Let's Encrypt issuance: nginx
    /// refuses to start while the certificate files are missing, so this one
    /// serves the ACME challenge (and a JSON 503 for everything else) until
    /// certbot has written them; then switch to `nginx.conf`.
    public static func renderBootstrap(_ topology: Topology, _ options: NginxOptions) -> String {
        var out = NginxWriter()
        header(
            topology, options, into: &out,
            purpose: "Let's Encrypt bootstrap (HTTP only, until the first certificate exists) for \(topology.project)", describesTLS: false
        )
        mainContext(options, into: &out)
        out.block("http") { out in
            httpBasics(topology, options, into: &out)
            requestIDs(into: &out)
            NginxErrorPages.maps(topology, into: &out)
            logging(options, into: &out)
            NginxServers.bootstrapServer(topology, options, into: &out)
        }
        return out.text
    }

    private static func header(_ topology: Topology, _ options: NginxOptions, into out: inout NginxWriter, purpose: String, describesTLS: Bool) {
        out.raw(GeneratedHeader.hash(topology.environment))
        out.comment("")
        switch options.flavour {
        case .legacy:
            out.comment("\(purpose), written for nginx 1.22 (Debian bookworm) and later.")
            out.comment(
                "Run from a prefix folder that holds it and certs/{fullchain,privkey}.pem:",
                "nginx -p PREFIX -c nginx.conf -g 'daemon off;'"
            )
        case .modern:
            out.comment("\(purpose), written for the \(dockerImage) image (nginx >= 1.27.3).")
        }
        if describesTLS {
            out.comment(
                "TLS: Mozilla \"intermediate\", guidelines \(mozillaGuidelines); X25519MLKEM768 is left out of",
                "ssl_ecdh_curve until the OpenSSL of every nginx it runs on (3.5+) knows it."
            )
        }
        out.blank()
    }

    private static func mainContext(_ options: NginxOptions, into out: inout NginxWriter) {
        if let user = options.user { out.directive("user \(user)") }
        out.directive("worker_processes auto")
        if let pid = options.paths.pid { out.directive("pid \(pid)") }
        out.directive("error_log \(options.paths.errorLog) warn")
        out.blank()
        out.block("events") { $0.directive("worker_connections \(options.workerConnections)") }
        out.blank()
    }

    private static func httpBasics(_ topology: Topology, _ options: NginxOptions, into out: inout NginxWriter) {
        out.directive("server_tokens off")
        out.comment("No MIME table: everything nginx answers itself is JSON.")
        out.block("types") { _ in }
        out.directive("default_type application/json")
        out.directive("sendfile on")
        out.directive("tcp_nopush on")
        out.directive("keepalive_timeout 65s")
        out.directive("client_max_body_size \(topology.ingress.maxBody.nginx)")
        if let folder = options.paths.tempFolder {
            let prefix = folder.isEmpty ? "" : folder.hasSuffix("/") ? folder : folder + "/"
            for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
                out.directive("\(kind)_temp_path \(prefix)\(kind)_temp")
            }
        }
        out.blank()
    }

    private static func requestIDs(into out: inout NginxWriter) {
        out.comment(
            "The client's X-Request-ID when it is a plain token, else nginx's random one.",
            "Only [A-Za-z0-9._:-] is echoed, so the id is safe inside JSON bodies and logs."
        )
        out.block("map $http_x_request_id $swap_request_id") { out in
            out.directive("default $request_id")
            out.directive(#""~^[A-Za-z0-9._:-]{1,128}$" $http_x_request_id"#)
        }
        out.blank()
    }

    private static func logging(_ options: NginxOptions, into out: inout NginxWriter) {
        let fields = [
            #""time":"$time_iso8601""#, #""request_id":"$swap_request_id""#, #""remote_addr":"$remote_addr""#,
            #""host":"$host""#, #""method":"$request_method""#, #""uri":"$uri""#, #""protocol":"$server_protocol""#,
            #""status":$status"#, #""bytes_sent":$body_bytes_sent"#, #""request_time":$request_time"#,
            #""upstream_addr":"$upstream_addr""#, #""upstream_status":"$upstream_status""#,
            #""upstream_connect_time":"$upstream_connect_time""#, #""upstream_response_time":"$upstream_response_time""#,
            #""tls":"$ssl_protocol""#, #""user_agent":"$http_user_agent""#, #""referer":"$http_referer""#,
        ]
        out.comment(
            "One JSON object per request. $uri, not $request_uri: the query string can",
            "carry an access token (/ws?token=...). Upstream values can be lists or \"-\", so they are strings."
        )
        var lines = ["log_format swap_json escape=json"]
        for (index, pair) in stride(from: 0, to: fields.count, by: 3).enumerated() {
            let chunk = fields[pair..<min(pair + 3, fields.count)].joined(separator: ",")
            let open = index == 0 ? "{" : ""
            let close = pair + 3 >= fields.count ? "}" : ","
            lines.append("    '\(open)\(chunk)\(close)'")
        }
        out.directive(lines.joined(separator: "\n    "))
        out.directive("access_log \(options.paths.accessLog) swap_json")
        out.blank()
    }

    private static func compression(into out: inout NginxWriter) {
        out.comment("JSON only: tiles keep their strong ETags (gzip would weaken them).")
        out.directive("gzip on")
        out.directive("gzip_vary on")
        out.directive("gzip_proxied any")
        out.directive("gzip_comp_level 6")
        out.directive("gzip_min_length 1024")
        out.directive("gzip_types application/json application/problem+json text/plain")
        out.blank()
    }

    private static func rateLimit(_ topology: Topology, into out: inout NginxWriter) {
        let limit = topology.ingress.rateLimit
        out.comment("ingress.rate_limit per client address; excess requests get a JSON 429.")
        out.directive("limit_req_zone $binary_remote_addr zone=swap_ingress:10m rate=\(limit.rps)r/s")
        out.directive("limit_req_status 429")
        out.directive("limit_req_log_level warn")
        out.blank()
    }

    private static func resolverDirectives(_ resolver: String, into out: inout NginxWriter) {
        out.comment("Docker's embedded DNS; short validity so replicas that come and go are seen.")
        out.directive("resolver \(resolver) valid=10s ipv6=off")
        out.directive("resolver_timeout 5s")
        out.blank()
    }
}
