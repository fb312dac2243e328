import SwapTopology

/// Everything about an nginx deployment that is not in the topology: where
/// the replicas listen, where files live, which nginx runs it. The generator
/// fills it for each target (`docker(_:)`, `local(_:)`); the native harness
/// builds the local one with the ports and folders it picked at run time.
public struct NginxOptions: Sendable, Equatable {
    /// The nginx release the configuration is written for.
    public enum Flavour: String, Sendable, Equatable {
        /// Debian bookworm's nginx 1.22: `listen ... ssl http2`, session
        /// tickets switched off (nginx < 1.23.2 never rotates their keys).
        case legacy
        /// The official image, nginx >= 1.27.3: `http2 on;`, and upstream
        /// servers that re-resolve their DNS name (`server NAME resolve`).
        case modern
    }

    /// Certificate files and the HTTPS policy that depends on the CA.
    public struct TLS: Sendable, Equatable {
        public var certificate: String
        public var certificateKey: String
        /// OCSP stapling needs a CA that still runs OCSP responders (Let's
        /// Encrypt shut theirs down in 2025) and this chain of trust.
        public var staplingTrustedCertificate: String?
        /// `Strict-Transport-Security`: only for certificates browsers trust,
        /// or a self-signed development host would be locked out.
        public var hsts: Bool

        public init(certificate: String, certificateKey: String, staplingTrustedCertificate: String? = nil, hsts: Bool = false) {
            self.certificate = certificate
            self.certificateKey = certificateKey
            self.staplingTrustedCertificate = staplingTrustedCertificate
            self.hsts = hsts
        }
    }

    /// Where nginx keeps its own files. Relative paths are relative to the
    /// prefix (`nginx -p PREFIX -c nginx.conf`); nil leaves nginx's built-in default.
    public struct Paths: Sendable, Equatable {
        public var pid: String?
        /// A path, or `stderr`.
        public var errorLog: String
        public var accessLog: String
        /// The folder that holds `client_body_temp`, `proxy_temp`, ... (`""`: the
        /// prefix itself; nil: nginx's built-in paths).
        public var tempFolder: String?

        public init(pid: String? = nil, errorLog: String = "stderr", accessLog: String = "/dev/stdout", tempFolder: String? = nil) {
            self.pid = pid
            self.errorLog = errorLog
            self.accessLog = accessLog
            self.tempFolder = tempFolder
        }
    }

    public var flavour: Flavour
    /// `host:port` of every replica of every routed service, by service name.
    /// A service missing here is reached at its Docker DNS name and topology port.
    public var upstreams: [String: [String]]
    /// Plain-HTTP listen address (`80`, `127.0.0.1:8080`).
    public var httpListen: String
    /// HTTPS listen address (`443`, `127.0.0.1:8443`).
    public var httpsListen: String
    /// The HTTPS port clients see, used in redirects (443 is left out of the URL).
    public var httpsPublicPort: Int
    /// nil serves the API over plain HTTP (`ingress.tls: none`).
    public var tls: TLS?
    public var paths: Paths
    /// DNS server for names resolved at run time (Docker's embedded 127.0.0.11).
    public var resolver: String?
    /// Add `resolve` to upstream servers so scaled or rescheduled replicas are
    /// picked up without a reload (needs `.modern` and a `resolver`).
    public var resolveUpstreams: Bool
    /// certbot's webroot for ACME http-01 challenges; nil: no challenge location.
    public var acmeWebroot: String?
    /// Worker user when the master runs as root (the official image's `nginx`).
    public var user: String?
    public var workerConnections: Int
    /// Answer only for the ingress domain: requests for any other host are
    /// dropped (444) and TLS handshakes without its name rejected.
    public var rejectUnknownHosts: Bool

