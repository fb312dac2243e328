import Foundation
import Testing

@testable import SwapHarness

/// The harness booting real PostgreSQL, Redis, Tansu and nginx with stand-in
/// services, all on 127.0.0.1.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BootTests {
    @Test func bootsEverythingServesHTTPSThroughNginxAndDownLeavesNothing() async throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        let seen = SeenProcesses()
        let supervisor = try await Supervisor.up(fixture.configuration(), topology: try fixture.topology()) { seen.record($0) }
        do {
            let state = await supervisor.snapshot
            #expect(state.phase == .ready)
            #expect(state.components.map(\.name) == ["main", "cache", "events", "things.1", "things.2", "gateway", "nginx"])
            for component in state.components {
                #expect(component.status == .ready, "\(component.name): \(component.status)")
                #expect(component.process?.isAlive == true, "\(component.name) has no live process")
                #expect(component.readyInMs != nil)
            }
            // Dependency order: the gateway starts after both replicas, nginx after the gateway.
            let readyAt = Dictionary(uniqueKeysWithValues: state.components.map { ($0.name, $0.readyAtMs ?? .max) })
            let startedAt = Dictionary(uniqueKeysWithValues: state.components.map { ($0.name, $0.startedAtMs ?? -1) })
            #expect(startedAt["gateway"]! >= max(readyAt["things.1"]!, readyAt["things.2"]!))
            #expect(startedAt["things.1"]! >= max(readyAt["main"]!, readyAt["cache"]!, readyAt["events"]!))
            #expect(startedAt["nginx"]! >= readyAt["gateway"]!)

            // TLS verifies with the local CA file, and /health reaches the stand-in gateway.
            let https = try #require(state.urls?.https)
            #expect(state.urls?.caFile == fixture.caFile.path)
            let health = try await Shell.curl("\(https)/health", caFile: fixture.caFile)
            #expect(health.status == 0 && health.http == 200, "curl: \(health)")
            #expect(health.body.contains(#""service": "gateway""#))
            let unverified = try await Shell.curl("\(https)/health", caFile: nil)
            #expect(unverified.status == 60, "without the CA file curl must refuse the certificate")
            let viaIP = try await Shell.curl(https.replacingOccurrences(of: "localhost", with: "127.0.0.1") + "/api/v1/things", caFile: fixture.caFile)
            #expect(viaIP.status == 0 && viaIP.http == 200, "the certificate also names 127.0.0.1: \(viaIP)")

            // The environment contract, with this run's ports and secret files.
            let replica = try #require(state.component("things.2"))
            let env = try await Shell.json(port: replica.port, path: "/env")
            #expect(env["PORT"] as? String == String(replica.port))
            #expect(env["HOST"] as? String == "127.0.0.1")
            #expect(env["SWAP_REPLICA"] as? String == "2")
            #expect(env["DATABASE_PORT"] as? String == String(state.component("main")!.port))
            #expect(env["DATABASE_NAME"] as? String == "harness")
            #expect(env["REDIS_URL"] as? String == "redis://127.0.0.1:\(state.component("cache")!.port)")
            #expect(env["KAFKA_BROKERS"] as? String == "127.0.0.1:\(state.component("events")!.port)")
            #expect(env["KAFKA_TOPICS"] as? String == "things.created")
            #expect(env["THINGS_LIMIT"] as? String == "7")
            #expect(env["readable_files"] as? [String] == ["DATABASE_PASSWORD_FILE", "JWT_SECRET_FILE"])
            let gatewayEnv = try await Shell.json(port: state.component("gateway")!.port, path: "/env")
            #expect(gatewayEnv["UPSTREAM_THINGS_URL"] as? String == "http://127.0.0.1:\(state.component("things.1")!.port)")
            #expect(gatewayEnv["UPSTREAM_THINGS_PREFIXES"] as? String == "/api/v1/things")

            // Secrets: files of mode 0600, never in state.json; the role logs in with db_password.
            let secrets = fixture.stateFolder.appendingPathComponent("secrets")
            let password = try String(contentsOf: secrets.appendingPathComponent("db_password"), encoding: .utf8)
            #expect(password.count == 24)
            let mode = try FileManager.default.attributesOfItem(atPath: secrets.appendingPathComponent("jwt_secret").path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let stateText = try String(contentsOf: fixture.stateFolder.appendingPathComponent("state.json"), encoding: .utf8)
            #expect(!stateText.contains(password))
            let psql = try await Shell.run(
                ["\(supervisor.configuration.postgresBinFolder)/psql", "-X", "-At", "-h", "127.0.0.1", "-p", String(state.component("main")!.port),
                 "-U", "harness", "-d", "harness", "-c", "SELECT current_user || ' ' || string_agg(extname, ',' ORDER BY extname) FROM pg_extension"],
                environment: ["PGPASSWORD": password, "PATH": "/usr/bin:/bin"]
            )
            #expect(psql.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "harness pgcrypto,plpgsql", "psql: \(psql.stderr)")

            // status: pids and health, probed now.
            let status = try #require(await StackControl.status(fixture.stateFolder))
            #expect(status.running)
            #expect(status.healthy)
            for report in status.components {
                #expect(report.alive && report.health.healthy, "\(report.state.name): \(report.health.detail)")
                #expect(report.state.process?.pid == state.component(report.state.name)?.process?.pid)
            }

            // A second up on the same folder is refused, clearly.
            let second = await #expect(throws: HarnessError.self) {
                _ = try await Supervisor.up(fixture.configuration(), topology: try fixture.topology())
            }
            #expect(second?.description.contains("already running") == true)
            #expect(second?.description.contains("swapctl down") == true)
            #expect(await supervisor.snapshot.phase == .ready)
        } catch {
            await supervisor.down()
            throw error
        }
        await supervisor.down()
        #expect(seen.all.count == 7)
        #expect(seen.survivors.isEmpty, "left running: \(seen.survivors)")
        #expect(!FileManager.default.fileExists(atPath: fixture.stateFolder.path))
        #expect(FileManager.default.fileExists(atPath: fixture.caFile.path), "the CA survives down")
    }

    @Test func aKilledServiceIsRestartedAndTheRestartIsReported() async throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        let seen = SeenProcesses()
        let supervisor = try await Supervisor.up(fixture.configuration(), topology: try fixture.topology()) { seen.record($0) }
        do {
            let before = try #require(await supervisor.snapshot.component("things.2")?.process)
            kill(before.pid, SIGKILL)
            let restarted = await eventually {
                guard let component = await supervisor.snapshot.component("things.2") else { return false }
                return component.status == .ready && component.restarts == 1 && component.process != nil && component.process != before
            }
            #expect(restarted)
            let after = try #require(await supervisor.snapshot.component("things.2"))
            #expect(after.lastExit?.contains("status 9") == true, "\(after.lastExit ?? "nil")")
            let status = try #require(await StackControl.status(fixture.stateFolder))
            let report = try #require(status.components.first { $0.state.name == "things.2" })
            #expect(report.alive && report.health.healthy && report.state.restarts == 1)
            let log = try String(contentsOf: fixture.stateFolder.appendingPathComponent("logs/things.2.log"), encoding: .utf8)
            #expect(log.contains("service 'things.2' exited with status 9"), "\(log)")
            #expect(log.contains("restart 1 in"))
            // The restarted replica serves again, on the same port.
            let env = try await Shell.json(port: after.port, path: "/env")
            #expect(env["PORT"] as? String == String(after.port))
        } catch {
            await supervisor.down()
            throw error
        }
        await supervisor.down()
        #expect(seen.all["things.2"]?.count == 2)
        #expect(seen.survivors.isEmpty, "left running: \(seen.survivors)")
    }

    @Test(arguments: [
        ("never-ready", "was not ready after 3s", "fake things: not ready on purpose"),
        ("crash", "exited with status 3 while starting", "fake things: simulated crash at start-up"),
    ])
    func aFailingComponentFailsTheBootNamingItWithItsLogTail(mode: String, reason: String, logLine: String) async throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        var configuration = fixture.configuration(things: mode)
        configuration.serviceTimeout = .seconds(3)
        let seen = SeenProcesses()
        let error = await #expect(throws: HarnessError.self) {
            _ = try await Supervisor.up(configuration, topology: try fixture.topology()) { seen.record($0) }
        }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("service 'things."), "\(message)")
        #expect(message.contains(reason), "\(message)")
        #expect(message.contains("last lines of .swap/logs/things."), "\(message)")
        #expect(message.contains(logLine), "\(message)")
        // Nothing is left running; the state says what failed and keeps the logs.
        #expect(seen.survivors.isEmpty, "left running: \(seen.survivors)")
        let state = try #require(StackControl.state(in: fixture.stateFolder))
        #expect(state.phase == .failed)
        #expect(state.component("gateway")?.status == .skipped)
        #expect(state.components.allSatisfy { $0.process == nil })
        #expect(!StackControl.isRunning(fixture.stateFolder))
        // The folder is free again: the next up cleans it and boots.
        let supervisor = try await Supervisor.up(fixture.configuration(), topology: try fixture.topology())
        #expect(await supervisor.snapshot.phase == .ready)
        await supervisor.down()
    }

    @Test func infrastructureOnlyBootsDatastoresBrokerAndNginx() async throws {
        let fixture = try HarnessFixture()
        defer { fixture.remove() }
        var configuration = fixture.configuration()
        configuration.infrastructureOnly = true
        let supervisor = try await Supervisor.up(configuration, topology: try fixture.topology())
        let state = await supervisor.snapshot
        await supervisor.down()
        #expect(state.components.map(\.name) == ["main", "cache", "events", "nginx"])
        let report = BootReport(state)
        #expect(report.rows.count == 4)
        #expect(report.totalMilliseconds > 0)
        #expect(report.criticalPath.count == 1)
        #expect(report.lines.last == "all ready in \(report.totalMilliseconds) ms")
    }
}
