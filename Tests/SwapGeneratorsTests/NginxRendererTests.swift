import Foundation
import SwapGenerators
import SwapTopology
import Testing

@Suite("NginxRenderer", .serialized)
struct NginxRendererTests {
    static let environments = ["local", "dev", "staging", "prod"]

    func files(_ environment: String) throws -> (Topology, RenderOutput) {
        let topology = try Fixture.topology(environment)
        return (topology, NginxRenderer().render(topology))
    }

    func config(_ environment: String) throws -> String {
        try #require(try files(environment).1.files.first { $0.path == "\(environment)/nginx/nginx.conf" }).contents
    }

    @Test func goldenFiles() throws {
        var all: [GeneratedFile] = []
        for environment in Self.environments { all += try files(environment).1.files }
        try Golden.check(all, name: "nginx")
    }

    @Test func renderingIsDeterministic() throws {
        for environment in Self.environments {
            #expect(try files(environment).1.files == files(environment).1.files)
        }
    }

    @Test func everyTargetGetsAConfigAndLetsEncryptABootstrap() throws {
        for environment in Self.environments {
            let (topology, output) = try files(environment)
            let paths = output.files.map(\.path).sorted()
            let expected = topology.ingress.tls == .letsencrypt
                ? ["\(environment)/nginx/bootstrap.conf", "\(environment)/nginx/nginx.conf"] : ["\(environment)/nginx/nginx.conf"]
            #expect(paths == expected)
            for file in output.files { #expect(file.contents.hasPrefix(GeneratedHeader.hash(environment))) }
        }
        #expect(NginxRenderer().targets == [.processes, .compose, .swarm])
    }

    @Test func notesForLetsEncryptAndReplicatedIngress() throws {
        let prod = try files("prod").1.notes.map(\.message)
        #expect(prod.contains { $0.contains("bootstrap.conf") && $0.contains("/etc/letsencrypt/live/api.swap.example.com/") })
        #expect(prod.contains { $0.contains("rate_limit") && $0.contains("2 nginx replicas") })
        #expect(try files("dev").1.notes.isEmpty)
        #expect(try files("local").1.notes.isEmpty)
    }

    @Test func upstreamsAndLocationsComeFromTheTopology() throws {
        var topology = try Fixture.topology("local")
        let template = try #require(topology.service(named: "map"))
        var extra = template
        extra.name = "search"
        extra.port = Located(3200, at: template.port.location)
        extra.replicas = Located(3, at: template.replicas.location)
        extra.routes = [
            Route(path: Located("/search/", at: template.nameLocation)), Route(path: Located("/feed.v1", at: template.nameLocation)),
        ]
        topology.allServices.append(extra)
        let text = NginxConfig.render(topology, NginxOptions.local(topology))
        #expect(text.contains("upstream search_backend {"))
        for port in 3200...3202 { #expect(text.contains("server 127.0.0.1:\(port) max_fails=3 fail_timeout=10s;")) }
        #expect(text.contains("location ^~ /search/ {\n            proxy_pass http://search_backend;"))
        // A path without a trailing slash covers itself and what lies below, as a literal.
        #expect(text.contains("location ~ ^/feed\\.v1(?:/|$) {\n            proxy_pass http://search_backend;"))
        #expect(text.contains("location = /search {\n            return 404;"))
        // Services without routes get no upstream; the map service is reached through the gateway.
        #expect(!text.contains("map_backend"))
        // A disabled routed service disappears.
        if let index = topology.allServices.firstIndex(where: { $0.name == "search" }) { topology.allServices[index].enabled = false }
        #expect(!NginxConfig.render(topology, NginxOptions.local(topology)).contains("search_backend"))
        // Ports picked at run time by the harness replace the topology's.
        let picked = NginxConfig.render(topology, NginxOptions.local(topology, httpPort: 41000, httpsPort: 41001, ports: ["realtime": [41002, 41003]]))
        #expect(picked.contains("server 127.0.0.1:41003 max_fails"))
        #expect(picked.contains("listen 127.0.0.1:41001 ssl http2 default_server;"))
        #expect(picked.contains("add_header Location \"https://$host:41001$request_uri\" always;"))
    }

    @Test func ingressSettingsComeFromTheTopology() throws {
        let local = try config("local")
        #expect(local.contains("rate=50r/s"))
        #expect(local.contains("limit_req zone=swap_ingress burst=100 nodelay;"))
        #expect(local.contains("client_max_body_size 10m;"))
        var topology = try Fixture.topology("dev")
        topology.ingress.rateLimit = RateLimit(rps: 7, burst: 9)
        topology.ingress.maxBody = ByteSize(bytes: 3 << 20)
        let text = NginxRenderer().render(topology).files[0].contents
        #expect(text.contains("rate=7r/s") && text.contains("burst=9 nodelay") && text.contains("client_max_body_size 3m;"))
        #expect(text.contains("413 \"The request body is larger than 3MB.\""))
    }

    @Test func stickyRoutesHashAClientKeyNeverTheAddress() throws {
        for environment in Self.environments {
            let text = try config(environment)
            #expect(!text.contains("\n        ip_hash"))
            #expect(text.contains("upstream realtime_backend {\n        zone realtime_backend 64k;\n        hash $swap_sticky_key consistent;"))
            #expect(text.contains("map $arg_client_id $swap_sticky_key {"))
            #expect(!text.contains("upstream gateway_backend {\n        zone gateway_backend 64k;\n        hash"))
        }
        #expect(try config("local").contains("server 127.0.0.1:3101 max_fails"))
    }

    @Test func dockerTargetsUseDockerDNSAndTheModernImage() throws {
        let dev = try config("dev")
        #expect(dev.contains("resolver 127.0.0.11 valid=10s ipv6=off;"))
        #expect(dev.contains("server realtime:3100 resolve max_fails=3"))
        #expect(dev.contains("    http2 on;") && !dev.contains("ssl http2"))
        #expect(dev.contains("ssl_certificate /etc/nginx/certs/fullchain.pem;"))
        #expect(!dev.contains("add_header Strict-Transport-Security") && !dev.contains("acme-challenge") && !dev.contains("ssl_session_tickets"))
        #expect(dev.contains("server_name dev.swap.localhost;") && dev.contains("ssl_reject_handshake on;"))
        let prod = try config("prod")
        #expect(prod.contains("server tasks.gateway:3000 resolve") && prod.contains("server tasks.realtime:3100 resolve"))
        #expect(prod.contains("ssl_certificate /etc/letsencrypt/live/api.swap.example.com/fullchain.pem;"))
        #expect(prod.contains("add_header Strict-Transport-Security \"max-age=63072000; includeSubDomains\" always;"))
        #expect(prod.contains("location ^~ /.well-known/acme-challenge/ {\n            root /var/www/_letsencrypt;"))
        #expect(!prod.contains("ssl_stapling"))
        let local = try config("local")
        #expect(local.contains("listen 127.0.0.1:8443 ssl http2 default_server;") && !local.contains("http2 on"))
        #expect(local.contains("ssl_session_tickets off;") && !local.contains("resolver") && !local.contains("user "))
    }

    @Test func tlsFollowsMozillaIntermediate() throws {
        for environment in Self.environments {
            let text = try config(environment)
            #expect(text.contains("ssl_protocols TLSv1.2 TLSv1.3;"))
            #expect(text.contains("ssl_prefer_server_ciphers off;"))
            #expect(text.contains("ssl_session_cache shared:MozSSL:10m;"))
            #expect(!text.contains(":DHE-") && !text.contains(" DHE-") && !text.contains("TLSv1.1"))
        }
    }

    @Test func plainHTTPIngressWhenTLSIsNone() throws {
        var topology = try Fixture.topology("dev")
        topology.ingress.tls = .none
        let text = NginxRenderer().render(topology).files[0].contents
        #expect(!text.contains("ssl_certificate") && !text.contains("ssl_protocols") && !text.contains("443"))
        #expect(text.contains("location ^~ /api/ {"))
        #expect(!text.contains("@to_https"))
    }
}
