import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceKit
import Synchronization

/// Timeouts and retries for calls to the services.
public struct ProxySettings: Sendable {
    /// How long establishing a TCP connection may take.
    public var connectTimeout: Duration
    /// How long the upstream may take to send the response head, and the
    /// longest silence while a body streams.
    public var readTimeout: Duration
    /// Extra attempts for idempotent requests whose connection could not be made.
    public var retries: Int

    public init(connectTimeout: Duration = .seconds(2), readTimeout: Duration = .seconds(30), retries: Int = 2) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.retries = retries
    }

    /// The client the proxy and `/health` share: no redirects followed (the
    /// client must see them), no decompression, and no built-in retrying of
    /// connection establishment, so a service that is down fails at once and
    /// only ``ReverseProxy`` decides about retries.
    func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.timeout = .init(connect: .init(connectTimeout), read: .init(readTimeout))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: NIOSingletons.posixEventLoopGroup, configuration: configuration)
    }
}

/// Forwards a request to its upstream with streamed bodies in both
/// directions, through the upstream's circuit breaker.
struct ReverseProxy: Sendable {
    let client: HTTPClient
    let settings: ProxySettings
    let breakers: [String: CircuitBreaker]

    /// Connection-level headers that describe one hop, never forwarded (RFC 9110 7.6.1).
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]
    static let idempotentMethods: Set<HTTPRequest.Method> = [.get, .head, .options, .put, .delete]

    func forward(_ request: Request, to upstream: Upstream, context: ServiceRequestContext) async throws -> Response {
        guard let target = request.head.path, target.hasPrefix("/") else {
            throw APIError.badRequest("malformed request target")
        }
        guard let breaker = breakers[upstream.name] else {
            throw APIError.notFound("no service handles this path")
        }
        guard let permit = breaker.acquire() else {
            var headers = HTTPFields()
            headers[.retryAfter] = String(breaker.secondsUntilProbe())
            throw APIError(
                .serviceUnavailable, code: "upstream_unavailable",
                message: "the \(upstream.name) service is unavailable; try again later", headers: headers
            )
        }
        let method = request.method
        let idempotent = Self.idempotentMethods.contains(method)
        let headers = Self.upstreamHeaders(for: request, context: context)
        let body = Self.bodyLength(of: request)
        let bodyStarted = Flag()

        var attempt = 0
        while true {
            var outgoing = HTTPClientRequest(url: upstream.baseURL + target)
            outgoing.method = NIOHTTP1.HTTPMethod(rawValue: method.rawValue)
            outgoing.headers = headers
            if let body {
                outgoing.body = .stream(TrackedBody(base: request.body, started: bodyStarted), length: body)
            }
            do {
                let response = try await client.execute(outgoing, timeout: .init(settings.readTimeout), logger: context.logger)
                if [502, 503, 504].contains(response.status.code) {
                    breaker.recordFailure(permit)
                } else {
                    breaker.recordSuccess(permit)
                }
                return Response(
                    status: HTTPResponse.Status(code: Int(response.status.code)),
                    headers: Self.clientHeaders(from: response.headers),
                    body: ResponseBody(asyncSequence: response.body)
                )
            } catch {
                if Task.isCancelled {
                    breaker.release(permit)
                    throw error
                }
                let failure = UpstreamFailure(error)
                if failure.isConnectionFailure, idempotent, !bodyStarted.isSet, attempt < settings.retries {
                    attempt += 1
                    context.logger.debug("retrying upstream connection", metadata: ["upstream": "\(upstream.name)", "attempt": "\(attempt)"])
                    do {
                        try await Task.sleep(for: .milliseconds(25 << attempt))
                    } catch {
                        // A probe must never be lost, or the breaker would stay half-open.
                        breaker.release(permit)
                        throw error
                    }
                    continue
                }
                breaker.recordFailure(permit)
                context.logger.warning(
                    "upstream request failed",
                    metadata: ["upstream": "\(upstream.name)", "error": "\(String(reflecting: error))"]
                )
                throw failure.apiError(upstream: upstream.name)
            }
        }
    }

    /// Whether the request has a body to stream and how long it is.
    static func bodyLength(of request: Request) -> HTTPClientRequest.Body.Length? {
        if let text = request.headers[.contentLength] {
            guard let length = Int64(text), length > 0 else { return nil }
            return .known(length)
        }
        if request.headers[.transferEncoding] != nil || [.post, .put, .patch].contains(request.method) {
            return .unknown
        }
        return nil
    }

    static func upstreamHeaders(for request: Request, context: ServiceRequestContext) -> HTTPHeaders {
        let incoming = request.headers
        let named = connectionNamed(incoming[values: .connection])
        var headers = HTTPHeaders()
        for field in incoming {
            let name = field.name.canonicalName
            if hopByHop.contains(name) || named.contains(name) { continue }
            switch name {
            case "content-length", "host", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host":
                continue
            default:
                headers.add(name: field.name.rawName, value: field.value)
            }
        }
        headers.replaceOrAdd(name: "X-Request-ID", value: context.requestID)
        var forwardedFor = incoming[values: .xForwardedFor].joined(separator: ", ")
        if let peer = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress {
            forwardedFor = forwardedFor.isEmpty ? peer : "\(forwardedFor), \(peer)"
        }
        if !forwardedFor.isEmpty { headers.replaceOrAdd(name: "X-Forwarded-For", value: forwardedFor) }
        headers.replaceOrAdd(name: "X-Forwarded-Proto", value: incoming[.xForwardedProto] ?? "http")
        if let host = incoming[.xForwardedHost] ?? request.head.authority {
            headers.replaceOrAdd(name: "X-Forwarded-Host", value: host)
        }
        return headers
    }

    static func clientHeaders(from upstream: HTTPHeaders) -> HTTPFields {
        let named = connectionNamed(upstream[canonicalForm: "connection"].map(String.init))
        var fields = HTTPFields()
        for (name, value) in upstream {
            let lower = name.lowercased()
            if hopByHop.contains(lower) || named.contains(lower) || lower == "x-request-id" { continue }
            guard let fieldName = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }

    private static func connectionNamed(_ values: [String]) -> Set<String> {
        Set(values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }
}

/// Why a call to an upstream failed, and what the client is told.
enum UpstreamFailure {
    /// Nothing accepted the connection (refused, reset, unreachable).
    case connect
    case connectTimeout
    /// A kept-alive connection turned out to be closed by the service.
    case connectionLost
    /// No response head, or a body went silent, within the read timeout.
    case timeout
    /// Anything else: the connection broke mid-request, a protocol error.
    case broken

    init(_ error: any Error) {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: self = .connectTimeout
            case .deadlineExceeded, .readTimeout, .writeTimeout: self = .timeout
            case .remoteConnectionClosed: self = .connectionLost
            default: self = .broken
            }
        } else if let error = error as? ChannelError, case .connectTimeout = error {
            self = .connectTimeout
        } else if error is NIOConnectionError || error is IOError {
            self = .connect
        } else {
            self = .broken
        }
    }

    /// Failures worth another attempt for an idempotent request.
    var isConnectionFailure: Bool { self == .connect || self == .connectTimeout || self == .connectionLost }

    func apiError(upstream: String) -> APIError {
        switch self {
        case .connect, .connectionLost, .broken:
            APIError(.badGateway, code: "bad_gateway", message: "the \(upstream) service did not answer; try again")
        case .connectTimeout, .timeout:
            APIError(.gatewayTimeout, code: "upstream_timeout", message: "the \(upstream) service did not answer in time; try again")
        }
    }
}

/// A one-bit latch shared between attempts.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// The client's body, noting when the HTTP client starts reading it: a body
/// that was (partly) sent can never be sent again, so no retry after that.
struct TrackedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let started: Flag

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let started: Flag

        mutating func next() async throws -> ByteBuffer? {
            try await base.next()
        }
    }

    /// A request body can be iterated once only, so creating the iterator is what counts.
    func makeAsyncIterator() -> AsyncIterator {
        started.set()
        return AsyncIterator(base: base.makeAsyncIterator(), started: started)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
}
