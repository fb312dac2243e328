import Foundation
import Testing

@testable import SwapHarness

/// The built `swapctl` binary driven as a user drives it: `up --detach`,
/// `status`, `logs`, `stop`/`start`/`restart`, `down`, and a supervisor that dies without stopping.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SwapctlHarnessTests {
    /// `swift test` builds every product; swapctl sits beside the test bundle.
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swapctl").path

    func swapctl(_ arguments: [String], fixture: HarnessFixture) async throws -> Shell.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["SWAP_CA_DIR"] = fixture.caFolder.path
        environment["SWAP_PRODUCT_GATEWAY_COMMAND"] = fixture.command().joined(separator: " ")
        environment["SWAP_PRODUCT_THINGS_SERVICE_COMMAND"] = fixture.command().joined(separator: " ")
        return try await Shell.run([Self.binary] + arguments + ["--topology", fixture.topologyPath], environment: environment, in: fixture.root)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func detachedUpStatusLogsRefusalAndDown() async throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        let up = try await swapctl(["up", "--detach", "--no-build"], fixture: fixture)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let state = try #require(StackControl.state(in: fixture.stateFolder))
        do {
            #expect(up.stdout.contains("harness is up in"))
            #expect(up.stdout.contains(try #require(state.urls?.https)))
            #expect(up.stdout.contains("--cacert \(fixture.caFile.path)"))
            #expect(state.detached)
            #expect(state.supervisor.isAlive)

            let status = try await swapctl(["status", "--json"], fixture: fixture)
            #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            #expect(json["healthy"] as? Bool == true)
            let components = try #require(json["components"] as? [[String: Any]])
            #expect(components.count == 7)
            #expect(components.allSatisfy { ($0["pid"] as? Int ?? 0) > 0 && $0["healthy"] as? Bool == true })
            let table = try await swapctl(["status"], fixture: fixture)
            #expect(table.stdout.contains("things.2"))
            #expect(table.stdout.contains("ok (GET /ready 200)"))

            let logs = try await swapctl(["logs", "things"], fixture: fixture)
            #expect(logs.status == 0)
            #expect(logs.stdout.contains("things.1 | fake things replica 1"))
            #expect(logs.stdout.contains("things.2 | fake things replica 2"))
            #expect(!logs.stdout.contains("gateway |"))
            let unknown = try await swapctl(["logs", "nope"], fixture: fixture)
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no component named 'nope'"))

            let second = try await swapctl(["up", "--detach", "--no-build"], fixture: fixture)
            #expect(second.status == 1)
            #expect(second.stderr.contains("already running"), "\(second.stderr)")
            #expect(StackControl.state(in: fixture.stateFolder)?.bootID == state.bootID, "the refused up must not touch the running stack")
        } catch {
            _ = try? await swapctl(["down"], fixture: fixture)
            throw error
        }
        let down = try await swapctl(["down"], fixture: fixture)
        #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
        #expect(down.stdout.contains("Stopped 7 processes"))
        #expect(!state.supervisor.isAlive)
        for component in state.components {
            #expect(component.process?.isAlive == false, "\(component.name) survived down")
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.stateFolder.path))
        let again = try await swapctl(["down"], fixture: fixture)
        #expect(again.status == 0 && again.stdout.contains("Nothing to stop"))
        let notRunning = try await swapctl(["status"], fixture: fixture)
        #expect(notRunning.status == 1 && notRunning.stdout.contains("Not running"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func aKilledSupervisorTakesEveryChildWithIt() async throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        let up = try await swapctl(["up", "--detach", "--no-build"], fixture: fixture)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let state = try #require(StackControl.state(in: fixture.stateFolder))
        let children = state.components.compactMap(\.process)
        #expect(children.count == 7)
        kill(state.supervisor.pid, SIGKILL)
        let gone = await eventually(timeout: .seconds(10)) {
            children.allSatisfy { !$0.isAlive && ProcessTable.members(ofGroup: $0.pid).isEmpty }
        }
        #expect(gone, "left running: \(children.filter(\.isAlive).map(\.pid))")
        let status = try await swapctl(["status"], fixture: fixture)
        #expect(status.status == 1 && status.stdout.contains("not running"))
        let down = try await swapctl(["down"], fixture: fixture)
        #expect(down.status == 0)
        #expect(!FileManager.default.fileExists(atPath: fixture.stateFolder.path))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func stopStartAndRestartOneComponentWhileTheRestRuns() async throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        let up = try await swapctl(["up", "--detach", "--no-build"], fixture: fixture)
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let before = try #require(StackControl.state(in: fixture.stateFolder))
        do {
            let main = try #require(before.component("main"))
            try await psql("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('before the stop')", port: main.port, fixture: fixture)

            let stop = try await swapctl(["stop", "main"], fixture: fixture)
            #expect(stop.status == 0, "\(stop.stdout)\(stop.stderr)")
            #expect(stop.stdout.contains("main (postgres) stopped in"), "\(stop.stdout)")
            #expect(main.process?.isAlive == false, "PostgreSQL still runs after stop")
            // Held down: not restarted like a crash, the rest untouched.
            try await Task.sleep(for: .seconds(1))
            let held = try #require(StackControl.state(in: fixture.stateFolder))
            #expect(held.component("main")?.status == .stopped && held.component("main")?.process == nil)
            #expect(held.component("main")?.restarts == 0)
            for name in ["cache", "events", "things.1", "things.2", "gateway", "nginx"] {
                #expect(held.component(name)?.process == before.component(name)?.process, "\(name) was touched")
            }
            let status = try await swapctl(["status"], fixture: fixture)
            #expect(status.status == 1, "a stopped component makes the stack unhealthy")
            #expect(status.stdout.contains("main") && status.stdout.contains("stopped"))

            let start = try await swapctl(["start", "main"], fixture: fixture)
            #expect(start.status == 0, "\(start.stdout)\(start.stderr)")
            #expect(start.stdout.contains("main (postgres) ready in"), "\(start.stdout)")
            let started = try #require(StackControl.state(in: fixture.stateFolder)?.component("main"))
            #expect(started.status == .ready && started.restarts == 0 && started.port == main.port)
            #expect(started.process?.isAlive == true && started.process != main.process)
            #expect(try await psql("SELECT note FROM kept", port: main.port, fixture: fixture) == "before the stop")
            let again = try await swapctl(["start", "main"], fixture: fixture)
            #expect(again.status == 0 && again.stdout.contains("main (postgres) already running"), "\(again.stdout)")

            // A service name selects all its replicas.
            let restart = try await swapctl(["restart", "things"], fixture: fixture)
            #expect(restart.status == 0, "\(restart.stdout)\(restart.stderr)")
            #expect(restart.stdout.contains("things.1 (service) stopped in") && restart.stdout.contains("things.2 (service) ready in"), "\(restart.stdout)")
            let after = try #require(StackControl.state(in: fixture.stateFolder))
            for name in ["things.1", "things.2"] {
                #expect(after.component(name)?.status == .ready && after.component(name)?.restarts == 0)
                #expect(after.component(name)?.process != before.component(name)?.process, "\(name) kept its process")
            }
            #expect(after.component("gateway")?.process == before.component("gateway")?.process)
            let healthy = try await swapctl(["status"], fixture: fixture)
            #expect(healthy.status == 0, "\(healthy.stdout)")

            let unknown = try await swapctl(["stop", "nope"], fixture: fixture)
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no component, service or kind 'nope'") && unknown.stderr.contains("things.2"), "\(unknown.stderr)")
        } catch {
            _ = try? await swapctl(["down"], fixture: fixture)
            throw error
        }
        let down = try await swapctl(["down"], fixture: fixture)
        #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
        let stopped = try await swapctl(["stop", "main"], fixture: fixture)
        #expect(stopped.status == 1 && stopped.stderr.contains("no stack is running"), "\(stopped.stderr)")
    }

    /// One SQL statement as the project's role; returns its output.
    @discardableResult
    func psql(_ sql: String, port: Int, fixture: HarnessFixture) async throws -> String {
        let password = try String(contentsOf: fixture.stateFolder.appendingPathComponent("secrets/db_password"), encoding: .utf8)
        let result = try await Shell.run(
            ["\(fixture.configuration().postgresBinFolder)/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port),
             "-U", "harness", "-d", "harness", "-c", sql],
            environment: ["PGPASSWORD": password, "PATH": "/usr/bin:/bin"]
        )
        try #require(result.status == 0, "psql: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
