import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket
import Synchronization

/// A scenario failed: the message says what was expected and what came back.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw Failure(message()) }
}

/// One HTTP response, body parsed as JSON when it is.
struct Reply {
    var status: Int
    var headers: HTTPHeaders
    var body: Data
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Everything a scenario needs: the clients, the URLs, the harness state.
final class Stack: Sendable {
    let baseURL: String
    let httpURL: String?
    let caFile: String
    let stateFile: String
    let swapctlPath: String?
    let topology: String
    let client: HTTPClient
    let plainClient: HTTPClient
    let tls: TLSConfiguration

    init(baseURL: String, caFile: String, stateFile: String, swapctl: String?, topology: String) throws {
        self.swapctlPath = swapctl
        self.topology = topology
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.caFile = caFile
        self.stateFile = stateFile
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caFile)
        tls.certificateVerification = .fullVerification
        self.tls = tls
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(30)))
        // HTTP/1.1: nginx ends an HTTP/2 connection after keepalive_requests
        // streams and AsyncHTTPClient fails the streams in flight then.
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.plainClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let state = try? Self.readState(stateFile)
        self.httpURL = ((state?["urls"] as? [String: Any])?["http"] as? String)
    }

    func shutdown() async {
        try? await client.shutdown()
        try? await plainClient.shutdown()
    }

    static func readState(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw Failure("cannot read the harness state \(path)") }
        return object
    }

    /// The pid and status of a component in state.json.
    func component(_ name: String) throws -> (pid: Int32?, status: String, restarts: Int) {
        let state = try Self.readState(stateFile)
        guard let item = (state["components"] as? [[String: Any]])?.first(where: { $0["name"] as? String == name }) else {
            throw Failure("no component \(name) in \(stateFile)")
        }
        let pid = ((item["process"] as? [String: Any])?["pid"] as? NSNumber)?.int32Value
        return (pid, item["status"] as? String ?? "?", (item["restarts"] as? NSNumber)?.intValue ?? 0)
    }

    /// Every component of a kind (`postgres`, `service`) in state.json, with its dependencies.
    func components(kind: String) throws -> [(name: String, group: String, pid: Int32?, restarts: Int, dependencies: [String])] {
        let state = try Self.readState(stateFile)
        return (state["components"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == kind }.map { item in
            (item["name"] as? String ?? "?", item["group"] as? String ?? "?",
             ((item["process"] as? [String: Any])?["pid"] as? NSNumber)?.int32Value,
             (item["restarts"] as? NSNumber)?.intValue ?? 0, item["dependencies"] as? [String] ?? [])
        }
    }

    /// Runs `swapctl ARGUMENTS --topology T` (stop, start) and fails on a non-zero exit.
    func swapctl(_ arguments: [String]) async throws {
        guard let swapctlPath else { throw Failure("this scenario needs --swapctl (run it through `swapctl e2e`)") }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-swapctl-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swapctlPath)
        process.arguments = arguments + ["--topology", topology]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        try handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try expect(process.terminationStatus == 0, "swapctl \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
    }

    func send(_ method: HTTPMethod, _ path: String, token: String? = nil, json: [String: Any]? = nil,
              headers extra: [(String, String)] = [], base: String? = nil, plain: Bool = false) async throws -> Reply {
        var request = HTTPClientRequest(url: (base ?? baseURL) + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: Array(try JSONSerialization.data(withJSONObject: json))))
        }
        let response = try await (plain ? plainClient : client).execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
    }

    /// `send`, again after a pause while the answer is 429 (rate limited) or
    /// 409 `idempotency_in_progress`, for up to a minute.
    func sendPatiently(_ method: HTTPMethod, _ path: String, token: String? = nil, json: [String: Any]? = nil,
                       headers: [(String, String)] = []) async throws -> Reply {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let reply: Reply
            do {
                reply = try await send(method, path, token: token, json: json, headers: headers)
            } catch {
                // A dropped connection: safe to send again, the Idempotency-Key makes it one operation.
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            let inProgress = reply.status == 409 && (reply.json["error"] as? [String: Any])?["code"] as? String == "idempotency_in_progress"
            guard reply.status == 429 || inProgress, ContinuousClock.now < deadline else { return reply }
            let wait = reply.headers.first(name: "Retry-After").flatMap(Double.init).map { min($0, 2) } ?? 0.3
            try await Task.sleep(for: .milliseconds(Int(wait * 1000) + Int.random(in: 0...200)))
        }
    }

    /// A request that must answer `status`; returns its JSON.
    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, token: String? = nil, json: [String: Any]? = nil,
              headers: [(String, String)] = [], status: Int) async throws -> [String: Any] {
        // Rate limiting (nginx's per-client limit) is not what a scenario checks: wait it out.
        var reply = try await send(method, path, token: token, json: json, headers: headers)
        let deadline = ContinuousClock.now + .seconds(60)
        while reply.status == 429, status != 429, ContinuousClock.now < deadline {
            let wait = reply.headers.first(name: "Retry-After").flatMap(Double.init).map { min($0, 2) } ?? 0.5
            try await Task.sleep(for: .milliseconds(Int(wait * 1000) + Int.random(in: 0...200)))
            reply = try await send(method, path, token: token, json: json, headers: headers)
        }
        try expect(reply.status == status, "\(method) \(path): expected \(status), got \(reply.status) \(reply.text.prefix(300))")
        return reply.json
    }

    var webSocketURL: String { baseURL.replacingOccurrences(of: "https://", with: "wss://") + "/ws" }
}

/// A signed-up user.
struct User: Sendable {
    var id: String
    var email: String
    var token: String
}

