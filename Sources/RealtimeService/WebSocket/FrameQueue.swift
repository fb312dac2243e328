import Synchronization

/// A socket's bounded outbound queue, between the task that reads the
/// user's stream and the task that writes to the socket.
///
/// At most `capacity` frames wait at once (the stream reader takes no more
/// from Redis than there is room for, so a backlog stays in Redis, not in
/// this process); pong replies have their own small allowance and are
/// dropped beyond it.
final class FrameQueue: Sendable {
    enum Item: Sendable {
        case frame(String)
        case pong
    }

    let capacity: Int
    static let pongAllowance = 8

    let items: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let counts = Mutex<(frames: Int, pongs: Int)>((0, 0))

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        (items, continuation) = AsyncStream.makeStream(of: Item.self)
    }

    /// Frames waiting to be written.
    var frames: Int { counts.withLock { $0.frames } }

    /// Room for this many more frames.
    var room: Int { max(0, capacity - frames) }

    /// Queues a frame; false when the queue is full.
    @discardableResult
    func offer(_ frame: String) -> Bool {
        let accepted = counts.withLock { counts in
            guard counts.frames < capacity else { return false }
            counts.frames += 1
            return true
        }
        if accepted { continuation.yield(.frame(frame)) }
        return accepted
    }

    /// Queues `{"type":"pong"}`; false (dropped) when too many are waiting.
    @discardableResult
    func offerPong() -> Bool {
        let accepted = counts.withLock { counts in
            guard counts.pongs < Self.pongAllowance else { return false }
            counts.pongs += 1
            return true
        }
        if accepted { continuation.yield(.pong) }
        return accepted
    }

    /// The writer finished with `item`: its room is free again.
    func written(_ item: Item) {
        counts.withLock { counts in
            switch item {
            case .frame: counts.frames -= 1
            case .pong: counts.pongs -= 1
            }
        }
    }

    /// Waits until there is room for a frame; false when the queue stayed
    /// full for `timeout` (the client does not keep up).
    func waitForRoom(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while room == 0 {
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    func finish() {
        continuation.finish()
    }
}
