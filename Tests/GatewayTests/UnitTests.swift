import Foundation
@testable import Gateway
import ServiceKit
import Testing

@Suite struct CircuitBreakerTests {
    @Test func opensAfterConsecutiveFailuresAndLetsOneProbeThrough() throws {
        let breaker = CircuitBreaker(settings: .init(failureThreshold: 3, coolDown: .seconds(5)))
        let start = ContinuousClock.now
        for _ in 0..<2 { breaker.recordFailure(try #require(breaker.acquire(now: start)), now: start) }
        // A success in between resets the count.
        breaker.recordSuccess(try #require(breaker.acquire(now: start)))
        for _ in 0..<3 { breaker.recordFailure(try #require(breaker.acquire(now: start)), now: start) }
        #expect(breaker.acquire(now: start) == nil)
        #expect(breaker.acquire(now: start + .seconds(4)) == nil)

        let probe = try #require(breaker.acquire(now: start + .seconds(5)))
        #expect(breaker.acquire(now: start + .seconds(5)) == nil, "only one probe while half-open")
        breaker.recordFailure(probe, now: start + .seconds(5))
        #expect(breaker.acquire(now: start + .seconds(9)) == nil, "a failed probe opens it for another cool-down")

        let second = try #require(breaker.acquire(now: start + .seconds(10)))
        breaker.recordSuccess(second)
        #expect(breaker.currentState == .closed(consecutiveFailures: 0))
    }

    @Test func anAbandonedProbeHandsItsTurnOn() throws {
        let breaker = CircuitBreaker(settings: .init(failureThreshold: 1, coolDown: .seconds(1)))
        let start = ContinuousClock.now
        breaker.recordFailure(try #require(breaker.acquire(now: start)), now: start)
        let probe = try #require(breaker.acquire(now: start + .seconds(2)))
        breaker.release(probe)
        #expect(breaker.acquire() != nil)
    }
}

@Suite struct ConfigurationTests {
    @Test func collectsEveryProblemAtOnce() {
        #expect {
            _ = try GatewayConfiguration(environment: [
                "PORT": "99999",
                "UPSTREAM_MAP_URL": "ftp://map",
                "UPSTREAM_POINTS_PREFIXES": "/api/v1/points",
                "RATE_LIMIT_PER_USER_RPS": "fast",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("PORT") && text.contains("JWT_SECRET_FILE") && text.contains("DATABASE_HOST")
                && text.contains("REDIS_URL") && text.contains("UPSTREAM_MAP_URL") && text.contains("UPSTREAM_POINTS_PREFIXES")
                && text.contains("RATE_LIMIT_PER_USER_RPS")
        }
    }

    @Test func upstreamsFromTheEnvironmentAndLongestPrefixWins() throws {
        let problems = EnvironmentReader([:])
        let upstreams = Upstream.parse(environment: [
            "UPSTREAM_FINANCIAL_URL": "http://financial:3002",
            "UPSTREAM_FINANCIAL_PREFIXES": "/api/v1/wallet, /api/v1/transfers/",
            "UPSTREAM_REAL_TIME_URL": "http://realtime:3100/",
            "UPSTREAM_REAL_TIME_PREFIXES": "/api/v1/presence",
            "UPSTREAM_WALLETX_URL": "http://walletx:1",
            "UPSTREAM_WALLETX_PREFIXES": "/api/v1/wallet/special",
        ], problems: problems)
        #expect(problems.problems.isEmpty)
        #expect(upstreams.map(\.name) == ["financial", "real_time", "walletx"])
        #expect(upstreams[0].prefixes == ["/api/v1/wallet", "/api/v1/transfers"])
        #expect(upstreams[1].baseURL == "http://realtime:3100")
        let table = UpstreamTable(upstreams)
        #expect(table.upstream(forPath: "/api/v1/wallet")?.name == "financial")
        #expect(table.upstream(forPath: "/api/v1/wallet/deposits")?.name == "financial")
        #expect(table.upstream(forPath: "/api/v1/wallet/special/x")?.name == "walletx")
        #expect(table.upstream(forPath: "/api/v1/walletx") == nil)
        #expect(table.upstream(forPath: "/api/v1/presence/abc")?.name == "real_time")
    }

    @Test func duplicatePrefixesAreRefused() {
        let problems = EnvironmentReader([:])
        _ = Upstream.parse(environment: [
            "UPSTREAM_A_URL": "http://a:1", "UPSTREAM_A_PREFIXES": "/api/v1/x",
            "UPSTREAM_B_URL": "http://b:1", "UPSTREAM_B_PREFIXES": "/api/v1/x,/health",
        ], problems: problems)
        #expect(problems.problems.count == 2)
    }
}

@Suite struct CredentialsTests {
    @Test func emails() {
        #expect(Credentials.normalisedEmail("Alice.Smith+tag@Example.CO.uk") == "alice.smith+tag@example.co.uk")
        for bad in ["", "plain", "ünicode@example.com", "a@exämple.com", "@example.com", "a@", "a@b", "a@@b.com", "a b@c.com", "a@b..com", "a@-b.com", ".a@b.com", "a@b.com\n"] {
            #expect(Credentials.normalisedEmail(bad) == nil, "\(bad)")
        }
    }
}
