import Foundation
import Synchronization

/// The supervisor's exclusive lock on its state folder (flock on
/// `supervisor.lock`). The kernel releases it when the supervisor exits in
/// any way, crash included, so a held lock means a live supervisor.
final class StateLock: Sendable {
    private let descriptor: Mutex<Int32>

    private init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    /// Takes the lock, or returns nil when another supervisor holds it.
    static func acquire(_ file: URL) throws -> StateLock? {
        // O_CLOEXEC: children must not inherit (and so keep) the lock.
        let descriptor = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw HarnessError.io("cannot open \(file.path): \(String(cString: strerror(errno)))") }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            close(descriptor)
            return nil
        }
        return StateLock(descriptor: descriptor)
    }

    /// Whether some process holds the lock on `file` right now.
    static func isHeld(_ file: URL) -> Bool {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        flock(descriptor, LOCK_UN)
        return false
    }

    func release() {
        self.descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            flock(descriptor, LOCK_UN)
            close(descriptor)
            descriptor = -1
        }
    }

    deinit {
        self.release()
    }
}
