import Foundation
import Hummingbird
import ServiceKit

/// `/api/v1/conversations`: open, list, post, page history, mark read.
/// Every route needs an access token; a conversation the caller is not
/// part of is 404 on every route.
struct ConversationsController: Sendable {
    let repository: any ConversationRepository

    struct OpenInput: Decodable, Sendable {
        var participantId: String
        var listingId: String?
    }

    struct PostInput: Decodable, Sendable {
        var body: String
        var clientMessageId: String
    }

    struct ReadInput: Decodable, Sendable {
        var upToMessageId: String
    }

    /// The list cursor: the `activity_seq` of the last conversation of the previous page.
    struct ListCursor: Codable, Sendable {
        var a: Int64
    }

    func add(to group: RouterGroup<ServiceRequestContext>) {
        group.post(use: open)
        group.get(use: list)
        group.post("/:id/messages", use: post)
        group.get("/:id/messages", use: history)
        group.post("/:id/read", use: markRead)
    }

    @Sendable func open(_ request: Request, context: ServiceRequestContext) async throws -> EditedResponse<ConversationBody> {
        let caller = try context.requireUser()
        let input = try await request.decode(as: OpenInput.self, context: context)
        let participant = try Validate.uuid(input.participantId, field: "participant_id")
        let listing = try input.listingId.map { try Validate.uuid($0, field: "listing_id") }
        guard participant != caller.id else {
            throw APIError.unprocessable("cannot_message_self", "you cannot open a conversation with yourself")
        }
        switch try await repository.open(by: caller.id, with: participant, listing: listing) {
        case .created(let conversation):
            return EditedResponse(status: .created, response: ConversationBody(conversation: conversation))
        case .existing(let conversation):
            return EditedResponse(status: .ok, response: ConversationBody(conversation: conversation))
        case .participantNotFound:
            throw APIError(.notFound, code: "user_not_found", message: "no user with this participant_id")
        case .callerNotFound:
            throw APIError.unauthorized("the user of this access token no longer exists")
        }
    }

    @Sendable func list(_ request: Request, context: ServiceRequestContext) async throws -> Page<Conversation> {
        let caller = try context.requireUser()
        let page = try PageRequest<ListCursor>(request)
        let fetched = try await repository.conversations(of: caller.id, before: page.cursor?.a, limit: page.limit + 1)
        return Page(fetched: fetched, limit: page.limit) { ListCursor(a: $0.activitySeq) }
    }

    @Sendable func post(_ request: Request, context: ServiceRequestContext) async throws -> EditedResponse<MessageBody> {
        let caller = try context.requireUser()
        let conversation = try Validate.pathID(context)
        let input = try await request.decode(as: PostInput.self, context: context)
        let body = try Validate.text(input.body, field: "body", codePoints: 1...4000)
        let clientMessageID = try Validate.text(input.clientMessageId, field: "client_message_id", characters: 1...255)
        switch try await repository.post(by: caller.id, in: conversation, body: body, clientMessageID: clientMessageID) {
        case .created(let message):
            return EditedResponse(status: .created, response: MessageBody(message: message))
        case .duplicate(let message):
            return EditedResponse(status: .ok, response: MessageBody(message: message))
        case .conversationNotFound:
            throw Self.conversationNotFound
        }
    }

    /// `?after=<message_id>` (or `?cursor=`, the `next_cursor` of the previous
    /// page, which is the same message id) and `?limit=`, oldest first.
    /// `after` naming no message of this conversation is 400 `invalid_after`:
    /// a cursor that does not point into this history is as unusable as a
    /// malformed one (a 404 would read as "no such conversation").
    @Sendable func history(_ request: Request, context: ServiceRequestContext) async throws -> Page<Message> {
        let caller = try context.requireUser()
        let conversation = try Validate.pathID(context)
        let query = request.uri.queryParameters
        let limit = try Validate.limit(query["limit"].map(String.init))
        let afterText = query["after"].map(String.init)
        let cursorText = query["cursor"].map(String.init)
        if afterText != nil, cursorText != nil {
            throw APIError.badRequest("pass either after or cursor, not both", code: "invalid_after")
        }
        let after = try (afterText ?? cursorText).map { text in
            guard let id = UUID(uuidString: text) else {
                throw APIError.badRequest("after must be a message id", code: "invalid_after")
            }
            return id
        }
        switch try await repository.history(of: conversation, for: caller.id, after: after, limit: limit + 1) {
        case .page(let messages):
            // next_cursor is the last message's id itself, so it works as `after` too.
            let items = Array(messages.prefix(limit))
            return Page(items: items, nextCursor: messages.count > limit ? items.last?.id.lowercaseString : nil)
        case .conversationNotFound:
            throw Self.conversationNotFound
        case .unknownAfter:
            throw APIError.badRequest("after names no message of this conversation", code: "invalid_after")
        }
    }

    @Sendable func markRead(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let caller = try context.requireUser()
        let conversation = try Validate.pathID(context)
        let input = try await request.decode(as: ReadInput.self, context: context)
        let message = try Validate.uuid(input.upToMessageId, field: "up_to_message_id")
        switch try await repository.markRead(conversation: conversation, by: caller.id, upTo: message) {
        case .marked:
            return Response(status: .noContent)
        case .conversationNotFound:
            throw Self.conversationNotFound
        case .messageNotFound:
            throw APIError(.notFound, code: "message_not_found", message: "up_to_message_id names no message of this conversation")
        }
    }

    static let conversationNotFound = APIError.notFound("conversation not found")
}

/// Input checks shared by the handlers; every failure is a 400 in the API.md shape.
enum Validate {
    static func uuid(_ text: String, field: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw APIError.badRequest("\(field) must be a UUID", code: "invalid_request")
        }
        return id
    }

    /// The `{id}` path parameter; a malformed one is 400.
    static func pathID(_ context: ServiceRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw APIError.badRequest("the id in the path must be a UUID", code: "invalid_id")
        }
        return id
    }

    /// `?limit=`: 1..100, default 20.
    static func limit(_ text: String?) throws -> Int {
        guard let text else { return 20 }
        guard let limit = Int(text), (1...100).contains(limit) else {
            throw APIError.badRequest("limit must be an integer from 1 to 100", code: "invalid_limit")
        }
        return limit
    }

    /// Text with a length in Unicode code points; NUL is refused (PostgreSQL text cannot hold it).
    static func text(_ value: String, field: String, codePoints range: ClosedRange<Int>) throws -> String {
        guard range.contains(value.unicodeScalars.count) else {
            throw APIError.badRequest("\(field) must be \(range.lowerBound) to \(range.upperBound) characters", code: "invalid_request")
        }
        return try noNUL(value, field: field)
    }

    /// Text with a length in characters (grapheme clusters), and at most 4
    /// UTF-8 bytes per character on average (it is part of a unique index,
    /// whose entries PostgreSQL limits to about 2.7 kB).
    static func text(_ value: String, field: String, characters range: ClosedRange<Int>) throws -> String {
        guard range.contains(value.count), value.utf8.count <= range.upperBound * 4 else {
            throw APIError.badRequest("\(field) must be \(range.lowerBound) to \(range.upperBound) characters", code: "invalid_request")
        }
        return try noNUL(value, field: field)
    }

    private static func noNUL(_ value: String, field: String) throws -> String {
        guard !value.unicodeScalars.contains("\u{0}") else {
            throw APIError.badRequest("\(field) must not contain NUL characters", code: "invalid_request")
        }
        return value
    }
}
