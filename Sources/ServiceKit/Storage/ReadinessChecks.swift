import SwapKafka
import SwapPostgres
import SwapRedis

// The standard probes for `/ready`. Each answers false rather than throwing;
// HealthRoutes gives every probe the same deadline and counts a late answer
// as failing.
extension ReadinessCheck {
    /// `SELECT 1` on a pooled session (waits at most the pool's checkout timeout).
    public static func postgres(_ pool: PostgresPool, name: String = "postgres") -> ReadinessCheck {
        ReadinessCheck(name) {
            guard let rows = try? await pool.query("SELECT 1"), let row = rows.first else { return false }
            return (try? row.decode(Int.self, column: 0)) == 1
        }
    }

    /// `PING` answered with `PONG`.
    public static func redis(_ client: any RedisClient, name: String = "redis") -> ReadinessCheck {
        ReadinessCheck(name) {
            (try? await client.send("PING"))?.string == "PONG"
        }
    }

    /// The cluster's metadata, read within `timeout`: at least one broker
    /// answers. The call runs on SwapKafka's blocking pool, so keep the
    /// timeout below the `/ready` deadline.
    public static func kafka(_ admin: KafkaAdmin, timeout: Duration = .seconds(1), name: String = "kafka") -> ReadinessCheck {
        ReadinessCheck(name) {
            (try? await admin.listTopics(timeout: timeout)) != nil
        }
    }
}
