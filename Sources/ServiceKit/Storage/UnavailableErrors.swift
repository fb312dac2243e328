import SwapPostgres
import SwapRedis

// Database and cache failures that reach the error middleware become 503
// `unavailable` ("try again"), never a 500 with the driver's text. Handlers
// still catch the failures that mean something to the client (a unique
// violation is a 409) before they get here.

extension PostgresError: UnavailableError {
    public var logDescription: String { self.debugDescription }
}

extension RedisError: UnavailableError {
    public var logDescription: String { self.debugDescription }
}
