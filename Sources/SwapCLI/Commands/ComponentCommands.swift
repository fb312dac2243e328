import ArgumentParser
import Foundation
import SwapHarness

/// The components a `stop`, `start` or `restart` acts on.
struct ComponentArguments: ParsableArguments {
    @OptionGroup var options: TopologyOptions

    @Argument(help: "Components (main, realtime.1), services (realtime: all its replicas) or kinds (postgres).")
    var components: [String]

    func validate() throws {
        if components.isEmpty { throw ValidationError("name at least one component") }
    }

    var folder: URL { HarnessCLI.stateFolder(topology: options.topology) }
}

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop components of the running stack and keep them down (no restart) until `swapctl start`.",
        discussion: "The rest of the stack keeps running; a stopped component does not count as a restart. `swapctl status` shows it as stopped."
    )

    @OptionGroup var arguments: ComponentArguments

    func run() throws { try ComponentCommands.perform([.stop], arguments) }
}

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start components that `swapctl stop` stopped; returns once each is ready."
    )

    @OptionGroup var arguments: ComponentArguments

    func run() throws { try ComponentCommands.perform([.start], arguments) }
}

struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Stop components of the running stack, then start them again; returns once each is ready.",
        discussion: "Their data and ports stay; the components that depend on them are not restarted."
    )

    @OptionGroup var arguments: ComponentArguments

    func run() throws { try ComponentCommands.perform([.stop, .start], arguments) }
}

enum ComponentCommands {
    enum Step { case stop, start }

    /// Runs the steps in order on the named components, one line per component and step.
    static func perform(_ steps: [Step], _ arguments: ComponentArguments) throws {
        let (names, folder) = (arguments.components, arguments.folder)
        try HarnessCLI.blocking {
            for step in steps {
                do {
                    switch step {
                    case .stop: report(try await ComponentControl.stop(names, in: folder), done: "stopped", already: "already stopped")
                    case .start: report(try await ComponentControl.start(names, in: folder), done: "ready", already: "already running")
                    }
                } catch let error as HarnessError {
                    throw CommandFailure(code: 1, message: "error: \(error)")
                }
            }
        }
    }

    private static func report(_ outcomes: [ComponentControl.Outcome], done: String, already: String) {
        for outcome in outcomes {
            let what = "\(outcome.name) (\(outcome.kind.rawValue))"
            print(outcome.unchanged ? "\(what) \(already)" : "\(what) \(done) in \(outcome.milliseconds) ms")
        }
    }
}
