import Foundation
import SwapGenerators
import SwapTopology
import Testing

/// Debian's nginx, started for real with the local options on free loopback
/// ports in front of a small echo server, checked with curl against the CA
/// that signed its certificate. Every request goes to 127.0.0.1.
@Suite("NginxLive", .serialized, .timeLimit(.minutes(2)))
struct NginxLiveTests {
    struct Response {
        var status: Int
        /// Lower-cased names, every value of a repeated header.
        var headers: [String: [String]]
        var body: String

        func header(_ name: String) -> String? { headers[name.lowercased()]?.first }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
        /// What the echo server saw: its request headers.
        var upstreamHeaders: [String: String] { json["headers"] as? [String: String] ?? [:] }
    }

    /// Answers every GET/POST with the path and headers it received, and a
    /// X-Request-ID of its own that nginx must hide.
    static let echoServer = """
        import json, signal, sys
        from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])  # blocked in the test's thread
        class Echo(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length: self.rfile.read(length)
                body = json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Request-ID", "set-by-upstream")
                self.end_headers()
                self.wfile.write(body)
            do_GET = do_POST = answer
            def log_message(self, *args): pass
        ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
        """

    struct Ingress {
        var folder: URL
        var httpPort: Int
        var httpsPort: Int

        func curl(_ arguments: [String]) throws -> Response {
            let base = ["-sS", "-i", "--cacert", folder.appendingPathComponent("ca.pem").path,
                        "--resolve", "localhost:\(httpsPort):127.0.0.1", "--max-time", "10"]
            let result = try ExternalTool.run("curl", base + arguments)
            try #require(result.status == 0, "curl \(arguments.joined(separator: " ")) failed:\n\(result.output)")
            return try NginxLiveTests.parse(result.output)
        }

        func https(_ path: String, _ extra: [String] = []) throws -> Response {
            try curl(extra + ["https://localhost:\(httpsPort)\(path)"])
        }
    }

    static func parse(_ output: String) throws -> Response {
        var rest = Substring(output)
        while true {
            let split = try #require(rest.range(of: "\r\n\r\n"), "no header block in:\n\(output)")
            let lines = rest[..<split.lowerBound].split(separator: "\r\n")
            let status = try #require(Int(lines.first?.split(separator: " ").dropFirst().first ?? ""), "status line: \(lines.first ?? "")")
            rest = rest[split.upperBound...]
            if (100..<200).contains(status) { continue }
            var headers: [String: [String]] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased(), default: []].append(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            return Response(status: status, headers: headers, body: String(rest))
        }
    }

    /// The request id nginx made up: 32 hex digits.
    static func isGenerated(_ id: String?) -> Bool {
        guard let id else { return false }
        return id.count == 32 && id.allSatisfy(\.isHexDigit)
    }

    /// The JSON error shape of API.md, with the id the response header carries.
    static func expectJSONError(_ response: Response, status: Int, code: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(response.status == status, "\(response.body)", sourceLocation: sourceLocation)
        #expect(response.header("content-type") == "application/json", sourceLocation: sourceLocation)
        #expect(response.error["code"] as? String == code, "\(response.body)", sourceLocation: sourceLocation)
        #expect(!(response.error["message"] as? String ?? "").isEmpty, sourceLocation: sourceLocation)
        #expect(response.header("x-request-id") != nil, sourceLocation: sourceLocation)
        #expect(response.error["request_id"] as? String == response.header("x-request-id"), sourceLocation: sourceLocation)
    }

