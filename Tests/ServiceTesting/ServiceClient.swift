import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

/// One keep-alive HTTP/1.1 connection to a service on 127.0.0.1
/// (HummingbirdTesting's `TestClient`). Requests on one connection are
/// served one after the other: a race needs a connection per request
/// (``withServiceClient(port:_:)``).
public struct ServiceClient: Sendable {
    private let client: TestClient

    /// Connects to 127.0.0.1:`port`.
    public init(port: Int) {
        client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30)))
        client.connect()
    }

    /// Sends a request: `token` as a bearer token, `json` as the body with
    /// Content-Type application/json; `headers` are set last, so they can
    /// override both.
    @discardableResult
    public func send(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: String? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        let request = TestClient.Request(path, method: method, authority: "127.0.0.1", headers: headers, body: json.map { ByteBuffer(string: $0) })
        let response = try await client.execute(request)
        return Reply(status: response.status.code, headers: response.headers, body: Data((response.body ?? ByteBuffer()).readableBytesView))
    }

    /// Waits until the connection is established (or fails).
    func connected() async throws {
        _ = try await client.getChannel()
    }

    /// Closes the connection.
    public func close() async {
        try? await client.shutdown()
    }
}

/// Runs `body` with a connection of its own to 127.0.0.1:`port`, closed afterwards.
public func withServiceClient<Value>(port: Int, _ body: (ServiceClient) async throws -> Value) async throws -> Value {
    let client = ServiceClient(port: port)
    do {
        let value = try await body(client)
        await client.close()
        return value
    } catch {
        await client.close()
        throw error
    }
}
