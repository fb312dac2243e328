import ArgumentParser
import Foundation
import SwapHarness

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each process of the running stack: pid, port, state, restarts and health (probed now).",
        discussion: "Exits 0 when the stack runs and every component is healthy, 1 otherwise."
    )

    @OptionGroup var options: TopologyOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let folder = HarnessCLI.stateFolder(topology: options.topology)
        let json = self.json
        let root = folder.deletingLastPathComponent()
        try HarnessCLI.blocking {
            guard let report = await StackControl.status(folder) else {
                if json { print(#"{"running":false,"healthy":false,"components":[]}"#) } else { print("Not running: no stack in \(HarnessCLI.display(folder, root: root)) (start one with `swapctl up`).") }
                throw CommandFailure(code: 1, message: "")
            }
            if json { print(Self.json(report)) } else { Self.table(report, root: root) }
            if !report.healthy { throw CommandFailure(code: 1, message: "") }
        }
    }

    private static func table(_ report: StackControl.StatusReport, root: URL) {
        let state = report.state
        let since = DateFormatter.localizedString(from: state.startedAt, dateStyle: .none, timeStyle: .medium)
        let condition = report.running
            ? "\(state.phase.rawValue), supervisor pid \(state.supervisor.pid)\(state.detached ? " (detached)" : ""), up since \(since)"
            : "not running (last phase: \(state.phase.rawValue))"
        print("\(state.project) (\(state.environment)): \(condition)")
        if let urls = state.urls, report.running {
            print("  \(urls.https ?? urls.http)" + (urls.caFile.map { "   CA: \($0)" } ?? ""))
        }
        var rows = [["COMPONENT", "KIND", "PID", "PORT", "STATE", "RESTARTS", "HEALTH"]]
        for component in report.components {
            let item = component.state
            let port = item.ports.isEmpty ? "\(item.port)" : item.ports.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let probe = item.health.kind == .http ? "GET \(item.health.path ?? "/") " : ""
            let health = component.alive ? "\(component.health.healthy ? "ok" : "FAILING") (\(probe)\(component.health.detail))" : "-"
            rows.append([
                item.name, item.kind.rawValue, component.alive ? "\(item.process?.pid ?? 0)" : "-", port,
                item.status.rawValue, "\(item.restarts)", health,
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
            print("  " + cells.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        if let error = state.error, state.phase == .failed { print("\nboot failed: \(error)") }
    }

    private static func json(_ report: StackControl.StatusReport) -> String {
        let state = report.state
        var object: [String: Any] = [
            "project": state.project, "environment": state.environment, "phase": state.phase.rawValue,
            "running": report.running, "healthy": report.healthy, "supervisor_pid": Int(state.supervisor.pid),
        ]
        if let urls = state.urls {
            object["urls"] = ["https": urls.https as Any, "http": urls.http, "ca_file": urls.caFile as Any].compactMapValues { $0 is NSNull ? nil : $0 }
        }
        object["components"] = report.components.map { component -> [String: Any] in
            var item: [String: Any] = [
                "name": component.state.name, "kind": component.state.kind.rawValue, "group": component.state.group,
                "port": component.state.port, "state": component.state.status.rawValue, "restarts": component.state.restarts,
                "alive": component.alive, "healthy": component.health.healthy, "health": component.health.detail,
            ]
            if component.alive, let pid = component.state.process?.pid { item["pid"] = Int(pid) }
            if !component.state.ports.isEmpty { item["ports"] = component.state.ports }
            return item
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
