import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import LocalServers
import NIOCore
import NIOHTTP1
import ServiceKit
import ServiceTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(10)))
struct ProxyTests {
    /// Echoes what the service received, as the services' own handlers would see it.
    static func echoRoutes(_ router: Router<BasicRequestContext>) {
        router.on("/api/v1/echo", method: .get) { request, _ in try echo(request, body: "") }
        router.on("/api/v1/echo/**", method: .get) { request, _ in try echo(request, body: "") }
        router.on("/api/v1/echo/**", method: .post) { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            return try echo(request, body: String(buffer: body))
        }
    }

    static func echo(_ request: Request, body: String) throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let object: [String: Any] = ["path": request.head.path ?? "", "method": request.method.rawValue, "headers": headers, "body": body]
        let data = try JSONSerialization.data(withJSONObject: object)
        return Response(status: .ok, headers: [.contentType: "application/json", HTTPField.Name("X-Upstream")!: "echo"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    @Test func forwardsRequestIDIdempotencyKeyAndAuthorization() async throws {
        try await withUpstream(routes: Self.echoRoutes) { port in
            try await GatewayHarness.run(environment: [
                "UPSTREAM_ECHO_URL": "http://127.0.0.1:\(port)",
                "UPSTREAM_ECHO_PREFIXES": "/api/v1/echo",
            ]) { gateway in
                let token = gateway.token()
                let reply = try await gateway.send(
                    .POST, "/api/v1/echo/items?x=1&y=%2F",
                    headers: [
                        ("X-Request-ID", "req-abc-123"), ("Idempotency-Key", "key-42"),
                        ("Connection", "X-Secret-Hop"), ("X-Secret-Hop", "drop me"), ("X-Forwarded-For", "203.0.113.9"),
                    ],
                    json: #"{"amount": 5}"#, bearer: token
                )
                #expect(reply.status == 200)
                #expect(reply.header("X-Request-ID") == "req-abc-123")
                #expect(reply.header("X-Upstream") == "echo")
                let echoed = reply.json
                #expect(echoed["path"] as? String == "/api/v1/echo/items?x=1&y=%2F")
                #expect(echoed["body"] as? String == #"{"amount": 5}"#)
                let headers = try #require(echoed["headers"] as? [String: String])
                #expect(headers["x-request-id"] == "req-abc-123")
                #expect(headers["idempotency-key"] == "key-42")
                #expect(headers["authorization"] == "Bearer \(token)")
                #expect(headers["content-type"] == "application/json")
                #expect(headers["x-forwarded-proto"] == "http")
                #expect(headers["x-forwarded-for"]?.hasPrefix("203.0.113.9") == true)
                #expect(headers["x-secret-hop"] == nil)

                // Without a client id the gateway makes one, and the service sees the same.
                let generated = try await gateway.send(.GET, "/api/v1/echo", bearer: token)
                #expect(generated.status == 200)
                let id = try #require(generated.header("X-Request-ID"))
                #expect((generated.json["headers"] as? [String: String])?["x-request-id"] == id)
            }
        }
    }

    @Test func invalidTokensAre401BeforeAnyServiceIsCalled() async throws {
        let state = UpstreamState()
        try await withUpstream(routes: { router in
            router.get("/api/v1/echo") { _, _ in
                _ = state.hit()
                return "ok"
            }
        }) { port in
            try await GatewayHarness.run(environment: [
                "UPSTREAM_ECHO_URL": "http://127.0.0.1:\(port)",
                "UPSTREAM_ECHO_PREFIXES": "/api/v1/echo",
            ]) { gateway in
                let valid = gateway.token()
                let parts = valid.split(separator: ".").map(String.init)
                let now = Int(Date().timeIntervalSince1970)
                let otherUser = #"{"aud":"authenticated","email":"x@example.com","exp":\#(now + 600),"iat":\#(now),"role":"authenticated","sub":"\#(UUID().uuidString.lowercased())"}"#
                let tampered = [parts[0], Base64URL.encode(Data(otherUser.utf8)), parts[2]].joined(separator: ".")
                let noneHeader = Base64URL.encode(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
                let algNone = "\(noneHeader).\(parts[1])."
                let wrongKey = AccessToken(secret: "another-secret").sign(.init(sub: UUID().uuidString, email: "x@example.com", iat: now, exp: now + 600))
                let cases: [(String, String?)] = [
                    ("missing", nil),
                    ("expired", gateway.token(ttl: -10)),
                    ("tampered", tampered),
                    ("alg none", algNone),
                    ("wrong audience", gateway.token(audience: "service_role")),
                    ("wrong key", wrongKey),
                    ("garbage", "not.a.jwt"),
                ]
                for (name, token) in cases {
                    let reply = try await gateway.send(.GET, "/api/v1/echo", bearer: token)
                    #expect(reply.status == 401, "\(name)")
                    #expect(reply.errorCode == "unauthorized", "\(name)")
                    #expect(reply.errorRequestID == reply.header("X-Request-ID"), "\(name)")
                }
                #expect(state.hits == 0)
                let ok = try await gateway.send(.GET, "/api/v1/echo", bearer: valid)
                #expect(ok.status == 200)
                #expect(state.hits == 1)
            }
        }
    }

    @Test func routesByLongestPrefixAndUnknownPathsAre404() async throws {
        try await withUpstream(routes: { router in
            router.get("/api/v1/listings/**") { _, _ in "listings" }
        }) { listings in
            try await withUpstream(routes: { router in
                router.get("/api/v1/listings/nearby") { _, _ in "nearby" }
            }) { nearby in
                try await GatewayHarness.run(environment: [
                    "UPSTREAM_MAP_URL": "http://127.0.0.1:\(listings)",
                    "UPSTREAM_MAP_PREFIXES": "/api/v1/listings",
                    "UPSTREAM_NEARBY_URL": "http://127.0.0.1:\(nearby)/",
                    "UPSTREAM_NEARBY_PREFIXES": "/api/v1/listings/nearby",
                ]) { gateway in
                    let token = gateway.token()
                    #expect(try await gateway.send(.GET, "/api/v1/listings/123", bearer: token).text == "listings")
                    #expect(try await gateway.send(.GET, "/api/v1/listings/nearby", bearer: token).text == "nearby")
                    let unknown = try await gateway.send(.GET, "/api/v1/listingsx", bearer: token)
                    #expect(unknown.status == 404)
                    #expect(unknown.errorCode == "not_found")
                    let other = try await gateway.send(.GET, "/api/v2/anything", bearer: token)
                    #expect(other.status == 404)
                    let traversal = try await gateway.send(.GET, "/api/v1/listings/%2E%2E/admin", bearer: token)
                    #expect(traversal.status == 400)
                    let outside = try await gateway.send(.GET, "/nowhere")
                    #expect(outside.status == 404)
                    #expect(outside.errorCode == "not_found")
                }
            }
        }
    }

    @Test func streamsResponseBodiesWithoutBuffering() async throws {
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        try await withUpstream(routes: { router in
            router.get("/api/v1/stream/out") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "first|"))
                    // Only continues once the client has seen the first chunk through the gateway.
                    var waiting = gate.makeAsyncIterator()
                    _ = await waiting.next()
                    try await writer.write(ByteBuffer(string: "second"))
                    try await writer.finish(nil)
                })
            }
        }) { port in
            try await GatewayHarness.run(environment: [
                "UPSTREAM_STREAM_URL": "http://127.0.0.1:\(port)",
                "UPSTREAM_STREAM_PREFIXES": "/api/v1/stream",
            ]) { gateway in
                var request = HTTPClientRequest(url: gateway.url("/api/v1/stream/out"))
                request.headers.add(name: "Authorization", value: "Bearer \(gateway.token())")
                let response = try await gateway.http.execute(request, timeout: .seconds(10))
                #expect(response.status == .ok)
                let text = try await within(.seconds(10), "the first chunk before the upstream finished") {
                    var received = ""
                    var chunks = response.body.makeAsyncIterator()
                    while !received.contains("first|"), let chunk = try await chunks.next() {
                        received += String(buffer: chunk)
                    }
                    open.yield()
                    while let chunk = try await chunks.next() { received += String(buffer: chunk) }
                    return received
                }
                #expect(text == "first|second")
            }
        }
    }

    @Test func streamsRequestBodiesWithoutBuffering() async throws {
        let (firstSeen, sawFirst) = AsyncStream.makeStream(of: Void.self)
        try await withUpstream(routes: { router in
            router.post("/api/v1/stream/in") { request, _ in
                var received = ""
                for try await chunk in request.body {
                    received += String(buffer: chunk)
                    if received.contains("part-one|") { sawFirst.yield() }
                }
                return received
            }
        }) { port in
            try await GatewayHarness.run(environment: [
                "UPSTREAM_STREAM_URL": "http://127.0.0.1:\(port)",
                "UPSTREAM_STREAM_PREFIXES": "/api/v1/stream",
            ]) { gateway in
                let (chunks, writer) = AsyncStream.makeStream(of: ByteBuffer.self)
                var request = HTTPClientRequest(url: gateway.url("/api/v1/stream/in"))
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(gateway.token())")
                request.body = .stream(chunks, length: .unknown)
                writer.yield(ByteBuffer(string: "part-one|"))
                let streamed = request
                let body = try await within(.seconds(15), "the service saw the first part before the client sent the rest") {
                    async let response = gateway.http.execute(streamed, timeout: .seconds(15))
                    var seen = firstSeen.makeAsyncIterator()
                    _ = await seen.next()
                    writer.yield(ByteBuffer(string: "part-two"))
                    writer.finish()
                    return String(buffer: try await response.body.collect(upTo: 1 << 20))
                }
                #expect(body == "part-one|part-two")
            }
        }
    }

    @Test func rateLimitIsPerUserWithRetryAfter() async throws {
        try await withUpstream(routes: { router in router.get("/api/v1/echo") { _, _ in "ok" } }) { port in
            try await GatewayHarness.run(environment: [
                "UPSTREAM_ECHO_URL": "http://127.0.0.1:\(port)",
                "UPSTREAM_ECHO_PREFIXES": "/api/v1/echo",
                "RATE_LIMIT_PER_USER_RPS": "0.5",
                "RATE_LIMIT_PER_USER_BURST": "2",
            ]) { gateway in
                let alice = gateway.token()
                #expect(try await gateway.send(.GET, "/api/v1/echo", bearer: alice).status == 200)
                #expect(try await gateway.send(.GET, "/api/v1/echo", bearer: alice).status == 200)
                let limited = try await gateway.send(.GET, "/api/v1/echo", bearer: alice)
                #expect(limited.status == 429)
                #expect(limited.errorCode == "rate_limited")
                let retryAfter = try #require(limited.header("Retry-After").flatMap(Int.init))
                #expect((1...2).contains(retryAfter))
                // Another user has a bucket of their own.
                #expect(try await gateway.send(.GET, "/api/v1/echo", bearer: gateway.token()).status == 200)
            }
        }
    }
}
