import Foundation
import LocalServers
import ServiceKit
import ServiceTesting
import SwapKafka
import SwapPostgres
import SwapRedis
import Testing

@Suite("Readiness probes", .serialized, .timeLimit(.minutes(5)))
struct ReadinessCheckTests {
    /// A loopback port nothing listens on.
    static let deadPort = 1

    @Test("postgres, redis and kafka probes pass against live servers")
    func liveDependencies() async throws {
        let redisServer = try await SharedServers.shared.redisServer()
        let broker = try await SharedServers.shared.kafkaBroker()
        try await withTestDatabase { pool, _ in
            let redis = RedisPool(configuration: try RedisConfiguration(url: redisServer.url))
            let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: [broker.bootstrapServers]))
            let results = await HealthRoutes.probe(
                [.postgres(pool), .redis(redis), .kafka(admin)], timeout: .seconds(3)
            )
            #expect(results == ["postgres": true, "redis": true, "kafka": true])
            await redis.close()
            await admin.shutdown()
        }
    }

    @Test("probes fail, within the deadline, when the dependencies are down")
    func deadDependencies() async throws {
        var configuration = PostgresConfiguration(host: "127.0.0.1", port: Self.deadPort, user: "postgres", database: "none")
        configuration.tls = .disable
        let pool = PostgresPool(configuration: configuration, maxConnections: 1, checkoutTimeout: .seconds(1))
        let redis = RedisPool(configuration: RedisConfiguration(host: "127.0.0.1", port: Self.deadPort))
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: ["127.0.0.1:\(Self.deadPort)"]))
        let started = ContinuousClock.now
        let results = await HealthRoutes.probe(
            [.postgres(pool), .redis(redis), .kafka(admin, timeout: .milliseconds(500))], timeout: .seconds(2)
        )
        #expect(results == ["postgres": false, "redis": false, "kafka": false])
        #expect(ContinuousClock.now - started < .seconds(4))
        await pool.close()
        await redis.close()
        await admin.shutdown()
    }

    @Test("a probe that ignores cancellation (blocked in a C call) does not hold the reply past the deadline")
    func deadlineHoldsForABlockedProbe() async {
        let blocked = ReadinessCheck("blocked") {
            // Like a libpq connect to a host that drops packets: cancellation does not reach it.
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) { continuation.resume(returning: true) }
            }
        }
        let quick = ReadinessCheck("quick") { true }
        let started = ContinuousClock.now
        let results = await HealthRoutes.probe([blocked, quick], timeout: .milliseconds(300))
        #expect(results == ["blocked": false, "quick": true])
        #expect(ContinuousClock.now - started < .seconds(3), "the reply waited for the blocked probe")
    }
}