    @Test func localIngressKeepsTheAPIContract() async throws {
        var topology = try Fixture.topology("local")
        // A routed service whose replica is down: nginx's own 502.
        let template = try #require(topology.service(named: "map"))
        var ghost = template
        ghost.name = "ghost"
        ghost.routes = [Route(path: Located("/ghost/", at: template.nameLocation))]
        topology.allServices.append(ghost)

        let folder = try ExternalTool.scratch([("echo.py", Self.echoServer)])
        defer { try? FileManager.default.removeItem(at: folder) }
        try NginxTestTools.makeCertificates(in: folder)
        let (upstreamPort, deadPort) = (try NginxTestTools.freePort(), try NginxTestTools.freePort())
        let ingress = Ingress(folder: folder, httpPort: try NginxTestTools.freePort(), httpsPort: try NginxTestTools.freePort())

        var ports: [String: [Int]] = [:]
        for service in topology.services where !service.routes.isEmpty { ports[service.name] = [upstreamPort] }
        ports["ghost"] = [deadPort]
        let options = NginxOptions.local(topology, httpPort: ingress.httpPort, httpsPort: ingress.httpsPort, ports: ports)
        try Data(NginxConfig.render(topology, options).utf8).write(to: folder.appendingPathComponent("nginx.conf"))

        let upstream = try NginxTestTools.Background("python3", ["echo.py", String(upstreamPort)], in: folder, log: "upstream.log")
        defer { upstream.stop() }
        let nginx = try NginxTestTools.Background(
            "nginx", ["-p", folder.path, "-c", "nginx.conf", "-g", "daemon off;"], in: folder, log: "nginx.log"
        )
        defer { nginx.stop() }
        try await waitFor("http://127.0.0.1:\(ingress.httpPort)\(NginxConfig.healthPath)", nginx)
        try await waitFor("http://127.0.0.1:\(upstreamPort)/", upstream)

        // Plain HTTP: a 301 to the HTTPS port, with the JSON body and an id.
        let redirect = try ingress.curl(["http://127.0.0.1:\(ingress.httpPort)/api/v1/wallet?limit=5"])
        Self.expectJSONError(redirect, status: 301, code: "https_required")
        #expect(redirect.header("location") == "https://127.0.0.1:\(ingress.httpsPort)/api/v1/wallet?limit=5")
        #expect(Self.isGenerated(redirect.header("x-request-id")))

        // Unknown paths, and names that only start like a route: JSON 404.
        for path in ["/unknown", "/api", "/wsx", "/healthz"] {
            let missing = try ingress.https(path)
            Self.expectJSONError(missing, status: 404, code: "not_found")
            #expect(Self.isGenerated(missing.header("x-request-id")))
            #expect(missing.header("x-content-type-options") == "nosniff")
            #expect(missing.header("x-frame-options") == "DENY")
        }

        // A routed path reaches the upstream with the forwarding headers; the
        // client's id is passed on and echoed once (the upstream's is hidden).
        let routed = try ingress.https("/api/v1/wallet", ["-H", "X-Request-ID: client-id-1"])
        #expect(routed.status == 200)
        #expect(routed.json["path"] as? String == "/api/v1/wallet")
        #expect(routed.headers["x-request-id"] == ["client-id-1"])
        let seen = routed.upstreamHeaders
        #expect(seen["x-request-id"] == "client-id-1")
        #expect(seen["x-forwarded-proto"] == "https" && seen["x-forwarded-for"] == "127.0.0.1" && seen["host"] == "localhost")
        #expect(seen["connection"] == nil, "keepalive: nginx must not send Connection: close upstream")

        // An id that could break JSON or logs is replaced by nginx's own.
        let unsafe = try ingress.https("/api/v1/wallet", ["-H", #"X-Request-ID: bad"id"#])
        #expect(Self.isGenerated(unsafe.header("x-request-id")))
        #expect(unsafe.upstreamHeaders["x-request-id"] == unsafe.header("x-request-id"))

        // Client ids are echoed on nginx's own errors too.
        let missing = try ingress.https("/nowhere", ["-H", "X-Request-ID: trace.42"])
        Self.expectJSONError(missing, status: 404, code: "not_found")
        #expect(missing.header("x-request-id") == "trace.42")

        // /health goes to the gateway; the WebSocket route passes the upgrade.
        #expect(try ingress.https("/health").json["path"] as? String == "/health")
        let upgrade = try ingress.https("/ws?token=abc", ["--http1.1", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket"])
        #expect(upgrade.json["path"] as? String == "/ws?token=abc")
        #expect(upgrade.upstreamHeaders["upgrade"] == "websocket" && upgrade.upstreamHeaders["connection"] == "upgrade")

        // A replica that is down: nginx's own JSON 502.
        Self.expectJSONError(try ingress.https("/ghost/x"), status: 502, code: "bad_gateway")

        // A request line nginx cannot parse: JSON 400.
        Self.expectJSONError(try ingress.https("/x", ["--http1.1", "-X", "NOT A METHOD"]), status: 400, code: "bad_request")

        // A body above ingress.max_body (10m): JSON 413.
        let big = folder.appendingPathComponent("big.bin")
        try Data(count: Int(topology.ingress.maxBody.bytes) + 1024).write(to: big)
        let tooLarge = try ingress.https("/api/v1/wallet/deposits", ["--http1.1", "--data-binary", "@\(big.path)"])
        Self.expectJSONError(tooLarge, status: 413, code: "payload_too_large")

        try tlsIsMozillaIntermediate(ingress)
        try floodGetsRateLimited(ingress, topology, nginx)
    }

    /// sslyze's Mozilla "intermediate" compliance check, trusting the test CA.
    func tlsIsMozillaIntermediate(_ ingress: Ingress) throws {
        let result = try ExternalTool.run("sslyze", [
            "--mozilla_config=intermediate", "--certinfo_ca_file", ingress.folder.appendingPathComponent("ca.pem").path,
            "localhost:\(ingress.httpsPort){127.0.0.1}",
        ])
        #expect(result.status == 0, "sslyze: not Mozilla intermediate compliant:\n\(result.output)")
    }

    /// Three bursts' worth of requests at once: the excess is a JSON 429.
    func floodGetsRateLimited(_ ingress: Ingress, _ topology: Topology, _ nginx: NginxTestTools.Background) throws {
        let count = topology.ingress.rateLimit.burst * 3
        let requests = (0..<count).map { index in
            "url = \"https://localhost:\(ingress.httpsPort)/api/flood\"\noutput = \"\(ingress.folder.path)/flood-\(index).txt\"\n"
        }
        let config = ingress.folder.appendingPathComponent("flood.curlrc")
        try Data(requests.joined().utf8).write(to: config)
        let result = try ExternalTool.run("curl", [
            "-sS", "-i", "--cacert", ingress.folder.appendingPathComponent("ca.pem").path,
            "--resolve", "localhost:\(ingress.httpsPort):127.0.0.1", "--max-time", "30",
            // Concurrent, so the flood outruns the rate even on a loaded machine.
            "--parallel", "--parallel-max", "50", "-K", config.path,
        ])
        try #require(result.status == 0, "\(result.output)")
        let responses = try (0..<count).map { index in
            try Self.parse(String(contentsOf: ingress.folder.appendingPathComponent("flood-\(index).txt"), encoding: .utf8))
        }
        let limited = responses.filter { $0.status == 429 }
        #expect(responses.contains { $0.status == 200 })
        #expect(!limited.isEmpty, "no 429 among \(count) requests; nginx log:\n\(nginx.output)")
        if let first = limited.first { Self.expectJSONError(first, status: 429, code: "rate_limited") }
    }

    func waitFor(_ url: String, _ process: NginxTestTools.Background) async throws {
        for _ in 0..<100 {
            let probe = try ExternalTool.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", url])
            if probe.output == "200" { return }
            try #require(process.process.isRunning, "exited early:\n\(process.output)")
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(url) did not answer 200 within 10 s:\n\(process.output)")
    }
}
