import Foundation
import Synchronization

/// The last line of defence against leaked servers: children still running
/// and state folders not yet removed when this process exits normally are
/// stopped and deleted by an `atexit` handler.
enum ExitCleanup {
    private static let children = Mutex<[Int32: Int32]>([:])
    private static let directories = Mutex<Set<String>>([])
    private static let installed: Bool = {
        atexit { ExitCleanup.runAtExit() }
        return true
    }()

    static func remember(pid: Int32, stopSignal: Int32) {
        _ = self.installed
        self.children.withLock { $0[pid] = stopSignal }
    }

    static func forget(pid: Int32) {
        _ = self.children.withLock { $0.removeValue(forKey: pid) }
    }

    static func remember(directory: URL) {
        _ = self.installed
        _ = self.directories.withLock { $0.insert(directory.path) }
    }

    static func forget(directory: URL) {
        _ = self.directories.withLock { $0.remove(directory.path) }
    }

    private static func runAtExit() {
        let children = self.children.withLock { $0 }
        for (pid, signal) in children {
            kill(pid, signal)
            kill(pid, SIGCONT)
        }
        // Up to 5 s for clean shutdowns, then SIGKILL whatever is left.
        var waited = 0
        while waited < 250, children.keys.contains(where: isAlive) {
            usleep(20_000)
            waited += 1
        }
        for pid in children.keys where isAlive(pid) {
            kill(pid, SIGKILL)
        }
        for path in self.directories.withLock({ $0 }) {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Alive and not a zombie (a zombie has exited; only its exit status remains).
    private static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
            return kill(pid, 0) == 0
        }
        guard let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
        return state != "Z"
    }
}
