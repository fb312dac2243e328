import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SwapPostgres

/// `Idempotency-Key` for POSTs, as API.md specifies: scoped to the user (and
/// to this store's scope, usually the service), the same key and request
/// replay the first response (same status and body; the replay carries the
/// current request id), a different request with the same key is 409
/// `idempotency_key_reused`, a duplicate arriving while the first is still
/// running is 409 `idempotency_in_progress`. 2xx and 422 outcomes are
/// stored; anything else (400s, 404, 409, 5xx, a crash) stores nothing, so
/// the client may retry with the same key. Keys expire after `lifetime`
/// (24 hours): an expired key is treated as new, and ``PeriodicCleanup``
/// deletes old rows.
///
/// The record and the work share one transaction: the record is inserted
/// (in progress) at its start, under a transaction-scoped advisory lock on
/// the key, and completed with the response at its end. The change and its
/// record commit together or not at all, so "moved the money once" holds
/// even if the process dies halfway. Concurrent duplicates fail to take the
/// lock and get 409 at once instead of waiting.
///
/// ```swift
/// let key = try IdempotencyStore.key(in: request, required: true)
/// let input = try await request.decode(as: TransferInput.self, context: context)
/// return try await idempotency.run(
///     key: key, user: user.id, request: IdempotentRequest(request, body: input),
///     requestID: context.requestID, in: pool
/// ) { connection in
///     let transaction = try await repository.transfer(input, on: connection)
///     return try IdempotentResponse(status: .created, json: ["transaction": transaction])
/// }
/// ```
public struct IdempotencyStore: Sendable {
    public static let owner = "idempotency"

    public static let migrations = MigrationSet(owner: owner, migrations: [
        Migration(version: 1, name: "create swap_idempotency_keys", sql: """
            CREATE TABLE swap_idempotency_keys (
                scope text NOT NULL,
                user_id uuid NOT NULL,
                key text NOT NULL,
                request_hash text NOT NULL,
                state text NOT NULL CHECK (state IN ('in_progress', 'completed')),
                status integer,
                response_body bytea,
                created_at timestamptz NOT NULL DEFAULT now(),
                expires_at timestamptz NOT NULL,
                PRIMARY KEY (scope, user_id, key)
            );
            CREATE INDEX swap_idempotency_keys_expires_at_idx ON swap_idempotency_keys (expires_at);
            """),
    ])

    /// The response header marking a replay.
    public static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    public let scope: String
    public let lifetime: Duration

    public init(scope: String, lifetime: Duration = .seconds(24 * 3600)) {
        self.scope = scope
        self.lifetime = lifetime
    }

    /// The request's `Idempotency-Key`: nil when absent and not required;
    /// 400 when required and absent, or not 1...255 characters.
    public static func key(in request: Request, required: Bool) throws -> String? {
        guard let value = request.headers[.idempotencyKey] else {
            guard !required else {
                throw APIError.badRequest("this request requires an Idempotency-Key header", code: "idempotency_key_required")
            }
            return nil
        }
        guard (1...255).contains(value.count) else {
            throw APIError.badRequest("Idempotency-Key must be 1 to 255 characters", code: "invalid_idempotency_key")
        }
        return value
    }

    /// Runs `work` once per (user, key) in a transaction on `pool`, or plainly
    /// in a transaction when `key` is nil; returns its response or the stored one.
    ///
    /// `work` returns the response (2xx bodies are stored as they are) or
    /// throws: an ``APIError`` with status 422 is stored (its database changes
    /// are rolled back) and rethrown; any other error rolls everything back,
    /// stores nothing and is rethrown. A returned status other than 2xx/422
    /// also rolls back and stores nothing. Like any transaction body, `work`
    /// may run again after a serialization failure.
    public func run(
        key: String?,
        user: UUID,
        request: IdempotentRequest,
        requestID: String,
        in pool: PostgresPool,
        isolationLevel: PostgresIsolationLevel = .readCommitted,
        _ work: (PostgresConnection) async throws -> IdempotentResponse
    ) async throws -> Response {
        guard let key else {
            return try await pool.withTransaction(isolationLevel: isolationLevel) { try await work($0) }.response(requestID: requestID)
        }
        do {
            let step = try await pool.withTransaction(isolationLevel: isolationLevel) { connection in
                try await self.attempt(key: key, user: user, hash: request.hash, connection: connection, work)
            }
            switch step {
            case .completed(let response):
                return response.response(requestID: requestID)
            case .failed(let error):
                throw error
            case .replay(let stored):
                var response = stored.response(requestID: requestID)
                response.headers[Self.replayedHeader] = "true"
                return response
            }
        } catch let notStored as NotStored {
            return notStored.response.response(requestID: requestID)
        }
    }

    private enum Step: Sendable {
        case completed(IdempotentResponse)
        case failed(APIError)
        case replay(IdempotentResponse)
    }

    /// Rolls the transaction back while still answering with `response`.
    private struct NotStored: Error {
        var response: IdempotentResponse
    }

