import Foundation
import Hummingbird
import ServiceKit

/// `conversation` in API.md: `{id, participant_ids, listing_id|null, last_message_at|null, unread_count}`.
struct Conversation: Sendable, Equatable, Encodable {
    var id: UUID
    var participantIDs: [UUID]
    var listingID: UUID?
    var lastMessageAt: Date?
    /// The caller's unread messages (the other participants' after the caller's read marker).
    var unreadCount: Int
    /// Where it sits in "most recent activity first"; not part of the API.
    var activitySeq: Int64

    enum CodingKeys: String, CodingKey {
        case id, participantIds, listingId, lastMessageAt, unreadCount
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercaseString, forKey: .id)
        try container.encode(participantIDs.map(\.lowercaseString), forKey: .participantIds)
        // Absent values are `null`, never omitted.
        try container.encode(listingID?.lowercaseString, forKey: .listingId)
        try container.encode(lastMessageAt, forKey: .lastMessageAt)
        try container.encode(unreadCount, forKey: .unreadCount)
    }
}

/// `message` in API.md: `{id, conversation_id, sender_id, body, client_message_id, created_at}`.
struct Message: Sendable, Equatable, Encodable {
    var id: UUID
    var conversationID: UUID
    var senderID: UUID
    var body: String
    var clientMessageID: String
    var createdAt: Date
    /// The total order of a conversation's history; not part of the API.
    var seq: Int64

    enum CodingKeys: String, CodingKey {
        case id, conversationId, senderId, body, clientMessageId, createdAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercaseString, forKey: .id)
        try container.encode(conversationID.lowercaseString, forKey: .conversationId)
        try container.encode(senderID.lowercaseString, forKey: .senderId)
        try container.encode(body, forKey: .body)
        try container.encode(clientMessageID, forKey: .clientMessageId)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// The `data` of a `message.created` event: the message plus who should receive it.
struct MessageCreatedEvent: Encodable {
    static let type = "message.created"

    var message: Message
    var recipientIDs: [UUID]

    enum CodingKeys: String, CodingKey {
        case recipientIds
    }

    func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(recipientIDs.map(\.lowercaseString), forKey: .recipientIds)
    }
}

/// `{"conversation": {...}}`.
struct ConversationBody: ResponseEncodable {
    var conversation: Conversation
}

/// `{"message": {...}}`.
struct MessageBody: ResponseEncodable {
    var message: Message
}
