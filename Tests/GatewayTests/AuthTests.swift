import AsyncHTTPClient
import Foundation
import NIOHTTP1
import LocalServers
import ServiceKit
import ServiceTesting
import Testing

@Suite(.serialized, .timeLimit(.minutes(10)))
struct AuthTests {
    @Test func signupLoginRefreshAndCurrentUser() async throws {
        try await GatewayHarness.run { gateway in
            let signup = try await gateway.send(.POST, "/auth/v1/signup", json: #"{"email": "Alice@Example.com", "password": "correct horse"}"#)
            #expect(signup.status == 200)
            #expect(signup.header("Cache-Control") == "no-store")
            let session = signup.json
            #expect(session["token_type"] as? String == "bearer")
            #expect(session["expires_in"] as? Int == 3600)
            let user = try #require(session["user"] as? [String: Any])
            #expect(user["email"] as? String == "alice@example.com")
            let userID = try #require(user["id"] as? String)
            let access = try #require(session["access_token"] as? String)
            let refresh = try #require(session["refresh_token"] as? String)
            #expect(refresh.count == 43)

            let claims = try gateway.tokens.verify(access)
            #expect(claims.sub == userID)
            #expect(claims.email == "alice@example.com")
            #expect(claims.aud == "authenticated" && claims.role == "authenticated")
            #expect(claims.exp - claims.iat == 3600)

            // Only hashes are stored; the user row exists with a bcrypt hash.
            let stored = try await gateway.postgres.psql("SELECT count(*) FROM auth.refresh_tokens WHERE token_hash = '\(refresh)'", database: "swap")
            #expect(stored.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            let hash = try await gateway.postgres.psql("SELECT encrypted_password FROM auth.users WHERE id = '\(userID)'", database: "swap")
            #expect(hash.hasPrefix("$2b$") || hash.hasPrefix("$2a$") || hash.hasPrefix("$2y$"))

            let me = try await gateway.send(.GET, "/auth/v1/user", bearer: access)
            #expect(me.status == 200)
            #expect(me.json["id"] as? String == userID)
            #expect(me.json["email"] as? String == "alice@example.com")

            let login = try await gateway.send(.POST, "/auth/v1/token?grant_type=password", json: #"{"email": "alice@example.com", "password": "correct horse"}"#)
            #expect(login.status == 200)
            #expect((login.json["user"] as? [String: Any])?["id"] as? String == userID)

            let refreshed = try await gateway.send(.POST, "/auth/v1/token?grant_type=refresh_token", json: #"{"refresh_token": "\#(refresh)"}"#)
            #expect(refreshed.status == 200)
            let next = try #require(refreshed.json["refresh_token"] as? String)
            #expect(next != refresh)
            #expect((refreshed.json["user"] as? [String: Any])?["email"] as? String == "alice@example.com")
            let nextAccess = try #require(refreshed.json["access_token"] as? String)
            #expect(try gateway.tokens.verify(nextAccess).sub == userID)

            // The rotated token works once more down the chain.
            let again = try await gateway.send(.POST, "/auth/v1/token?grant_type=refresh_token", json: #"{"refresh_token": "\#(next)"}"#)
            #expect(again.status == 200)
        }
    }

    @Test func duplicateEmailIsConflictRegardlessOfCase() async throws {
        try await GatewayHarness.run { gateway in
            let first = try await gateway.send(.POST, "/auth/v1/signup", json: #"{"email": "bob@example.com", "password": "password-1"}"#)
            #expect(first.status == 200)
            let second = try await gateway.send(.POST, "/auth/v1/signup", json: #"{"email": "BOB@example.com", "password": "password-2"}"#)
            #expect(second.status == 409)
            #expect(second.errorCode == "email_exists")
            #expect(second.errorRequestID == second.header("X-Request-ID"))
        }
    }

    @Test func wrongPasswordAndUnknownEmailAreTheSame401() async throws {
        try await GatewayHarness.run { gateway in
            _ = try await gateway.send(.POST, "/auth/v1/signup", json: #"{"email": "carol@example.com", "password": "right password"}"#)
            let wrong = try await gateway.send(.POST, "/auth/v1/token?grant_type=password", json: #"{"email": "carol@example.com", "password": "wrong password"}"#)
            let unknown = try await gateway.send(.POST, "/auth/v1/token?grant_type=password", json: #"{"email": "nobody@example.com", "password": "right password"}"#)
            #expect(wrong.status == 401)
            #expect(unknown.status == 401)
            #expect(wrong.errorCode == unknown.errorCode)
            #expect(wrong.errorMessage == unknown.errorMessage)
            #expect(wrong.errorMessage != nil)
        }
    }

    @Test func reusedRefreshTokenIs401AndRevokesItsFamily() async throws {
        try await GatewayHarness.run { gateway in
            let signup = try await gateway.send(.POST, "/auth/v1/signup", json: #"{"email": "dave@example.com", "password": "password-1"}"#)
            let first = try #require(signup.json["refresh_token"] as? String)
            let rotated = try await gateway.send(.POST, "/auth/v1/token?grant_type=refresh_token", json: #"{"refresh_token": "\#(first)"}"#)
            #expect(rotated.status == 200)
            let second = try #require(rotated.json["refresh_token"] as? String)

            let reused = try await gateway.send(.POST, "/auth/v1/token?grant_type=refresh_token", json: #"{"refresh_token": "\#(first)"}"#)
            #expect(reused.status == 401)
            #expect(reused.errorCode == "invalid_refresh_token")
            // The thief's reuse revoked the legitimate successor as well.
            let successor = try await gateway.send(.POST, "/auth/v1/token?grant_type=refresh_token", json: #"{"refresh_token": "\#(second)"}"#)
            #expect(successor.status == 401)

            let unknown = try await gateway.send(.POST, "/auth/v1/token?grant_type=refresh_token", json: #"{"refresh_token": "not-a-token-we-issued"}"#)
            #expect(unknown.status == 401)

            // A password login starts a new, independent family.
            let login = try await gateway.send(.POST, "/auth/v1/token?grant_type=password", json: #"{"email": "dave@example.com", "password": "password-1"}"#)
            let fresh = try #require(login.json["refresh_token"] as? String)
            let ok = try await gateway.send(.POST, "/auth/v1/token?grant_type=refresh_token", json: #"{"refresh_token": "\#(fresh)"}"#)
            #expect(ok.status == 200)
        }
    }

    @Test func malformedInputIs400() async throws {
        try await GatewayHarness.run { gateway in
            let longPassword = String(repeating: "x", count: 73)
            let cases: [(String, String?)] = [
                ("/auth/v1/signup", #"{"email": "not-an-email", "password": "password-1"}"#),
                ("/auth/v1/signup", #"{"email": "a@b", "password": "password-1"}"#),
                ("/auth/v1/signup", #"{"email": "two@@example.com", "password": "password-1"}"#),
                ("/auth/v1/signup", #"{"email": "space @example.com", "password": "password-1"}"#),
                ("/auth/v1/signup", #"{"email": "short@example.com", "password": "short"}"#),
                ("/auth/v1/signup", #"{"email": "long@example.com", "password": "\#(longPassword)"}"#),
                ("/auth/v1/signup", #"{"email": "nul@example.com", "password": "pass\u0000word"}"#),
                ("/auth/v1/signup", #"{"email": "missing@example.com"}"#),
                ("/auth/v1/signup", #"{"email": 42, "password": "password-1"}"#),
                ("/auth/v1/signup", #"{"email": "#),
                ("/auth/v1/signup", nil),
                ("/auth/v1/token?grant_type=password", #"{"email": "x@example.com"}"#),
                ("/auth/v1/token", #"{"email": "x@example.com", "password": "password-1"}"#),
                ("/auth/v1/token?grant_type=magic", #"{"email": "x@example.com", "password": "password-1"}"#),
                ("/auth/v1/token?grant_type=refresh_token", #"{"refresh_token": ""}"#),
                ("/auth/v1/token?grant_type=refresh_token", #"{}"#),
            ]
            for (path, body) in cases {
                let reply = try await gateway.send(.POST, path, json: body ?? "")
                #expect(reply.status == 400, "\(path) \(body ?? "<empty>") -> \(reply.status) \(reply.text)")
                #expect(reply.errorCode != nil)
            }
            let wrongType = try await gateway.send(.POST, "/auth/v1/signup", headers: [("Content-Type", "text/plain")])
            #expect(wrongType.status == 415)
            // Nothing was created by any of them.
            let users = try await gateway.postgres.psql("SELECT count(*) FROM auth.users", database: "swap")
            #expect(users.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    @Test func currentUserNeedsAValidToken() async throws {
        try await GatewayHarness.run { gateway in
            let none = try await gateway.send(.GET, "/auth/v1/user")
            #expect(none.status == 401)
            #expect(none.errorCode == "unauthorized")
            // A valid token for a user that does not exist (deleted) is no longer signed in.
            let ghost = try await gateway.send(.GET, "/auth/v1/user", bearer: gateway.token())
            #expect(ghost.status == 401)
        }
    }
}
