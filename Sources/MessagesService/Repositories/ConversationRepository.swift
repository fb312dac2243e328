import Foundation
import ServiceKit
import SwapPostgres

/// What opening a conversation did.
enum OpenOutcome: Sendable, Equatable {
    case created(Conversation)
    /// The pair (in either order) already has one about this listing.
    case existing(Conversation)
    case participantNotFound
    /// The caller has no `auth.users` row (an account deleted after its token was issued).
    case callerNotFound
}

/// What posting a message did.
enum PostOutcome: Sendable, Equatable {
    case created(Message)
    /// The sender already posted this `client_message_id` here: the first message.
    case duplicate(Message)
    case conversationNotFound
}

enum HistoryOutcome: Sendable, Equatable {
    case page([Message])
    case conversationNotFound
    /// `after` names no message of this conversation.
    case unknownAfter
}

enum ReadOutcome: Sendable, Equatable {
    case marked
    case conversationNotFound
    case messageNotFound
}

/// Storage of conversations, their members' read markers and messages.
/// Every method is scoped to the calling user: a conversation they are not
/// part of behaves as if it did not exist.
protocol ConversationRepository: Sendable {
    func open(by caller: UUID, with participant: UUID, listing: UUID?) async throws -> OpenOutcome
    /// The caller's conversations, most recent activity first, after `cursor` (an `activity_seq`).
    func conversations(of caller: UUID, before cursor: Int64?, limit: Int) async throws -> [Conversation]
    func post(by caller: UUID, in conversation: UUID, body: String, clientMessageID: String) async throws -> PostOutcome
    func history(of conversation: UUID, for caller: UUID, after: UUID?, limit: Int) async throws -> HistoryOutcome
    func markRead(conversation: UUID, by caller: UUID, upTo message: UUID) async throws -> ReadOutcome
}

/// ``ConversationRepository`` on PostgreSQL; each created message is added
/// to the transactional outbox in the transaction that inserts it.
struct PostgresConversationRepository: ConversationRepository {
    let pool: PostgresPool
    let eventsTopic: String
    /// Called after a transaction that enqueued an event committed.
    let eventEnqueued: @Sendable () -> Void

    static let nilUUID = "00000000-0000-0000-0000-000000000000"

    func open(by caller: UUID, with participant: UUID, listing: UUID?) async throws -> OpenOutcome {
        try await pool.withTransaction { connection in
            let users = try await connection.query("SELECT id FROM auth.users WHERE id IN (\(caller), \(participant))")
            let known = Set(try users.map { try $0.decode(UUID.self, column: 0) })
            guard known.contains(participant) else { return .participantNotFound }
            guard known.contains(caller) else { return .callerNotFound }

            // A concurrent opening of the same pair and listing makes this insert
            // wait for it, then do nothing; the SELECT below (a new snapshot) sees its row.
            let inserted = try await connection.query("""
                INSERT INTO conversations (initiator_id, recipient_id, listing_id, activity_seq)
                VALUES (\(caller), \(participant), \(listing), nextval('conversations_activity_seq'))
                ON CONFLICT DO NOTHING
                RETURNING id
                """)
            if let row = inserted.first {
                let id = try row.decode(UUID.self, column: 0)
                try await connection.execute("""
                    INSERT INTO conversation_participants (conversation_id, user_id)
                    VALUES (\(id), \(caller)), (\(id), \(participant))
                    """)
                guard let conversation = try await Self.conversation(id, for: caller, on: connection) else {
                    throw PostgresInconsistency.missingRow("conversation just created")
                }
                return .created(conversation)
            }
            let existing = try await connection.query("""
                SELECT id FROM conversations
                WHERE least(initiator_id, recipient_id) = least(\(caller)::uuid, \(participant)::uuid)
                  AND greatest(initiator_id, recipient_id) = greatest(\(caller)::uuid, \(participant)::uuid)
                  AND coalesce(listing_id, \(Self.nilUUID)::uuid) = coalesce(\(listing)::uuid, \(Self.nilUUID)::uuid)
                """)
            guard let row = existing.first,
                  let conversation = try await Self.conversation(try row.decode(UUID.self, column: 0), for: caller, on: connection)
            else { throw PostgresInconsistency.missingRow("conversation that blocked the insert") }
            return .existing(conversation)
        }
    }

    func conversations(of caller: UUID, before cursor: Int64?, limit: Int) async throws -> [Conversation] {
        let rows = try await pool.query("""
            SELECT \(unsafeRaw: Self.conversationColumns)
            FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
            WHERE p.user_id = \(caller) AND (\(cursor)::bigint IS NULL OR c.activity_seq < \(cursor)::bigint)
            ORDER BY c.activity_seq DESC
            LIMIT \(limit)
            """)
        return try rows.map(Self.conversation(from:))
    }

