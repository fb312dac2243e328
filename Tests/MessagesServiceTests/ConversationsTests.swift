import Foundation
import HTTPTypes
import ServiceTesting
import Testing

@Suite("Conversations", .serialized, .timeLimit(.minutes(10)))
struct ConversationsTests {
    @Test("opening: 201 new, 200 for the same unordered pair and listing, 422 yourself, 404 unknown participant")
    func openConversation() async throws {
        try await MessagesHarness.run { app in
            let alice = try await app.user("alice")
            let bob = try await app.user("bob")
            let created = try await app.send(.post, "/api/v1/conversations", as: alice, json: #"{"participant_id": "\#(bob.idString)"}"#)
            #expect(created.status == 201)
            let conversation = try #require(created.object("conversation"))
            #expect(Set(conversation.keys) == ["id", "participant_ids", "listing_id", "last_message_at", "unread_count"])
            let id = try #require(conversation["id"] as? String)
            #expect(id == id.lowercased() && UUID(uuidString: id) != nil)
            #expect(Set(conversation["participant_ids"] as? [String] ?? []) == [alice.idString, bob.idString])
            #expect(conversation["listing_id"] is NSNull)
            #expect(conversation["last_message_at"] is NSNull)
            #expect(conversation["unread_count"] as? Int == 0)

            // Again, and the other way round: the same conversation, 200.
            let again = try await app.send(.post, "/api/v1/conversations", as: alice, json: #"{"participant_id": "\#(bob.idString)"}"#)
            #expect(again.status == 200)
            #expect(again.object("conversation")?["id"] as? String == id)
            let reversed = try await app.send(.post, "/api/v1/conversations", as: bob, json: #"{"participant_id": "\#(alice.idString)", "listing_id": null}"#)
            #expect(reversed.status == 200)
            #expect(reversed.object("conversation")?["id"] as? String == id)

            // About a listing: a different conversation, shared by the pair in either order.
            let listing = UUID().uuidString.lowercased()
            let aboutListing = try await app.send(.post, "/api/v1/conversations", as: bob, json: #"{"participant_id": "\#(alice.idString)", "listing_id": "\#(listing)"}"#)
            #expect(aboutListing.status == 201)
            let listingConversation = try #require(aboutListing.object("conversation"))
            #expect(listingConversation["listing_id"] as? String == listing)
            #expect(listingConversation["id"] as? String != id)
            let aliceAboutListing = try await app.send(.post, "/api/v1/conversations", as: alice, json: #"{"participant_id": "\#(bob.idString)", "listing_id": "\#(listing.uppercased())"}"#)
            #expect(aliceAboutListing.status == 200)
            #expect(aliceAboutListing.object("conversation")?["id"] as? String == listingConversation["id"] as? String)

            let yourself = try await app.send(.post, "/api/v1/conversations", as: alice, json: #"{"participant_id": "\#(alice.idString)"}"#)
            #expect(yourself.status == 422)
            let unknown = try await app.send(.post, "/api/v1/conversations", as: alice, json: #"{"participant_id": "\#(UUID().uuidString)"}"#)
            #expect(unknown.status == 404)
            #expect(unknown.errorCode != nil)

            for json in [#"{}"#, #"{"participant_id": "nope"}"#, #"{"participant_id": 5}"#, #"{"participant_id": "\#(bob.idString)", "listing_id": "x"}"#, "nope", #"{"participant_id": null}"#] {
                let reply = try await app.send(.post, "/api/v1/conversations", as: alice, json: json)
                #expect(reply.status == 400, "\(json) -> \(reply.status)")
            }
            #expect(try await app.send(.post, "/api/v1/conversations", as: alice, json: "{}", headers: ["Content-Type": "text/plain"]).status == 415)
            #expect(try await app.send(.post, "/api/v1/conversations", as: nil, json: #"{"participant_id": "\#(bob.idString)"}"#).status == 401)
            #expect(try await app.send(.get, "/api/v1/conversations", as: nil).status == 401)

            // A token whose user no longer exists.
            let ghostID = UUID()
            let ghost = TestUser(id: ghostID, token: MessagesHarness.token(for: ghostID))
            #expect(try await app.send(.post, "/api/v1/conversations", as: ghost, json: #"{"participant_id": "\#(bob.idString)"}"#).status == 401)

            let ready = try await app.send(.get, "/ready", as: nil)
            #expect(ready.status == 200)
            #expect((ready.json["checks"] as? [String: String]) == ["postgres": "ok", "kafka": "ok"])
        }
    }

    @Test("A and B opening the same conversation at the same time get one conversation")
    func concurrentOpeningIsOneConversation() async throws {
        try await MessagesHarness.run { app in
            for round in 0..<5 {
                let alice = try await app.user("alice\(round)")
                let bob = try await app.user("bob\(round)")
                let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for index in 0..<8 {
                        let (me, other) = index.isMultiple(of: 2) ? (alice, bob) : (bob, alice)
                        group.addTask {
                            try await app.send(.post, "/api/v1/conversations", as: me, json: #"{"participant_id": "\#(other.idString)"}"#, ownConnection: true)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.filter { $0.status == 201 }.count == 1, "round \(round): \(replies.map(\.status))")
                #expect(replies.allSatisfy { [200, 201].contains($0.status) })
                #expect(Set(replies.compactMap { $0.object("conversation")?["id"] as? String }).count == 1)
            }
        }
    }

    @Test("the list is most recent activity first, paged without repeats or skips, with unread counts")
    func listByActivity() async throws {
        try await MessagesHarness.run { app in
            let alice = try await app.user("alice")
            var others: [TestUser] = []
            var ids: [String] = []
            for index in 0..<5 {
                let other = try await app.user("other\(index)")
                others.append(other)
                ids.append(try await app.open(alice, with: other))
            }
            // Activity: conversation 2 gets a message, then 0.
            #expect(try await app.post(others[2], in: ids[2], body: "hi from 2").status == 201)
            #expect(try await app.post(others[0], in: ids[0], body: "hi from 0").status == 201)
            let expected = [ids[0], ids[2], ids[4], ids[3], ids[1]]

            var seen: [String] = []
            var cursor: String?
            repeat {
                let path = "/api/v1/conversations?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await app.send(.get, path, as: alice)
                #expect(page.status == 200)
                #expect(page.items.count <= 2)
                #expect(page.json.keys.contains("next_cursor"))
                seen += page.items.compactMap { $0["id"] as? String }
                cursor = page.nextCursor
            } while cursor != nil && seen.count < 10
            #expect(seen == expected)

            let all = try await app.send(.get, "/api/v1/conversations", as: alice)
            #expect(all.nextCursor == nil)
            let first = try #require(all.items.first)
            #expect(first["unread_count"] as? Int == 1)
            #expect((first["last_message_at"] as? String)?.hasSuffix("Z") == true)
            #expect(all.items.last?["last_message_at"] is NSNull)
            // The other side sees only its own conversation, nothing unread of its own.
            let theirs = try await app.send(.get, "/api/v1/conversations", as: others[0])
            #expect(theirs.items.compactMap { $0["id"] as? String } == [ids[0]])
            #expect(theirs.items.first?["unread_count"] as? Int == 0)

            for query in ["limit=0", "limit=101", "limit=x", "cursor=%%%", "cursor=bm90LWpzb24"] {
                #expect(try await app.send(.get, "/api/v1/conversations?\(query)", as: alice).status == 400, "\(query)")
            }
        }
    }
}
