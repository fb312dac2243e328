import Dispatch
import Synchronization

/// The bounded hand-over between a consumer's poll thread and the tasks
/// reading ``KafkaConsumer/messages``. Finishing it (close, cancellation,
/// fatal error, deinit) is also what tells the poll thread to stop.
final class MessageBuffer: Sendable {
    typealias Waiter = CheckedContinuation<KafkaConsumerMessage?, any Error>

    private enum Terminal {
        case finished
        case failed(KafkaError)
    }

    private struct State {
        var items: [KafkaConsumerMessage] = []
        var head = 0
        var waiters: [Waiter] = []
        var terminal: Terminal?

        var count: Int { self.items.count - self.head }

        mutating func popFirst() -> KafkaConsumerMessage? {
            guard self.head < self.items.count else { return nil }
            let item = self.items[self.head]
            self.head += 1
            if self.head == self.items.count {
                self.items.removeAll(keepingCapacity: true)
                self.head = 0
            }
            return item
        }
    }

    let capacity: Int
    private let state = Mutex(State())
    /// Signalled when a reader takes a message; spurious signals are harmless.
    private let space = DispatchSemaphore(value: 0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    var isFinished: Bool { self.state.withLock { $0.terminal != nil } }

    /// Poll thread: true when there is room; otherwise waits up to the
    /// timeout for a reader and returns false.
    func waitForSpace(timeoutMilliseconds: Int) -> Bool {
        if self.state.withLock({ $0.count < self.capacity }) { return true }
        _ = self.space.wait(timeout: .now() + .milliseconds(timeoutMilliseconds))
        return false
    }

    /// Poll thread: hands a message to a waiting reader or buffers it;
    /// dropped once the buffer is finished.
    func push(_ message: KafkaConsumerMessage) {
        let waiter: Waiter? = self.state.withLock { state in
            guard state.terminal == nil else { return nil }
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.items.append(message)
            return nil
        }
        waiter?.resume(returning: message)
    }

    /// Ends the sequence: readers get `nil` (or `error`, once) and buffered
    /// messages are dropped. Only the first call counts.
    func finish(throwing error: KafkaError? = nil) {
        let waiters: [Waiter] = self.state.withLock { state in
            guard state.terminal == nil else { return [] }
            state.terminal = error.map { .failed($0) } ?? .finished
            state.items = []
            state.head = 0
            defer { state.waiters = [] }
            return state.waiters
        }
        guard !waiters.isEmpty else {
            self.space.signal()
            return
        }
        if let error {
            waiters[0].resume(throwing: error)
            self.state.withLock { $0.terminal = .finished }
            for waiter in waiters.dropFirst() { waiter.resume(returning: nil) }
        } else {
            for waiter in waiters { waiter.resume(returning: nil) }
        }
        self.space.signal()
    }

    /// Reader: the next message, `nil` at the end. Cancelling the waiting
    /// task finishes the buffer, which closes the consumer.
    func next() async throws -> KafkaConsumerMessage? {
        if Task.isCancelled {
            self.finish()
            return nil
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: Waiter) in
                let result: Result<KafkaConsumerMessage?, KafkaError>? = self.state.withLock { state in
                    if let item = state.popFirst() { return .success(item) }
                    switch state.terminal {
                    case .finished: return .success(nil)
                    case .failed(let error):
                        state.terminal = .finished
                        return .failure(error)
                    case nil: break
                    }
                    // Checked under the lock: a cancellation handler that already ran found no waiter.
                    if Task.isCancelled { return .success(nil) }
                    state.waiters.append(waiter)
                    return nil
                }
                if let result {
                    self.space.signal()
                    waiter.resume(with: result)
                }
            }
        } onCancel: {
            self.finish()
        }
    }
}
