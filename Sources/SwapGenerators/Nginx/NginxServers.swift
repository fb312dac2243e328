import SwapTopology

/// The server blocks: HTTP (redirect and ACME), HTTPS (the API), and the
/// default servers that turn away unknown host names.
enum NginxServers {
    /// Mozilla intermediate (guidelines 6.0): TLS 1.2 ciphers; TLS 1.3 suites are OpenSSL's defaults.
    static let ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ]

    static func tlsDefaults(_ options: NginxOptions, into out: inout NginxWriter) {
        out.comment("TLS: Mozilla intermediate (no DHE suites in 6.0, so no dhparam file).")
        out.directive("ssl_protocols TLSv1.2 TLSv1.3")
        out.directive("ssl_ciphers \(ciphers.joined(separator: ":"))")
        out.directive("ssl_prefer_server_ciphers off")
        out.directive("ssl_ecdh_curve X25519:prime256v1:secp384r1")
        out.directive("ssl_session_timeout 1d")
        out.directive("ssl_session_cache shared:MozSSL:10m")
        if options.flavour == .legacy {
            out.comment("nginx < 1.23.2 never rotates session ticket keys: keep tickets off.")
            out.directive("ssl_session_tickets off")
        }
        out.blank()
    }

    static func servers(_ topology: Topology, _ options: NginxOptions, into out: inout NginxWriter) {
        if options.rejectUnknownHosts { defaultServers(options, into: &out) }
        if options.tls != nil {
            redirectServer(topology, options, into: &out)
            apiServer(topology, options, https: true, into: &out)
        } else {
            apiServer(topology, options, https: false, into: &out)
        }
    }

    static func bootstrapServer(_ topology: Topology, _ options: NginxOptions, into out: inout NginxWriter) {
        out.block("server") { out in
            out.directive("listen \(options.httpListen) default_server")
            out.directive("server_name \(serverName(topology))")
            securityHeaders(hsts: false, into: &out)
            acmeLocation(options, into: &out)
            healthLocation(into: &out)
            out.block("location /") { $0.directive("return 503") }
            NginxErrorPages.write(topology, https: false, into: &out)
        }
    }

    private static func serverName(_ topology: Topology) -> String { topology.ingress.domain ?? "localhost" }

    private static func defaultMarker(_ options: NginxOptions) -> String {
        options.rejectUnknownHosts ? "" : " default_server"
    }

    private static func httpsListen(_ options: NginxOptions, defaultServer: Bool) -> String {
        let http2 = options.flavour == .legacy ? " http2" : ""
        return "listen \(options.httpsListen) ssl\(http2)\(defaultServer ? " default_server" : "")"
    }

    /// Requests for other host names (scanners, a stale DNS record) get no
    /// answer: 444 closes the connection, and a TLS handshake without the
    /// domain's name is refused before any certificate is shown.
    private static func defaultServers(_ options: NginxOptions, into out: inout NginxWriter) {
        out.comment("Unknown host names: closed without an answer.")
        out.block("server") { out in
            out.directive("listen \(options.httpListen) default_server")
            out.directive("server_name _")
            healthLocation(into: &out)
            out.block("location /") { $0.directive("return 444") }
        }
        out.blank()
        if options.tls != nil {
            out.block("server") { out in
                out.directive(httpsListen(options, defaultServer: true))
                if options.flavour == .modern { out.directive("http2 on") }
                out.directive("server_name _")
                out.directive("ssl_reject_handshake on")
            }
            out.blank()
        }
    }

    private static func redirectServer(_ topology: Topology, _ options: NginxOptions, into out: inout NginxWriter) {
        let port = options.httpsPublicPort == 443 ? "" : ":\(options.httpsPublicPort)"
        let target = "https://$host\(port)$request_uri"
        out.comment(options.acmeWebroot == nil
            ? "Plain HTTP: a 301 to HTTPS with a JSON body."
            : "Plain HTTP: ACME challenges, else a 301 to HTTPS with a JSON body.")
        out.block("server") { out in
            out.directive("listen \(options.httpListen)\(defaultMarker(options))")
            out.directive("server_name \(serverName(topology))")
            securityHeaders(hsts: false, into: &out)
            acmeLocation(options, into: &out)
            if !options.rejectUnknownHosts { healthLocation(into: &out) }
            out.comment("`return 301` would send nginx's HTML page: answer 418 internally, then", "turn it into a 301 whose body is the JSON error.")
            out.block("location /") { out in
                out.directive("error_page 418 =301 @to_https")
                out.directive("return 418")
            }
            out.block("location @to_https") { out in
                securityHeaders(hsts: false, into: &out)
                out.directive("add_header Location \"\(target)\" always")
                out.directive("return 200 '\(NginxErrorPages.body(code: "https_required", message: "Use HTTPS; see the Location header."))'")
            }
            NginxErrorPages.write(topology, https: false, into: &out)
        }
        out.blank()
    }

    private static func apiServer(_ topology: Topology, _ options: NginxOptions, https: Bool, into out: inout NginxWriter) {
        let burst = topology.ingress.rateLimit.burst
        out.comment("The API: only the paths the topology routes; anything else is a JSON 404.")
        out.block("server") { out in
            if https, let tls = options.tls {
                out.directive(httpsListen(options, defaultServer: !options.rejectUnknownHosts))
                if options.flavour == .modern { out.directive("http2 on") }
                out.directive("server_name \(serverName(topology))")
                out.directive("ssl_certificate \(tls.certificate)")
                out.directive("ssl_certificate_key \(tls.certificateKey)")
                if let chain = tls.staplingTrustedCertificate {
                    out.directive("ssl_stapling on")
                    out.directive("ssl_stapling_verify on")
                    out.directive("ssl_trusted_certificate \(chain)")
                } else {
                    out.comment("No OCSP stapling: self-signed and Let's Encrypt certificates have no OCSP responder.")
                }
            } else {
                out.directive("listen \(options.httpListen)\(defaultMarker(options))")
                out.directive("server_name \(serverName(topology))")
                if !options.rejectUnknownHosts { healthLocation(into: &out) }
            }
            out.blank()
            securityHeaders(hsts: options.tls?.hsts ?? false, into: &out)
            out.directive("limit_req zone=swap_ingress burst=\(burst) nodelay")
            out.blank()
            NginxProxy.locations(topology, into: &out)
            out.block("location /") { $0.directive("return 404") }
            out.blank()
            NginxErrorPages.write(topology, https: https, into: &out)
        }
    }

    /// Sent with `always`, so nginx's own errors carry them too. A location
    /// with any `add_header` of its own must repeat these.
    private static func securityHeaders(hsts: Bool, into out: inout NginxWriter) {
        out.directive("add_header X-Request-ID $swap_request_id always")
        out.directive("add_header X-Content-Type-Options nosniff always")
        out.directive("add_header X-Frame-Options DENY always")
        out.directive("add_header Content-Security-Policy \"default-src 'none'; frame-ancestors 'none'\" always")
        out.directive("add_header Referrer-Policy strict-origin-when-cross-origin always")
        if hsts { out.directive("add_header Strict-Transport-Security \"max-age=63072000; includeSubDomains\" always") }
    }

    private static func acmeLocation(_ options: NginxOptions, into out: inout NginxWriter) {
        guard let webroot = options.acmeWebroot else { return }
        out.comment("certbot --webroot -w \(webroot): challenges are served, never redirected.")
        out.block("location ^~ /.well-known/acme-challenge/") { out in
            out.directive("root \(webroot)")
            out.directive("default_type text/plain")
            out.directive("try_files $uri =404")
        }
    }

    private static func healthLocation(into out: inout NginxWriter) {
        out.block("location = \(NginxConfig.healthPath)") { out in
            out.directive("access_log off")
            out.directive(#"return 200 '{"status":"ok"}\n'"#)
        }
    }
}
