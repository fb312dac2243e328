import ArgumentParser
import Foundation
import SwapHarness

struct DownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the stack (in reverse order, gracefully, then by force) and remove its state folder.",
        discussion: "Only the processes recorded in .swap/state.json (pid and start time) are ever signalled."
    )

    @OptionGroup var options: TopologyOptions

    @Option(help: "Seconds each process gets to stop before SIGKILL.")
    var grace: Int = 10

    func run() throws {
        guard grace >= 0 else { throw CommandFailure.usage("--grace must not be negative") }
        let folder = HarnessCLI.stateFolder(topology: options.topology)
        let root = folder.deletingLastPathComponent()
        let grace = Duration.seconds(self.grace)
        try HarnessCLI.blocking {
            let before = StackControl.state(in: folder)
            let report: StackControl.DownReport
            do {
                report = try await StackControl.down(folder, grace: grace)
            } catch {
                throw CommandFailure(code: 1, message: "error: \(error)")
            }
            guard report.found else {
                print("Nothing to stop: no \(HarnessCLI.display(folder, root: root)).")
                return
            }
            if report.supervisorStopped, let before {
                print("Stopped \(before.components.count) processes (supervisor pid \(before.supervisor.pid)).")
            }
            if !report.killed.isEmpty {
                print("Killed what was left running: \(report.killed.joined(separator: ", ")).")
            }
            print("Removed \(HarnessCLI.display(folder, root: root)).")
        }
    }
}
