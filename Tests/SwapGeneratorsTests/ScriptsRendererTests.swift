import Foundation
import SwapGenerators
import SwapTopology
import Testing

@Suite("ScriptsRenderer", .timeLimit(.minutes(2)))
struct ScriptsRendererTests {
    let renderer = ScriptsRenderer()

    @Test func matchesGoldenFiles() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        try Golden.check(output.files, name: "scripts")
    }

    @Test func swarmGetsDeployAndMonitorComposeOnlyBackups() throws {
        let paths = OpsTestSupport.render(renderer, try Fixture.allEnvironments()).files.map(\.path)
        #expect(paths == [
            "dev/scripts/backup.sh", "dev/scripts/restore.sh",
            "prod/scripts/backup.sh", "prod/scripts/deploy.sh", "prod/scripts/monitor.sh", "prod/scripts/restore.sh",
            "staging/scripts/backup.sh", "staging/scripts/deploy.sh", "staging/scripts/monitor.sh", "staging/scripts/restore.sh",
        ])
    }

    @Test func scriptsAreExecutableShellcheckCleanAndAnswerHelp() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        let folder = try OpsTestSupport.scratch(output.files)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in output.files {
            #expect(file.executable, "\(file.path)")
            #expect(file.contents.hasPrefix("#!/usr/bin/env bash\n# \(GeneratedHeader.text)\n"), "\(file.path)")
            #expect(file.contents.contains("\nset -euo pipefail\n"), "\(file.path)")
            let check = try ExternalTool.run("shellcheck", ["-x", file.path], in: folder)
            #expect(check.status == 0, "shellcheck \(file.path):\n\(check.output)")
            let syntax = try ExternalTool.run("bash", ["-n", file.path], in: folder)
            #expect(syntax.status == 0, "bash -n \(file.path):\n\(syntax.output)")
            let help = try OpsTestSupport.runScript(folder.appendingPathComponent(file.path), ["-h"])
            let name = (file.path as NSString).lastPathComponent
            #expect(help.status == 0 && help.output.hasPrefix("Usage: \(name)"), "\(file.path) -h:\n\(help.output)")
            let wrong = try OpsTestSupport.runScript(folder.appendingPathComponent(file.path), ["--no-such-option"])
            #expect(wrong.status == 2, "\(file.path) with an unknown option exits 2")
        }
    }

    @Test func defaultsComeFromTheTopology() throws {
        let prod = try Fixture.topology("prod")
        let output = renderer.render(prod)
        let deploy = try OpsTestSupport.file(output, "prod/scripts/deploy.sh").contents
        #expect(deploy.contains("STACK=\"${STACK:-swap}\""))
        #expect(deploy.contains("SERVICES=(\(prod.servicesInStartOrder.map(\.name).joined(separator: " ")))"))
        #expect(deploy.contains("docker stack deploy --with-registry-auth --prune $detach -c \"$STACK_FILE\" \"$STACK\""))
        #expect(deploy.contains("KAFKA_BROKER_SERVICE=events-1"))
        #expect(deploy.contains("advisory lock"), "deploy.sh must say why it has no migration step")
        let backup = try OpsTestSupport.file(output, "prod/scripts/backup.sh").contents
        #expect(backup.contains("RETENTION_DAYS=\"${RETENTION_DAYS:-14}\""))
        #expect(backup.contains("DATABASE_URL_FILE=\"${DATABASE_URL_FILE-/run/secrets/database_url}\""), "prod's database is managed")
        let dev = try OpsTestSupport.file(renderer.render(try Fixture.topology("dev")), "dev/scripts/backup.sh").contents
        #expect(dev.contains("export PGHOST=\"${PGHOST:-main}\"") && dev.contains("DATABASE_URL_FILE=\"${DATABASE_URL_FILE-}\""))

        var shorter = prod
        shorter.datastores[0].backup = Backup(schedule: "0 4 * * *", retentionDays: 3)
        let changed = try OpsTestSupport.file(renderer.render(shorter), "prod/scripts/backup.sh").contents
        #expect(changed.contains("RETENTION_DAYS=\"${RETENTION_DAYS:-3}\"") && changed.contains("0 4 * * *"))
    }

    @Test func seventhServiceIsDeployedAndMonitored() throws {
        let output = renderer.render(try OpsTestSupport.withSeventhService("staging"))
        for script in ["deploy.sh", "monitor.sh"] {
            let text = try OpsTestSupport.file(output, "staging/scripts/\(script)").contents
            #expect(text.contains("SERVICES=(") && text.contains(" search"), "\(script)")
        }
    }

    @Test func noSecretValueIsWritten() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        for file in output.files {
            for line in file.contents.split(separator: "\n") where line.contains("PGPASSWORD=") || line.contains("AWS_SECRET_ACCESS_KEY=") {
                #expect(line.contains("\"$(cat \""), "\(file.path): a secret only ever comes from its file: \(line)")
            }
            #expect(!file.contents.contains("--secret_key") && !file.contents.contains("--access_key"), "keys never on a command line")
        }
    }

    // MARK: deploy.sh and monitor.sh against a fake docker CLI

    /// A docker CLI double: logs every call, answers from FAKE_* variables.
    private static let fakeDocker = """
        echo "docker $*" >>"$FAKE_DIR/calls"
        args=" $* "
        case "$1" in
            info) echo true ;;
            secret)
                for missing in ${FAKE_MISSING_SECRETS:-}; do [ "$missing" = all ] || [ "$3" = "$missing" ] && exit 1; done
                echo '[]' ;;
            stack)
                case "$2" in
                    deploy)
                        case "$args" in *" --help "*) echo "  -d, --detach   Exit immediately" ; exit 0 ;; esac
                        echo deployed >"$FAKE_DIR/deployed" ;;
                    ps) echo "swap_gateway.1|Shutdown 1 minute ago|task: non-zero exit (1)" ;;
                esac ;;
            service)
                case "$2" in
                    ls)
                        for service in $FAKE_SERVICES; do
                            case "$args" in
                                *Replicas*) echo "swap_$service ${FAKE_REPLICAS:-1/1}" ;;
                                *) echo "swap_$service" ;;
                            esac
                        done ;;
                    inspect)
                        case "$args" in
                            *"json .Spec"*) echo "{\\"spec\\": \\"$(cat "$FAKE_DIR/deployed" 2>/dev/null || echo old)\\"}" ;;
                            *UpdateStatus*) echo "${FAKE_UPDATE_STATE:-completed}" ;;
                            *ContainerSpec.Image*) echo "apache/kafka:test" ;;
                            *Networks*) echo "net1 " ;;
                            *) for service in $FAKE_SERVICES; do [ "$3" = "swap_$service" ] && exit 0; done; exit 1 ;;
                        esac ;;
                    rollback) ;;
                esac ;;
            network) echo swap_backend ;;
            run) cat >"$FAKE_DIR/topics.sh" ;;
            ps) echo "${FAKE_UNHEALTHY:-}" ;;
        esac
        exit 0

        """

    /// A stack file with the shapes deploy.sh reads: top-level secrets with
    /// and without `name:`, a variable without a default.
    private static let stackFile = """
        services:
          gateway:
            image: "ghcr.io/swap-platform/swap/gateway:${SWAP_TAG:?export SWAP_TAG}"
            environment:
              BUCKET: ${BACKUP_S3_BUCKET:-}
        secrets:
          jwt_secret:
            external: true
            name: swap_jwt_secret
          grafana_admin_password:
            external: true
            name: "swap_grafana_admin_password"
          unnamed:
            external: true
        configs:
          nginx_conf:
            name: swap_nginx_conf_1234
            file: ./nginx/nginx.conf

        """

    private struct Swarm {
        var folder: URL
        var environment: [String: String]
        var calls: String { (try? String(contentsOfFile: folder.appendingPathComponent("fake/calls").path, encoding: .utf8)) ?? "" }
        func script(_ name: String) -> URL { folder.appendingPathComponent("staging/scripts/\(name)") }
    }

    private func swarm(_ extra: [String: String] = [:]) throws -> Swarm {
        let topology = try Fixture.topology("staging")
        var files = renderer.render(topology).files + KafkaTopicsRenderer().render(topology).files
        files.append(GeneratedFile(path: "staging/stack.yml", contents: Self.stackFile))
        let folder = try OpsTestSupport.scratch(files)
        let fake = folder.appendingPathComponent("fake")
        try OpsTestSupport.fakeTool("docker", in: fake, Self.fakeDocker)
        let services = topology.services.map(\.name) + ["main", "cache", "events", "nginx"]
        var environment = [
            "PATH": fake.path + ":" + OpsTestSupport.path, "FAKE_DIR": fake.path, "FAKE_SERVICES": services.joined(separator: " "),
            "SWAP_TAG": "sha-1234567",
        ]
        environment.merge(extra) { $1 }
        return Swarm(folder: folder, environment: environment)
    }

    @Test func deployRefusesWhenASecretIsMissing() throws {
        let swarm = try swarm(["FAKE_MISSING_SECRETS": "swap_grafana_admin_password swap_unnamed"])
        defer { try? FileManager.default.removeItem(at: swarm.folder) }
        let result = try OpsTestSupport.runScript(swarm.script("deploy.sh"), environment: swarm.environment)
        #expect(result.status == 1)
        #expect(result.output.contains("missing Swarm secrets: swap_grafana_admin_password swap_unnamed ("), "\(result.output)")
        #expect(swarm.calls.contains("docker secret inspect swap_jwt_secret\n"))
        #expect(!swarm.calls.contains("stack deploy -"), "nothing is deployed without its secrets")
    }

    @Test func deployRefusesWithoutTheImageTag() throws {
        var swarm = try swarm()
        defer { try? FileManager.default.removeItem(at: swarm.folder) }
        swarm.environment["SWAP_TAG"] = ""
        let result = try OpsTestSupport.runScript(swarm.script("deploy.sh"), environment: swarm.environment)
        #expect(result.status == 1)
        #expect(result.output.contains("stack.yml needs these variables exported: SWAP_TAG"), "\(result.output)")
        #expect(!swarm.calls.contains("stack deploy -"))
    }

    /// The secrets check reads the real stack.yml of the Swarm renderer.
    @Test func deployChecksEverySecretTheRealStackDeclares() throws {
        let prod = try Fixture.topology("prod")
        let stack = try OpsTestSupport.file(SwarmStackRenderer().render(prod), "prod/stack.yml")
        let folder = try OpsTestSupport.scratch(renderer.render(prod).files + [stack])
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = folder.appendingPathComponent("fake")
        try OpsTestSupport.fakeTool("docker", in: fake, Self.fakeDocker)
        let result = try OpsTestSupport.runScript(folder.appendingPathComponent("prod/scripts/deploy.sh"), environment: [
            "PATH": fake.path + ":" + OpsTestSupport.path, "FAKE_DIR": fake.path, "FAKE_SERVICES": "", "FAKE_MISSING_SECRETS": "all",
        ])
        #expect(result.status == 1)
        let section = try #require(stack.contents.components(separatedBy: "\nsecrets:\n").last?.components(separatedBy: "\nconfigs:").first)
        let declared = section.components(separatedBy: "\n    external: true\n").count - 1
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("missing Swarm secrets:") })
        let listed = try #require(line.components(separatedBy: "missing Swarm secrets:").last?.components(separatedBy: " (").first)
        let names = listed.split(separator: " ")
        #expect(declared > 0 && names.count == declared, "\(line) vs \(declared) external secrets")
        #expect(names.allSatisfy { $0.hasPrefix("\(prod.project)_") }, "\(names)")
        #expect(names.contains("swap_jwt_secret"))
    }

    @Test func deployCreatesTopicsAndWaitsForConvergence() throws {
        let swarm = try swarm()
        defer { try? FileManager.default.removeItem(at: swarm.folder) }
        let result = try OpsTestSupport.runScript(swarm.script("deploy.sh"), environment: swarm.environment)
        #expect(result.status == 0, "\(result.output)")
        let calls = swarm.calls
        #expect(calls.contains("docker stack deploy --with-registry-auth --prune --detach=true -c \(swarm.folder.path)/staging/scripts/../stack.yml swap"), "\(calls)")
        #expect(calls.contains("docker run --rm -i --network swap_backend --entrypoint bash apache/kafka:test -s"))
        let topics = try String(contentsOf: swarm.folder.appendingPathComponent("fake/topics.sh"), encoding: .utf8)
        #expect(topics.contains("ensure_topic"), "the topic script is piped into the broker image")
        #expect(!calls.contains("service rollback"))
        #expect(result.output.contains("stack swap is up"))
    }

    @Test func deployRollsBackWhatItChangedOnFailure() throws {
        let swarm = try swarm(["FAKE_UPDATE_STATE": "paused"])
        defer { try? FileManager.default.removeItem(at: swarm.folder) }
        let result = try OpsTestSupport.runScript(swarm.script("deploy.sh"), environment: swarm.environment)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("update paused"))
        for service in try Fixture.topology("staging").services {
            #expect(swarm.calls.contains("docker service rollback --detach swap_\(service.name)\n"), "\(service.name)")
        }
    }

    @Test func deployLeavesWhatSwarmRolledBackAlone() throws {
        let swarm = try swarm(["FAKE_UPDATE_STATE": "rollback_completed"])
        defer { try? FileManager.default.removeItem(at: swarm.folder) }
        let result = try OpsTestSupport.runScript(swarm.script("deploy.sh"), environment: swarm.environment)
        #expect(result.status == 1 && result.output.contains("update rollback_completed"), "\(result.output)")
        #expect(!swarm.calls.contains("service rollback"), "a second rollback would re-apply the failed spec")
    }

    @Test func deployTimesOutAndRollsBack() throws {
        let swarm = try swarm(["FAKE_REPLICAS": "1/2", "DEPLOY_TIMEOUT": "0"])
        defer { try? FileManager.default.removeItem(at: swarm.folder) }
        let result = try OpsTestSupport.runScript(swarm.script("deploy.sh"), environment: swarm.environment)
        #expect(result.status == 1)
        #expect(result.output.contains("not converged after 0s") && result.output.contains("1/2 replicas healthy"), "\(result.output)")
        #expect(swarm.calls.contains("docker service rollback --detach swap_gateway"))
    }

    @Test func monitorExitsOneOnlyWhenSomethingIsUnhealthy() throws {
        let healthy = try swarm()
        defer { try? FileManager.default.removeItem(at: healthy.folder) }
        let ok = try OpsTestSupport.runScript(healthy.script("monitor.sh"), environment: healthy.environment)
        #expect(ok.status == 0, "\(ok.output)")
        #expect(ok.output.contains("stack swap is healthy") && ok.output.contains("task: non-zero exit (1)"))

        var degraded = healthy.environment
        degraded["FAKE_REPLICAS"] = "0/2"
        degraded["FAKE_UNHEALTHY"] = "swap_map.1.abc Up 2 minutes (unhealthy)"
        let bad = try OpsTestSupport.runScript(healthy.script("monitor.sh"), environment: degraded)
        #expect(bad.status == 1)
        #expect(bad.output.contains("UNHEALTHY: swap_gateway runs 0 of 2 replicas"), "\(bad.output)")
        #expect(bad.output.contains("UNHEALTHY: swap_map.1.abc Up 2 minutes (unhealthy)"))

        var missing = healthy.environment
        missing["FAKE_SERVICES"] = "gateway"
        let absent = try OpsTestSupport.runScript(healthy.script("monitor.sh"), environment: missing)
        #expect(absent.status == 1 && absent.output.contains("UNHEALTHY: swap_financial is not deployed"), "\(absent.output)")
    }
}
