import Foundation
import Synchronization

/// The live view of a boot: one line per component (waiting, starting, ready
/// in N ms, failed). On a terminal the lines are redrawn in place; otherwise
/// each change is printed once, as a plain line.
public final class ProgressBoard: Sendable {
    private struct Drawn {
        var lineCount = 0
        var lastLines: [String] = []
        var lastStatus: [String: ComponentState.Status] = [:]
        var finished = false
    }

    private let interactive: Bool
    private let color: Bool
    private let drawn = Mutex(Drawn())

    /// `interactive` defaults to whether stdout is a terminal; colour also
    /// honours NO_COLOR.
    public init(interactive: Bool = isatty(STDOUT_FILENO) != 0, color: Bool? = nil) {
        self.interactive = interactive
        self.color = color ?? (interactive && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)
    }

    public func show(_ state: StackState) {
        self.drawn.withLock { drawn in
            guard !drawn.finished else { return }
            if self.interactive {
                let lines = state.components.map { self.line(for: $0, in: state) }
                if lines == drawn.lastLines, drawn.lineCount == lines.count { return }
                drawn.lastLines = lines
                var text = drawn.lineCount > 0 ? "\u{1B}[\(drawn.lineCount)A" : ""
                for line in lines { text += "\u{1B}[2K" + line + "\n" }
                drawn.lineCount = lines.count
                Self.write(text)
            } else {
                for component in state.components where drawn.lastStatus[component.name] != component.status {
                    drawn.lastStatus[component.name] = component.status
                    Self.write(self.line(for: component, in: state) + "\n")
                }
            }
        }
    }

    /// A line above the board (a restart, a warning).
    public func message(_ text: String) {
        self.drawn.withLock { drawn in
            if self.interactive, drawn.lineCount > 0, !drawn.finished {
                // Clear the board; the next show() draws it again below the message.
                Self.write("\u{1B}[\(drawn.lineCount)A\u{1B}[J" + text + "\n")
                drawn.lineCount = 0
            } else {
                Self.write(text + "\n")
            }
        }
    }

    /// Stops redrawing; later messages are plain lines.
    public func finish() {
        self.drawn.withLock { $0.finished = true }
    }

    func line(for component: ComponentState, in state: StackState) -> String {
        let label = component.name.padding(toLength: max(12, component.name.count), withPad: " ", startingAt: 0)
        let kind = component.kind.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        let address = component.ports["https"].map { "https 127.0.0.1:\($0)" } ?? "127.0.0.1:\(component.port)"
        let (mark, text, tint): (String, String, String) = switch component.status {
        case .waiting:
            ("·", "waiting" + Self.waitingFor(component, in: state), "2")
        case .starting:
            ("…", "starting", "33")
        case .ready:
            ("✔", "ready" + (component.readyInMs.map { " in \($0) ms" } ?? ""), "32")
        case .failed:
            ("✘", "failed" + (component.detail.map { ": \($0)" } ?? ""), "31")
        case .restarting:
            ("↻", "restarting" + (component.detail.map { " (\($0))" } ?? ""), "33")
        case .skipped:
            ("-", "skipped" + (component.detail.map { " (\($0))" } ?? ""), "2")
        case .stopping:
            ("…", "stopping", "33")
        case .stopped:
            ("■", "stopped", "2")
        }
        let body = "\(mark) \(label) \(kind) \(text)"
        let suffix = component.status == .ready ? "  \(address)" : ""
        return self.color ? "  \u{1B}[\(tint)m\(body)\u{1B}[0m\(suffix)" : "  \(body)\(suffix)"
    }

    private static func waitingFor(_ component: ComponentState, in state: StackState) -> String {
        let pending = component.dependencies.filter { state.component($0)?.status != .ready }
        guard !pending.isEmpty else { return "" }
        let shown = pending.prefix(3).joined(separator: ", ") + (pending.count > 3 ? ", …" : "")
        return " for \(shown)"
    }

    private static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