    func post(by caller: UUID, in conversation: UUID, body: String, clientMessageID: String) async throws -> PostOutcome {
        let outcome: PostOutcome = try await pool.withTransaction { connection in
            // Lock the conversation first: messages of one conversation draw
            // their seq and commit one at a time, in seq order.
            let member = try await connection.query("""
                SELECT c.id FROM conversations c
                JOIN conversation_participants p ON p.conversation_id = c.id AND p.user_id = \(caller)
                WHERE c.id = \(conversation)
                FOR UPDATE OF c
                """)
            guard !member.isEmpty else { return .conversationNotFound }

            let previous = try await connection.query("""
                SELECT \(unsafeRaw: Self.messageColumns) FROM messages
                WHERE conversation_id = \(conversation) AND sender_id = \(caller) AND client_message_id = \(clientMessageID)
                """)
            if let row = previous.first { return .duplicate(try Self.message(from: row)) }

            let inserted = try await connection.query("""
                INSERT INTO messages (conversation_id, sender_id, body, client_message_id)
                VALUES (\(conversation), \(caller), \(body), \(clientMessageID))
                RETURNING \(unsafeRaw: Self.messageColumns)
                """)
            guard let row = inserted.first else { throw PostgresInconsistency.missingRow("message just inserted") }
            let message = try Self.message(from: row)
            try await connection.execute("""
                UPDATE conversations
                SET last_message_at = \(message.createdAt), activity_seq = nextval('conversations_activity_seq')
                WHERE id = \(conversation)
                """)
            let recipients = try await connection.query("""
                SELECT user_id FROM conversation_participants
                WHERE conversation_id = \(conversation) AND user_id <> \(caller)
                ORDER BY user_id
                """).map { try $0.decode(UUID.self, column: 0) }
            let event = try EventEnvelope(
                topic: eventsTopic, key: caller.lowercaseString, type: MessageCreatedEvent.type,
                data: MessageCreatedEvent(message: message, recipientIDs: recipients), occurredAt: message.createdAt
            )
            try await Outbox.enqueue(event, on: connection)
            return .created(message)
        }
        if case .created = outcome { eventEnqueued() }
        return outcome
    }

    func history(of conversation: UUID, for caller: UUID, after: UUID?, limit: Int) async throws -> HistoryOutcome {
        try await pool.withConnection { connection in
            guard try await Self.isMember(caller, of: conversation, on: connection) else { return .conversationNotFound }
            var afterSeq: Int64 = 0
            if let after {
                let rows = try await connection.query("SELECT seq FROM messages WHERE id = \(after) AND conversation_id = \(conversation)")
                guard let row = rows.first else { return .unknownAfter }
                afterSeq = try row.decode(Int64.self, column: 0)
            }
            let rows = try await connection.query("""
                SELECT \(unsafeRaw: Self.messageColumns) FROM messages
                WHERE conversation_id = \(conversation) AND seq > \(afterSeq)
                ORDER BY seq
                LIMIT \(limit)
                """)
            return .page(try rows.map(Self.message(from:)))
        }
    }

    func markRead(conversation: UUID, by caller: UUID, upTo message: UUID) async throws -> ReadOutcome {
        try await pool.withConnection { connection in
            guard try await Self.isMember(caller, of: conversation, on: connection) else { return .conversationNotFound }
            // GREATEST: a marker never moves back (an older id, or requests arriving out of order).
            let rows = try await connection.query("""
                WITH target AS (SELECT seq FROM messages WHERE id = \(message) AND conversation_id = \(conversation))
                UPDATE conversation_participants p
                SET last_read_seq = GREATEST(p.last_read_seq, target.seq), last_read_at = now()
                FROM target
                WHERE p.conversation_id = \(conversation) AND p.user_id = \(caller)
                RETURNING p.last_read_seq
                """)
            return rows.isEmpty ? .messageNotFound : .marked
        }
    }

    // MARK: - Rows

    static let messageColumns = "id, conversation_id, sender_id, body, client_message_id, created_at, seq"

    /// `c` is conversations, `p` the caller's participant row.
    static let conversationColumns = """
        c.id, c.initiator_id, c.recipient_id, c.listing_id, c.last_message_at, c.activity_seq,
        (SELECT count(*) FROM messages m
         WHERE m.conversation_id = c.id AND m.seq > p.last_read_seq AND m.sender_id <> p.user_id) AS unread_count
        """

    static func message(from row: PostgresRow) throws -> Message {
        let (id, conversation, sender, body, clientMessageID, createdAt, seq) = try row.decode((UUID, UUID, UUID, String, String, Date, Int64).self)
        return Message(id: id, conversationID: conversation, senderID: sender, body: body, clientMessageID: clientMessageID, createdAt: createdAt, seq: seq)
    }

    static func conversation(from row: PostgresRow) throws -> Conversation {
        let (id, initiator, recipient, listing, lastMessageAt, activitySeq, unread) = try row.decode((UUID, UUID, UUID, UUID?, Date?, Int64, Int).self)
        return Conversation(
            id: id, participantIDs: [initiator, recipient], listingID: listing,
            lastMessageAt: lastMessageAt, unreadCount: unread, activitySeq: activitySeq
        )
    }

    static func conversation(_ id: UUID, for caller: UUID, on connection: PostgresConnection) async throws -> Conversation? {
        let rows = try await connection.query("""
            SELECT \(unsafeRaw: conversationColumns)
            FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
            WHERE c.id = \(id) AND p.user_id = \(caller)
            """)
        return try rows.first.map(conversation(from:))
    }

    static func isMember(_ user: UUID, of conversation: UUID, on connection: PostgresConnection) async throws -> Bool {
        try await !connection.query("""
            SELECT 1 FROM conversation_participants WHERE conversation_id = \(conversation) AND user_id = \(user)
            """).isEmpty
    }
}

/// A row the same transaction just wrote or saw is gone: a bug, reported as a 500.
enum PostgresInconsistency: Error {
    case missingRow(String)
}
