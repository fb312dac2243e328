import Synchronization

/// One breaker per upstream. Closed: requests flow and consecutive failures
/// (connect errors, timeouts, 502/503/504 from the upstream) are counted;
/// at `failureThreshold` it opens. Open: requests are refused at once until
/// `coolDown` has passed. Then it is half-open: exactly one probe goes
/// through; its success closes the breaker, its failure opens it again.
public final class CircuitBreaker: Sendable {
    public struct Settings: Sendable {
        public var failureThreshold: Int
        public var coolDown: Duration

        public init(failureThreshold: Int = 5, coolDown: Duration = .seconds(10)) {
            self.failureThreshold = failureThreshold
            self.coolDown = coolDown
        }
    }

    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen
    }

    /// Permission to send one request; report its outcome exactly once.
    public struct Permit: Sendable {
        let isProbe: Bool
    }

    private let settings: Settings
    private let state = Mutex<State>(.closed(consecutiveFailures: 0))

    public init(settings: Settings) {
        self.settings = settings
    }

    public var currentState: State { state.withLock { $0 } }

    /// A permit, or `nil` while the breaker refuses requests.
    public func acquire(now: ContinuousClock.Instant = .now) -> Permit? {
        state.withLock { state in
            switch state {
            case .closed:
                return Permit(isProbe: false)
            case .open(let until) where now >= until:
                state = .halfOpen
                return Permit(isProbe: true)
            case .open, .halfOpen:
                return nil
            }
        }
    }

    public func recordSuccess(_ permit: Permit) {
        state.withLock { state in
            // A late success from before the breaker opened does not close it: only the probe does.
            switch state {
            case .closed: state = .closed(consecutiveFailures: 0)
            case .halfOpen where permit.isProbe: state = .closed(consecutiveFailures: 0)
            default: break
            }
        }
    }

    public func recordFailure(_ permit: Permit, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            switch state {
            case .closed(let failures):
                state = failures + 1 >= settings.failureThreshold
                    ? .open(until: now + settings.coolDown)
                    : .closed(consecutiveFailures: failures + 1)
            case .halfOpen where permit.isProbe:
                state = .open(until: now + settings.coolDown)
            default:
                break
            }
        }
    }

    /// Whole seconds (at least 1) until a probe may go through: the Retry-After of a refusal.
    public func secondsUntilProbe(now: ContinuousClock.Instant = .now) -> Int {
        state.withLock { state in
            guard case .open(let until) = state, until > now else { return 1 }
            let (seconds, attoseconds) = (until - now).components
            return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
        }
    }

    /// The request ended without telling anything about the upstream (the
    /// client went away): a probe hands its turn to the next request.
    public func release(_ permit: Permit) {
        guard permit.isProbe else { return }
        state.withLock { state in
            if state == .halfOpen { state = .open(until: .now) }
        }
    }
}
