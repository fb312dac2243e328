import Foundation
import Testing

@testable import SwapHarness

/// The built `swapctl` binary driven as a user drives it: `up --detach`,
/// `status`, `logs`, `down`, and a supervisor that dies without stopping.
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
}