extension Stack {
    func signup(_ label: String) async throws -> User {
        let email = "\(label)-\(UUID().uuidString.prefix(8).lowercased())@e2e.swap.test"
        let password = "correct horse \(UUID().uuidString)"
        let session = try await call(.POST, "/auth/v1/signup", json: ["email": email, "password": password], status: 200)
        guard let user = session["user"] as? [String: Any], let id = user["id"] as? String, session["access_token"] is String else {
            throw Failure("signup: no session in \(session)")
        }
        let login = try await call(.POST, "/auth/v1/token?grant_type=password", json: ["email": email, "password": password], status: 200)
        guard let token = login["access_token"] as? String else { throw Failure("login: no access_token") }
        return User(id: id, email: email, token: token)
    }

    func deposit(_ user: User, _ amount: Int) async throws {
        try await call(.POST, "/api/v1/wallet/deposits", token: user.token, json: ["amount": amount],
                       headers: [("Idempotency-Key", UUID().uuidString)], status: 201)
    }

    func balance(_ user: User) async throws -> Int {
        let wallet = try await call(.GET, "/api/v1/wallet", token: user.token, status: 200)
        guard let balance = (wallet["balance"] as? NSNumber)?.intValue else { throw Failure("wallet without balance: \(wallet)") }
        return balance
    }

    func transfer(_ from: User, to: User, _ amount: Int, key: String = UUID().uuidString) async throws -> [String: Any] {
        let reply = try await call(.POST, "/api/v1/transfers", token: from.token, json: ["to_user_id": to.id, "amount": amount],
                                   headers: [("Idempotency-Key", key)], status: 201)
        guard let transaction = reply["transaction"] as? [String: Any] else { throw Failure("transfer: no transaction in \(reply)") }
        return transaction
    }

    func points(_ user: User) async throws -> Int {
        let points = try await call(.GET, "/api/v1/points", token: user.token, status: 200)
        return (points["balance"] as? NSNumber)?.intValue ?? -1
    }
}

/// Polls `condition` until it holds or the time is up.
func eventually(timeout: Duration = .seconds(30), every: Duration = .milliseconds(200), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: every)
    }
    return try await condition()
}

/// Retries `connect` until it succeeds or the time is up (a replica may be
/// restarting); the last failure is thrown.
func connectWithin(_ timeout: Duration, _ connect: () async throws -> LiveSocket) async throws -> LiveSocket {
    let deadline = ContinuousClock.now + timeout
    while true {
        do {
            return try await connect()
        } catch where ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(300))
        }
    }
}

/// A WebSocket connection through nginx that records every JSON frame.
final class LiveSocket: Sendable {
    private let frames = Mutex<[String]>([])
    private let stop = Mutex<AsyncStream<Void>.Continuation?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let state = Mutex<(open: Bool, closed: Bool, error: String?)>((false, false, nil))

    static func connect(_ stack: Stack, token: String, lastEventID: String? = nil) async throws -> LiveSocket {
        let socket = LiveSocket()
        var url = stack.webSocketURL + "?token=\(token)"
        if let lastEventID { url += "&last_event_id=\(lastEventID)" }
        var logger = Logger(label: "e2e-socket")
        logger.logLevel = .critical
        let (signal, continuation) = AsyncStream.makeStream(of: Void.self)
        socket.stop.withLock { $0 = continuation }
        let tls = stack.tls
        let task = Task {
            do {
                try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), tlsConfiguration: tls, logger: logger) { inbound, outbound, _ in
                    socket.state.withLock { $0.open = true }
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await _ in signal {
                                try await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        }
                        for try await message in inbound.messages(maxSize: 1 << 22) {
                            if case .text(let text) = message { socket.frames.withLock { $0.append(text) } }
                        }
                        group.cancelAll()
                    }
                }
            } catch {
                socket.state.withLock { $0.error = "\(error)" }
            }
            socket.state.withLock { $0.closed = true }
        }
        socket.task.withLock { $0 = task }
        let opened = await eventually(timeout: .seconds(15), every: .milliseconds(50)) { socket.state.withLock { $0.open || $0.closed } }
        let current = socket.state.withLock { $0 }
        guard opened, current.open, !current.closed else {
            throw Failure("WebSocket \(stack.webSocketURL) did not open: \(current.error ?? "closed or timed out")")
        }
        return socket
    }

    var received: [[String: Any]] {
        frames.withLock { $0 }.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }
    var isClosed: Bool { state.withLock { $0.closed } }

    func events(_ type: String) -> [[String: Any]] { received.filter { $0["type"] as? String == type } }

    /// Waits for a frame of `type` matching `predicate`.
    @discardableResult
    func waitFor(_ type: String, timeout: Duration = .seconds(30), where predicate: @escaping ([String: Any]) -> Bool = { _ in true }) async throws -> [String: Any] {
        var found: [String: Any]?
        _ = await eventually(timeout: timeout, every: .milliseconds(50)) {
            found = self.events(type).first { predicate(($0["data"] as? [String: Any]) ?? [:]) }
            return found != nil
        }
        guard let found else {
            let sameType = events(type).map { (($0["data"] as? [String: Any])?["id"] as? String) ?? "?" }
            throw Failure("no matching \(type) frame within \(timeout); got \(type) frames with data ids \(sameType), "
                + "frame types \(received.compactMap { $0["type"] as? String })")
        }
        return found
    }

    func close() async {
        _ = stop.withLock { $0?.yield(()) }
        let task = self.task.withLock { $0 }
        let done = await eventually(timeout: .seconds(5), every: .milliseconds(50)) { self.isClosed }
        if !done { task?.cancel() }
    }
}