    public init(
        flavour: Flavour, upstreams: [String: [String]], httpListen: String, httpsListen: String, httpsPublicPort: Int,
        tls: TLS?, paths: Paths, resolver: String? = nil, resolveUpstreams: Bool = false, acmeWebroot: String? = nil,
        user: String? = nil, workerConnections: Int = 1024, rejectUnknownHosts: Bool = false
    ) {
        self.flavour = flavour
        self.upstreams = upstreams
        self.httpListen = httpListen
        self.httpsListen = httpsListen
        self.httpsPublicPort = httpsPublicPort
        self.tls = tls
        self.paths = paths
        self.resolver = resolver
        self.resolveUpstreams = resolveUpstreams
        self.acmeWebroot = acmeWebroot
        self.user = user
        self.workerConnections = workerConnections
        self.rejectUnknownHosts = rejectUnknownHosts
    }
}

public extension NginxOptions {
    /// certbot's webroot inside the nginx and certbot containers.
    static let dockerACMEWebroot = "/var/www/_letsencrypt"
    /// Where a self-signed (dev) certificate is mounted in the nginx container.
    static let dockerCertificateFolder = "/etc/nginx/certs"
    /// The official image's pid file.
    static let dockerPIDFile = "/var/run/nginx.pid"

    /// Where certbot puts the certificate for a domain.
    static func letsencryptFolder(_ domain: String) -> String { "/etc/letsencrypt/live/\(domain)" }

    /// The official nginx image under compose or Swarm: Docker DNS names,
    /// re-resolved through Docker's embedded DNS server.
    static func docker(_ topology: Topology) -> NginxOptions {
        let domain = topology.ingress.domain ?? "localhost"
        var upstreams: [String: [String]] = [:]
        for service in topology.services where !service.routes.isEmpty {
            // Swarm: `tasks.NAME` lists every task, so nginx balances (and hashes)
            // per replica; the plain name is one virtual IP that hides them.
            let host = topology.target == .swarm ? "tasks.\(service.name)" : service.name
            upstreams[service.name] = ["\(host):\(service.port.value)"]
        }
        let tls: TLS? = switch topology.ingress.tls {
        case .none: nil
        case .selfSigned:
            TLS(certificate: "\(dockerCertificateFolder)/fullchain.pem", certificateKey: "\(dockerCertificateFolder)/privkey.pem")
        case .letsencrypt:
            TLS(certificate: "\(letsencryptFolder(domain))/fullchain.pem", certificateKey: "\(letsencryptFolder(domain))/privkey.pem", hsts: true)
        }
        return NginxOptions(
            flavour: .modern, upstreams: upstreams, httpListen: "80", httpsListen: "443", httpsPublicPort: 443, tls: tls,
            paths: Paths(pid: dockerPIDFile), resolver: "127.0.0.11", resolveUpstreams: true,
            acmeWebroot: topology.ingress.tls == .letsencrypt ? dockerACMEWebroot : nil,
            user: "nginx", workerConnections: 4096, rejectUnknownHosts: true
        )
    }

    /// Debian's nginx run by `swapctl up` from a prefix folder holding
    /// `certs/fullchain.pem` and `certs/privkey.pem`; replica i of a service
    /// listens on 127.0.0.1 at the service's port + i unless `ports` says otherwise.
    static func local(
        _ topology: Topology, httpPort: Int = 8080, httpsPort: Int = 8443, ports: [String: [Int]] = [:]
    ) -> NginxOptions {
        var upstreams: [String: [String]] = [:]
        for service in topology.services where !service.routes.isEmpty {
            let replicaPorts = ports[service.name] ?? (0..<max(1, service.replicas.value)).map { service.port.value + $0 }
            upstreams[service.name] = replicaPorts.map { "127.0.0.1:\($0)" }
        }
        let tls: TLS? = topology.ingress.tls == .none ? nil : TLS(certificate: "certs/fullchain.pem", certificateKey: "certs/privkey.pem")
        return NginxOptions(
            flavour: .legacy, upstreams: upstreams, httpListen: "127.0.0.1:\(httpPort)", httpsListen: "127.0.0.1:\(httpsPort)",
            httpsPublicPort: httpsPort, tls: tls,
            paths: Paths(pid: "nginx.pid", errorLog: "error.log", accessLog: "access.log", tempFolder: ""),
            workerConnections: 1024
        )
    }
}
