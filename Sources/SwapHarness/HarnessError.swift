import Foundation

/// Why the harness could not do what it was asked; every description is a
/// complete, user-facing message.
public enum HarnessError: Error, Sendable, CustomStringConvertible {
    /// A stack already runs from this state folder.
    case alreadyRunning(stateFolder: String, supervisor: Int32, since: String?)
    /// No supervisor runs from this state folder.
    case notRunning(stateFolder: String)
    /// A name that is no component, service or kind of the running stack.
    case unknownComponent(String, known: [String])
    /// A component failed to start: it exited, or was not ready in time.
    case componentFailed(component: String, reason: String, logFile: String?, logTail: String)
    /// A program the harness needs is not installed.
    case missingTool(String, hint: String)
    /// A service binary is missing.
    case missingProduct(service: String, path: String)
    /// A secret with no generator has no value.
    case missingSecret(name: String, expected: String)
    /// The topology asks for something a native run cannot provide.
    case unsupported(String)
    /// The boot was cancelled (Ctrl-C while starting).
    case cancelled
    /// A file operation failed.
    case io(String)

    public var description: String {
        switch self {
        case .alreadyRunning(let folder, let supervisor, let since):
            "the stack is already running from \(folder) (swapctl supervisor pid \(supervisor)\(since.map { ", up since \($0)" } ?? "")); "
                + "see `swapctl status`, or stop it first with `swapctl down`"
        case .notRunning(let folder):
            "no stack is running from \(folder); start one with `swapctl up`"
        case .unknownComponent(let name, let known):
            "no component, service or kind '\(name)' in the running stack; components: \(known.joined(separator: ", "))"
        case .componentFailed(let component, let reason, let logFile, let logTail):
            "\(component) \(reason)" + Self.tail(logTail, of: logFile)
        case .missingTool(let name, let hint):
            "\(name) not found on PATH (\(hint)); run script/bootstrap"
        case .missingProduct(let service, let path):
            "service '\(service)': \(path) does not exist; build it (`swift build --product \((path as NSString).lastPathComponent)`) or run `swapctl up` without --no-build"
        case .missingSecret(let name, let expected):
            "secret '\(name)' has no generator and no value: write it to \(expected) (see `swapctl secrets init`)"
        case .unsupported(let message):
            message
        case .cancelled:
            "the boot was cancelled"
        case .io(let message):
            message
        }
    }

    private static func tail(_ text: String, of file: String?) -> String {
        let trimmed = text.trimmingCharacters(in: .newlines)
        return trimmed.isEmpty ? "" : "\n--- last lines of \(file ?? "its log") ---\n\(trimmed)\n---"
    }
}
