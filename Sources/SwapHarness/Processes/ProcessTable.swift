import Foundation

/// What /proc says about processes, so that a pid recorded in state.json is
/// only ever signalled while it still names the process the harness started:
/// a pid is identified by (pid, start time), never by the pid alone.
public enum ProcessTable {
    /// One process as seen in /proc/PID/stat.
    struct Entry: Sendable {
        var pid: Int32
        var state: Character
        var processGroup: Int32
        var session: Int32
        /// Clock ticks since boot (field 22), stable for the process's life.
        var startTime: UInt64
    }

    static func entry(_ pid: Int32) -> Entry? {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may itself hold spaces or parentheses.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field N is fields[N - 3].
        guard fields.count > 19, let state = fields[0].first,
              let group = Int32(fields[2]), let session = Int32(fields[3]), let start = UInt64(fields[19]) else { return nil }
        return Entry(pid: pid, state: state, processGroup: group, session: session, startTime: start)
    }

    /// The start time of a live (not zombie) process, or nil.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard let entry = entry(pid), entry.state != "Z", entry.state != "X" else { return nil }
        return entry.startTime
    }

    /// Whether `pid` is alive (zombies are dead) and, when given, started at `startTime`.
    public static func isAlive(_ pid: Int32, startTime: UInt64? = nil) -> Bool {
        guard let actual = self.startTime(of: pid) else { return false }
        return startTime.map { $0 == actual } ?? true
    }

    /// Live members of process group `group` (workers a killed nginx master left behind).
    static func members(ofGroup group: Int32) -> [Int32] {
        guard group > 1, let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap(Int32.init).filter { pid in
            guard let entry = entry(pid), entry.state != "Z", entry.state != "X" else { return false }
            return entry.processGroup == group
        }
    }

    /// SIGKILL to every live member of a process group the harness created
    /// (each child leads its own group, its pgid is its pid).
    static func killGroup(_ group: Int32) {
        guard group > 1 else { return }
        if kill(-group, SIGKILL) != 0 {
            // The group may be gone, or kill(-g) refused: kill members one by one.
            for pid in members(ofGroup: group) { kill(pid, SIGKILL) }
        }
    }

    /// Waits until `pid` is gone (or a zombie), polling; true when it is.
    static func waitForExit(_ pid: Int32, startTime: UInt64?, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isAlive(pid, startTime: startTime) {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return true
    }
}