    private func attempt(
        key: String, user: UUID, hash: String, connection: PostgresConnection,
        _ work: (PostgresConnection) async throws -> IdempotentResponse
    ) async throws -> Step {
        let lockName = "swap_idempotency:\(scope):\(user.lowercaseString):\(key)"
        let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(hashtextextended(\(lockName), 0))")
        guard try locked.first?.decode(Bool.self, column: 0) == true else { throw Self.inProgress }

        let existing = try await connection.query("""
            SELECT request_hash, state, status, response_body FROM swap_idempotency_keys
            WHERE scope = \(scope) AND user_id = \(user) AND key = \(key) AND expires_at > now()
            """)
        if let row = existing.first {
            guard try row.decode(String.self, column: 0) == hash else {
                throw APIError.conflict("idempotency_key_reused", "this Idempotency-Key was already used with a different request")
            }
            guard try row.decode(String.self, column: 1) == "completed",
                  let status = try row.decode(Int?.self, column: 2),
                  let body = try row.decode(Data?.self, column: 3)
            else { throw Self.inProgress }
            return .replay(IdempotentResponse(status: Self.status(code: status), body: body))
        }

        let seconds = Double(lifetime.components.seconds)
        let inserted = try await connection.execute("""
            INSERT INTO swap_idempotency_keys (scope, user_id, key, request_hash, state, expires_at)
            VALUES (\(scope), \(user), \(key), \(hash), 'in_progress', now() + make_interval(secs => \(seconds)))
            ON CONFLICT (scope, user_id, key) DO UPDATE
            SET request_hash = EXCLUDED.request_hash, state = 'in_progress', status = NULL, response_body = NULL,
                created_at = now(), expires_at = EXCLUDED.expires_at
            WHERE swap_idempotency_keys.expires_at <= now()
            """)
        guard inserted == 1 else { throw Self.inProgress }

        try await connection.execute("SAVEPOINT swap_idempotent_work")
        let step: Step
        let stored: IdempotentResponse
        do {
            let response = try await work(connection)
            guard Self.isStored(response.status) else { throw NotStored(response: response) }
            step = .completed(response)
            stored = response
        } catch let error as APIError where error.status == .unprocessableContent {
            try await connection.execute("ROLLBACK TO SAVEPOINT swap_idempotent_work")
            step = .failed(error)
            stored = IdempotentResponse(status: error.status, body: Self.errorBody(error))
        }
        try await connection.execute("""
            UPDATE swap_idempotency_keys
            SET state = 'completed', status = \(stored.status.code), response_body = \(stored.body)
            WHERE scope = \(scope) AND user_id = \(user) AND key = \(key)
            """)
        return step
    }

    /// Deletes expired keys (up to `limit`); returns how many.
    @discardableResult
    public static func deleteExpired(on pool: PostgresPool, limit: Int = 10_000) async throws -> Int {
        try await pool.execute("""
            DELETE FROM swap_idempotency_keys WHERE ctid IN (
                SELECT ctid FROM swap_idempotency_keys WHERE expires_at <= now() LIMIT \(limit))
            """)
    }

    static let inProgress = APIError.conflict(
        "idempotency_in_progress", "a request with this Idempotency-Key is still being processed; retry shortly"
    )

    /// A stored code as a status with its usual reason phrase.
    static func status(code: Int) -> HTTPResponse.Status {
        let known: [HTTPResponse.Status] = [.ok, .created, .accepted, .nonAuthoritativeInformation, .noContent, .resetContent, .partialContent, .unprocessableContent]
        return known.first { $0.code == code } ?? HTTPResponse.Status(code: code)
    }

    static func isStored(_ status: HTTPResponse.Status) -> Bool {
        (200...299).contains(status.code) || status == .unprocessableContent
    }

    /// A stored error keeps its code and message; the request id is the replay's.
    static func errorBody(_ error: APIError) -> Data {
        let json = try? JSONSerialization.data(
            withJSONObject: ["error": ["code": error.code, "message": error.message]], options: [.sortedKeys]
        )
        return json ?? Data()
    }
}

/// What identifies a request for idempotency: method, path and body, hashed.
public struct IdempotentRequest: Sendable {
    public var method: String
    public var path: String
    public var body: Data

    public init(method: String, path: String, body: Data) {
        self.method = method
        self.path = path
        self.body = body
    }

    /// The request's method and path with its decoded body, re-encoded with
    /// sorted keys, so that formatting differences do not count as a different request.
    public init(_ request: Request, body: some Encodable) throws {
        self.init(method: request.method.rawValue, path: request.uri.path, body: try APIJSON.encoder.encode(body))
    }

    /// SHA-256 (hex) of method, path and body.
    public var hash: String {
        var hasher = SHA256()
        hasher.update(data: Data("\(method)\n\(path)\n".utf8))
        hasher.update(data: body)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// A response an idempotent handler returns: status and JSON body.
public struct IdempotentResponse: Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var body: Data

    public init(status: HTTPResponse.Status, body: Data) {
        self.status = status
        self.body = body
    }

    /// `value` encoded as API.md JSON.
    public init(status: HTTPResponse.Status, json value: some Encodable) throws {
        self.init(status: status, body: try APIJSON.encoder.encode(value))
    }

    /// The HTTP response; a stored error is rendered again with `requestID`.
    public func response(requestID: String) -> Response {
        if status.code >= 400,
           let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
           let error = object["error"] as? [String: Any],
           let code = error["code"] as? String, let message = error["message"] as? String {
            return APIError(status, code: code, message: message).response(requestID: requestID)
        }
        var headers = HTTPFields()
        headers[.requestID] = requestID
        guard !body.isEmpty else { return Response(status: status, headers: headers) }
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
