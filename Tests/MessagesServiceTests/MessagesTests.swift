import Foundation
import HTTPTypes
import ServiceKit
import ServiceTesting
import SwapKafka
import SwapPostgres
import Testing

@Suite("Messages", .serialized, .timeLimit(.minutes(10)))
struct MessagesTests {
    @Test("posting: 201, then 200 with the first message for a repeated client_message_id; bodies and ids are checked")
    func postAndDeduplicate() async throws {
        try await MessagesHarness.run { app in
            let alice = try await app.user("alice")
            let bob = try await app.user("bob")
            let conversation = try await app.open(alice, with: bob)

            let first = try await app.post(alice, in: conversation, body: "Is the bike still available?", clientMessageID: "m-1")
            #expect(first.status == 201)
            let message = try #require(first.object("message"))
            #expect(Set(message.keys) == ["id", "conversation_id", "sender_id", "body", "client_message_id", "created_at"])
            #expect(message["conversation_id"] as? String == conversation)
            #expect(message["sender_id"] as? String == alice.idString)
            #expect(message["body"] as? String == "Is the bike still available?")
            #expect(message["client_message_id"] as? String == "m-1")
            #expect((message["created_at"] as? String)?.hasSuffix("Z") == true)

            let retry = try await app.post(alice, in: conversation, body: "a different body", clientMessageID: "m-1")
            #expect(retry.status == 200)
            #expect(retry.text == first.text)
            // The key is the sender's: Bob may use the same client_message_id.
            let bobs = try await app.post(bob, in: conversation, body: "Yes", clientMessageID: "m-1")
            #expect(bobs.status == 201)
            #expect(bobs.object("message")?["id"] as? String != message["id"] as? String)

            // Concurrent retries of one new message: one 201, the rest 200 with it.
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let json = #"{"body": "race \#(index)", "client_message_id": "m-race"}"#
                        return try await app.send(.post, "/api/v1/conversations/\(conversation)/messages", as: alice, json: json, ownConnection: true)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.filter { $0.status == 201 }.count == 1, "\(replies.map(\.status))")
            #expect(Set(replies.compactMap { $0.object("message")?["id"] as? String }).count == 1)

            // Body length counts Unicode code points: 4000 emoji fit, 4001 characters do not.
            #expect(try await app.post(alice, in: conversation, body: String(repeating: "😀", count: 4000)).status == 201)
            #expect(try await app.post(alice, in: conversation, body: String(repeating: "a", count: 4001)).status == 400)
            #expect(try await app.post(alice, in: conversation, body: "").status == 400)
            #expect(try await app.post(alice, in: conversation, body: "nul \u{0} inside").status == 400)
            #expect(try await app.post(alice, in: conversation, body: "ok", clientMessageID: String(repeating: "k", count: 255)).status == 201)
            #expect(try await app.post(alice, in: conversation, body: "ok", clientMessageID: String(repeating: "k", count: 256)).status == 400)
            #expect(try await app.post(alice, in: conversation, body: "ok", clientMessageID: "").status == 400)
            let heavy = String(repeating: "e" + String(repeating: "\u{301}", count: 40), count: 200)
            #expect(try await app.post(alice, in: conversation, body: "ok", clientMessageID: heavy).status == 400)
            let path = "/api/v1/conversations/\(conversation)/messages"
            for json in [#"{"body": "no id"}"#, #"{"client_message_id": "x"}"#, #"{"body": 1, "client_message_id": "x"}"#, "[", #"{"body": null, "client_message_id": "x"}"#] {
                #expect(try await app.send(.post, path, as: alice, json: json).status == 400, "\(json)")
            }

            // Not a participant, or no such conversation: 404. A malformed id: 400.
            let carol = try await app.user("carol")
            let asCarol = try await app.post(carol, in: conversation, body: "let me in")
            #expect(asCarol.status == 404)
            #expect(asCarol.errorCode == "not_found")
            #expect(try await app.post(alice, in: UUID().uuidString, body: "hello?").status == 404)
            #expect(try await app.post(alice, in: "not-a-uuid", body: "hello?").status == 400)
            #expect(try await app.send(.post, path, as: nil, json: #"{"body": "x", "client_message_id": "y"}"#).status == 401)
        }
    }

    @Test("history is oldest first and `after` pages through it without repeats or skips")
    func historyPaging() async throws {
        try await MessagesHarness.run { app in
            let alice = try await app.user("alice")
            let bob = try await app.user("bob")
            let conversation = try await app.open(alice, with: bob)
            var posted: [String] = []
            for index in 0..<23 {
                let reply = try await app.post(index.isMultiple(of: 3) ? bob : alice, in: conversation, body: "message \(index)")
                posted.append(try #require(reply.object("message")?["id"] as? String))
            }
            let path = "/api/v1/conversations/\(conversation)/messages"
            let all = try await app.send(.get, "\(path)?limit=100", as: bob)
            #expect(all.items.compactMap { $0["id"] as? String } == posted)
            #expect(all.items.compactMap { $0["body"] as? String } == (0..<23).map { "message \($0)" })
            #expect(all.nextCursor == nil)
            #expect(all.json.keys.contains("next_cursor"))
            let defaultPage = try await app.send(.get, path, as: alice)
            #expect(defaultPage.items.count == 20)

            // Paging with after=<last id seen>, and with next_cursor, both cover it exactly once.
            for useCursor in [false, true] {
                var seen: [String] = []
                var after: String?
                for _ in 0..<10 {
                    var query = "?limit=5"
                    if let after { query += useCursor ? "&cursor=\(after)" : "&after=\(after)" }
                    let page = try await app.send(.get, path + query, as: alice)
                    #expect(page.status == 200)
                    let ids = page.items.compactMap { $0["id"] as? String }
                    seen += ids
                    if useCursor {
                        after = page.nextCursor
                        if after == nil { break }
                    } else {
                        guard let last = ids.last else { break }
                        after = last
                    }
                }
                #expect(seen == posted, "useCursor: \(useCursor)")
            }
            let tail = try await app.send(.get, "\(path)?after=\(posted[20])", as: alice)
            #expect(tail.items.compactMap { $0["id"] as? String } == Array(posted[21...]))
            #expect(try await app.send(.get, "\(path)?after=\(posted[22])", as: alice).items.isEmpty)

            // after: malformed, or naming no message of this conversation, is 400.
            let other = try await app.open(alice, with: try await app.user("carol"))
            let elsewhere = try #require(try await app.post(alice, in: other, body: "elsewhere").object("message")?["id"] as? String)
            for query in ["after=nope", "after=\(UUID().uuidString)", "after=\(elsewhere)", "limit=0", "limit=101", "limit=many",
                          "after=\(posted[0])&cursor=\(posted[1])"] {
                let reply = try await app.send(.get, "\(path)?\(query)", as: alice)
                #expect(reply.status == 400, "\(query) -> \(reply.status)")
            }
            let outsider = try await app.user("outsider")
            #expect(try await app.send(.get, path, as: outsider).status == 404)
            #expect(try await app.send(.get, "/api/v1/conversations/\(UUID().uuidString)/messages", as: alice).status == 404)
            #expect(try await app.send(.get, "/api/v1/conversations/bad/messages", as: alice).status == 400)
        }
    }

    @Test("a reader polling with `after` while both sides post concurrently sees every message once, in the final order")
    func pagingDuringConcurrentPosts() async throws {
        try await MessagesHarness.run { app in
            let alice = try await app.user("alice")
            let bob = try await app.user("bob")
            let conversation = try await app.open(alice, with: bob)
            let path = "/api/v1/conversations/\(conversation)/messages"
            let writersDone = Flag()
            let writers = Task {
                defer { Task { await writersDone.set() } }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask {
                            for index in 0..<15 {
                                let json = #"{"body": "w\#(writer) #\#(index)", "client_message_id": "w\#(writer)-\#(index)"}"#
                                let reply = try await app.send(.post, path, as: writer.isMultiple(of: 2) ? alice : bob, json: json, ownConnection: true)
                                guard reply.status == 201 else { throw TestFailure("post answered \(reply.status)") }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Read until a page comes back empty after the writers had finished.
            var seen: [String] = []
            var after: String?
            while true {
                let finishedBefore = await writersDone.value
                let query = "?limit=7" + (after.map { "&after=\($0)" } ?? "")
                let page = try await app.send(.get, path + query, as: alice, ownConnection: true)
                #expect(page.status == 200)
                let ids = page.items.compactMap { $0["id"] as? String }
                seen += ids
                after = ids.last ?? after
                if ids.isEmpty {
                    if finishedBefore { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            try await writers.value
            let final = try await app.send(.get, "\(path)?limit=100", as: bob).items.compactMap { $0["id"] as? String }
            #expect(final.count == 60)
            #expect(seen == final)
        }
    }

    @Test("read markers only move forward; unread_count counts the other participants' messages after yours")
    func readMarkersAndUnreadCounts() async throws {
        try await MessagesHarness.run { app in
            let alice = try await app.user("alice")
            let bob = try await app.user("bob")
            let conversation = try await app.open(alice, with: bob)
            var ids: [String] = []
            for index in 0..<3 {
                ids.append(try #require(try await app.post(alice, in: conversation, body: "a\(index)").object("message")?["id"] as? String))
            }
            func unread(_ user: TestUser) async throws -> Int? {
                let list = try await app.send(.get, "/api/v1/conversations", as: user)
                return list.items.first { $0["id"] as? String == conversation }?["unread_count"] as? Int
            }
            func read(_ user: TestUser, _ id: String) async throws -> Reply {
                try await app.send(.post, "/api/v1/conversations/\(conversation)/read", as: user, json: #"{"up_to_message_id": "\#(id)"}"#)
            }
            #expect(try await unread(bob) == 3)
            #expect(try await unread(alice) == 0)

            let marked = try await read(bob, ids[1])
            #expect(marked.status == 204)
            #expect(marked.body.isEmpty)
            #expect(try await unread(bob) == 1)
            #expect(try await read(bob, ids[0]).status == 204)
            #expect(try await unread(bob) == 1, "the marker does not move back")
            #expect(try await read(bob, ids[2]).status == 204)
            #expect(try await unread(bob) == 0)

            // Bob's own messages never count for him; Alice's next one does.
            let bobs = try #require(try await app.post(bob, in: conversation, body: "b0").object("message")?["id"] as? String)
            #expect(try await unread(bob) == 0)
            #expect(try await unread(alice) == 1)
            #expect(try await app.post(alice, in: conversation, body: "a3").status == 201)
            #expect(try await unread(bob) == 1)
            let opened = try await app.send(.post, "/api/v1/conversations", as: bob, json: #"{"participant_id": "\#(alice.idString)"}"#)
            #expect(opened.object("conversation")?["unread_count"] as? Int == 1)
            // Alice reads up to Bob's message: her own later one is not unread for her.
            #expect(try await read(alice, bobs).status == 204)
            #expect(try await unread(alice) == 0)

            let other = try await app.open(alice, with: try await app.user("carol"))
            let elsewhere = try #require(try await app.post(alice, in: other, body: "x").object("message")?["id"] as? String)
            #expect(try await read(bob, elsewhere).status == 404)
            #expect(try await read(bob, UUID().uuidString).status == 404)
            #expect(try await app.send(.post, "/api/v1/conversations/\(conversation)/read", as: bob, json: #"{"up_to_message_id": "x"}"#).status == 400)
            #expect(try await app.send(.post, "/api/v1/conversations/\(conversation)/read", as: bob, json: "{}").status == 400)
            let outsider = try await app.user("outsider")
            let notYours = try await app.send(.post, "/api/v1/conversations/\(conversation)/read", as: outsider, json: #"{"up_to_message_id": "\#(ids[0])"}"#)
            #expect(notYours.status == 404)
            #expect(notYours.errorCode == "not_found")
        }
    }

    @Test("every created message is published once to messages.created, keyed by sender, with its recipients")
    func messageCreatedEventsExactlyOnce() async throws {
        try await MessagesHarness.run { app in
            let alice = try await app.user("alice")
            let bob = try await app.user("bob")
            let conversation = try await app.open(alice, with: bob)
            var created: [String: (sender: TestUser, body: String)] = [:]
            for index in 0..<12 {
                let sender = index.isMultiple(of: 3) ? bob : alice
                let reply = try await app.post(sender, in: conversation, body: "hello \(index)", clientMessageID: "c\(index)")
                created[try #require(reply.object("message")?["id"] as? String)] = (sender, "hello \(index)")
                // Retries and rejected posts publish nothing.
                #expect(try await app.post(sender, in: conversation, body: "retry", clientMessageID: "c\(index)").status == 200)
            }
            #expect(try await app.post(alice, in: conversation, body: "").status == 400)

            #expect(try await eventually {
                try await app.postgres.query("SELECT count(*) FROM swap_outbox WHERE state = 'sent'")[0].decode(Int.self, column: 0) == 12
            })
            let messages = try await app.topicMessages()
            #expect(messages.count == 12)
            var seen = Set<String>()
            for message in messages {
                let event = try EventEnvelope.decode(message)
                #expect(event.type == "message.created")
                #expect(message.headers.contains { $0.key == "type" && $0.value == Array("message.created".utf8) })
                struct Data: Decodable {
                    var id: String
                    var conversationId: String
                    var senderId: String
                    var body: String
                    var clientMessageId: String
                    var createdAt: Date
                    var recipientIds: [String]
                }
                let data = try event.decodeData(Data.self)
                let expected = try #require(created[data.id])
                #expect(seen.insert(data.id).inserted, "published twice: \(data.id)")
                #expect(message.keyString == expected.sender.idString)
                #expect(data.senderId == expected.sender.idString)
                #expect(data.body == expected.body)
                #expect(data.conversationId == conversation)
                #expect(data.recipientIds == [(expected.sender.id == alice.id ? bob : alice).idString])
            }
            #expect(seen == Set(created.keys))
            // One sender's events are in order on their partition.
            struct Body: Decodable { var body: String }
            for sender in [alice, bob] {
                let bodies = messages.filter { $0.keyString == sender.idString }.sorted { $0.offset < $1.offset }
                    .compactMap { try? EventEnvelope.decode($0).decodeData(Body.self).body }
                let expected = (0..<12).filter { ($0.isMultiple(of: 3) ? bob : alice).id == sender.id }.map { "hello \($0)" }
                #expect(bodies == expected)
            }
        }
    }
}

/// Set once, read any time.
actor Flag {
    private(set) var value = false
    func set() { value = true }
}
