import Foundation
import SwapGenerators
import SwapTopology
import Testing

@Suite("MonitoringRenderer")
struct MonitoringRendererTests {
    let renderer = MonitoringRenderer()

    @Test func matchesGoldenFiles() throws {
        let output = OpsTestSupport.render(renderer, try Fixture.allEnvironments())
        try Golden.check(output.files, name: "monitoring")
    }

    @Test func isDeterministic() throws {
        let environments = try Fixture.allEnvironments()
        #expect(OpsTestSupport.render(renderer, environments).files == OpsTestSupport.render(renderer, environments).files)
    }

    @Test(arguments: ["dev", "local", "prod", "staging"])
    func promtoolAcceptsConfigAndRules(environment: String) throws {
        let output = renderer.render(try Fixture.topology(environment))
        let folder = try ExternalTool.scratch(output.files.map { ($0.path, $0.contents) })
        defer { try? FileManager.default.removeItem(at: folder) }
        let monitoring = folder.appendingPathComponent("\(environment)/monitoring")
        // check config also loads alerts.yml, resolved relative to prometheus.yml.
        let config = try ExternalTool.run("promtool", ["check", "config", "prometheus.yml"], in: monitoring)
        #expect(config.status == 0, "promtool check config:\n\(config.output)")
        #expect(config.output.contains("SUCCESS: 1 rule files found"), "\(config.output)")
        let rules = try ExternalTool.run("promtool", ["check", "rules", "alerts.yml"], in: monitoring)
        #expect(rules.status == 0, "promtool check rules:\n\(rules.output)")
    }

    @Test(.enabled(if: ExternalTool.path("amtool") != nil, "amtool (Debian prometheus-alertmanager) is not installed"),
          arguments: ["dev", "prod", "staging"])
    func amtoolAcceptsAlertmanagerConfig(environment: String) throws {
        let output = renderer.render(try Fixture.topology(environment))
        let folder = try ExternalTool.scratch(output.files.map { ($0.path, $0.contents) })
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ExternalTool.run("amtool", ["check-config", "\(environment)/monitoring/alertmanager.yml"], in: folder)
        #expect(result.status == 0, "amtool check-config:\n\(result.output)")
    }

    /// The fixture with the Slack webhook secret declared, as a user adds it.
    private func withSlackWebhook() throws -> [Topology] {
        try ProjectRendererFixtures.environments {
            $0.replacingOccurrences(
                of: "  backup_s3_secret_key: {description: Spaces secret key for off-site backups}\n",
                with: "  backup_s3_secret_key: {description: Spaces secret key for off-site backups}\n"
                    + "  alertmanager_slack_webhook: {description: Slack incoming-webhook URL}\n"
            )
        }
    }

    @Test func alertsGoToSlackOnceTheWebhookSecretIsDeclared() throws {
        let without = renderer.render(try Fixture.topology("prod"))
        let plain = try OpsTestSupport.file(without, "prod/monitoring/alertmanager.yml").contents
        #expect(!plain.contains("slack_configs"))
        #expect(without.notes.contains { $0.message.contains("declare the secret alertmanager_slack_webhook") })

        let prod = try #require(try withSlackWebhook().first { $0.environment == "prod" })
        let output = renderer.render(prod)
        let config = try OpsTestSupport.file(output, "prod/monitoring/alertmanager.yml").contents
        #expect(config.contains("    slack_configs:\n      - api_url_file: /run/secrets/alertmanager_slack_webhook\n        send_resolved: true\n"))
        #expect(config.contains("title: \"[prod] {{ .Status | toUpper }}"))
        #expect(!output.notes.contains { $0.message.contains("alertmanager.yml") }, "\(output.notes)")

        // The container gets the secret it reads; the stack declares it external.
        let stack = try OpsTestSupport.file(SwarmStackRenderer().render(prod), "prod/stack.yml").contents
        #expect(stack.contains("  alertmanager:\n    image: prom/alertmanager:v0.27.0\n    secrets:\n      - alertmanager_slack_webhook\n"))
        #expect(stack.contains("  alertmanager_slack_webhook:\n    external: true\n    name: swap_alertmanager_slack_webhook\n"))
    }

    @Test(.enabled(if: ExternalTool.path("amtool") != nil, "amtool (Debian prometheus-alertmanager) is not installed"))
    func amtoolAcceptsTheSlackReceiver() throws {
        let prod = try #require(try withSlackWebhook().first { $0.environment == "prod" })
        let output = renderer.render(prod)
        let folder = try ExternalTool.scratch(output.files.map { ($0.path, $0.contents) })
        defer { try? FileManager.default.removeItem(at: folder) }
        // amtool opens api_url_file: point it at a file in the scratch folder.
        let webhook = folder.appendingPathComponent("webhook")
        try "https://hooks.slack.com/services/T000/B000/XXXX\n".write(to: webhook, atomically: true, encoding: .utf8)
        let config = folder.appendingPathComponent("prod/monitoring/alertmanager.yml")
        let text = try String(contentsOf: config, encoding: .utf8)
        try text.replacingOccurrences(of: "/run/secrets/alertmanager_slack_webhook", with: webhook.path).write(to: config, atomically: true, encoding: .utf8)
        let result = try ExternalTool.run("amtool", ["check-config", "prod/monitoring/alertmanager.yml"], in: folder)
        #expect(result.status == 0, "amtool check-config:\n\(result.output)")
        #expect(result.output.contains("1 receivers"), "\(result.output)")
    }

    @Test func outboxBacklogIsAlertedWhereServicesPublish() throws {
        let alerts = try OpsTestSupport.file(renderer.render(try Fixture.topology("prod")), "prod/monitoring/alerts.yml").contents
        #expect(alerts.contains("- alert: OutboxBacklog\n"))
        #expect(alerts.contains("max by (service) (\(MetricNames.outboxOldestUnsent)) > 300\n"))
        #expect(MetricNames.outboxOldestUnsent == "swap_outbox_oldest_unsent_seconds", "the name ServiceKit's relay exports")
    }

    /// Every alert's runbook_url points at a section of docs/runbooks/alerts.md that exists.
    @Test(arguments: ["dev", "local", "prod", "staging"])
    func everyAlertHasARunbookSection(environment: String) throws {
        let root = Fixture.folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let runbook = try String(contentsOf: root.appendingPathComponent("docs/runbooks/alerts.md"), encoding: .utf8)
        let alerts = try OpsTestSupport.file(renderer.render(try Fixture.topology(environment)), "\(environment)/monitoring/alerts.yml").contents
        let names = Set(alerts.matches(of: /- alert: ([A-Za-z0-9]+)\n/).map { String($0.output.1) })
        #expect(names.count >= 5)
        for name in names.sorted() {
            #expect(runbook.contains("\n## \(name)\n"), "docs/runbooks/alerts.md has no section for \(name)")
        }
    }

    @Test func scrapesEveryReplicaTheWayTheTargetAllows() throws {
        let prod = try OpsTestSupport.file(renderer.render(try Fixture.topology("prod")), "prod/monitoring/prometheus.yml").contents
        #expect(prod.contains("- tasks.realtime\n        type: A\n        port: 3100"))
        #expect(prod.contains("- tasks.node-exporter") && prod.contains("- tasks.cadvisor"))
        #expect(prod.contains("- alertmanager:9093"))

        let dev = try OpsTestSupport.file(renderer.render(try Fixture.topology("dev")), "dev/monitoring/prometheus.yml").contents
        #expect(dev.contains("- gateway:3000"), "single replica: a static target")
        #expect(dev.contains("dns_sd_configs:\n      - names:\n          - realtime\n"), "two replicas: Docker DNS")
        #expect(!dev.contains("node-exporter"))

        let local = try Fixture.topology("local")
        let localFile = try OpsTestSupport.file(renderer.render(local), "local/monitoring/prometheus.yml").contents
        let realtime = try #require(local.service(named: "realtime"))
        for replica in 0..<realtime.replicas.value {
            #expect(localFile.contains("- \"127.0.0.1:\(realtime.port.value + replica)\"\n"))
        }
        #expect(!localFile.contains("alerting:"), "local disables Alertmanager")
    }

    @Test func alertThresholdsComeFromTheTopology() throws {
        var topology = try Fixture.topology("prod")
        topology.monitoring.alerts = AlertThresholds(errorRate: 0.02, p99Latency: .milliseconds(250), consumerLag: 5000, diskFree: 0.15)
        let alerts = try OpsTestSupport.file(renderer.render(topology), "prod/monitoring/alerts.yml").contents
        #expect(alerts.contains("> 0.02\n"))
        #expect(alerts.contains("rate(http_request_duration_seconds_bucket[5m])))\n    > 0.25\n") || alerts.contains("> 0.25\n"))
        #expect(alerts.contains("(swap_consumer_lag) > 5000\n"))
        #expect(alerts.contains("< 0.15\n"))
        for alert in ["InstanceDown", "HighErrorRate", "HighLatencyP99", "KafkaConsumerLag", "DiskSpaceLow"] {
            #expect(alerts.contains("- alert: \(alert)\n"))
            #expect(alerts.contains("runbook_url: docs/runbooks/alerts.md#\(alert.lowercased())"))
        }
        let realtime = try #require(topology.service(named: "realtime"))
        #expect(alerts.contains("(sum(up{job=\"realtime\"}) or vector(0)) < \(realtime.replicas.value)"))
    }

    @Test func metricNamesAreTheOnesTheRulesUse() throws {
        let output = renderer.render(try Fixture.topology("prod"))
        let alerts = try OpsTestSupport.file(output, "prod/monitoring/alerts.yml").contents
        #expect(alerts.contains(MetricNames.httpRequests))
        #expect(alerts.contains(MetricNames.httpRequestDuration + "_bucket"))
        #expect(alerts.contains(MetricNames.consumerLag))
        let financial = try OpsTestSupport.file(output, "prod/monitoring/grafana/dashboards/financial.json").contents
        #expect(financial.contains(MetricNames.eventsPublished))
        let points = try OpsTestSupport.file(output, "prod/monitoring/grafana/dashboards/points.json").contents
        #expect(points.contains(MetricNames.eventsConsumed) && points.contains(MetricNames.eventsPublished))
    }

    @Test func oneParsableDashboardPerEnabledService() throws {
        for environment in ["dev", "prod", "staging"] {
            let topology = try Fixture.topology(environment)
            let output = renderer.render(topology)
            let dashboards = output.files.filter { $0.path.hasPrefix("\(environment)/monitoring/grafana/dashboards/") }
            #expect(dashboards.map(\.path).sorted() == topology.services.map { "\(environment)/monitoring/grafana/dashboards/\($0.name).json" }.sorted())
            var uids = Set<String>()
            for service in topology.services {
                let file = try OpsTestSupport.file(output, "\(environment)/monitoring/grafana/dashboards/\(service.name).json")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(file.contents.utf8)) as? [String: Any])
                let uid = try #require(object["uid"] as? String)
                uids.insert(uid)
                let panels = try #require(object["panels"] as? [[String: Any]])
                let titles = panels.compactMap { $0["title"] as? String }
                #expect(titles.contains("Request rate") && titles.contains("Error rate (5xx share)") && titles.contains("Latency p50 / p99"))
                #expect(titles.contains("Events published") == !service.produces.isEmpty)
                #expect(titles.contains("Events consumed") == !service.consumes.isEmpty)
                for panel in panels {
                    let targets = try #require(panel["targets"] as? [[String: Any]])
                    for target in targets {
                        let expr = try #require(target["expr"] as? String)
                        #expect(expr.contains("job=\"\(service.name)\""), "\(service.name): \(expr)")
                    }
                }
            }
            #expect(uids.count == topology.services.count, "dashboard uids must be unique")
        }
    }

    @Test func grafanaProvisioningPointsAtPrometheusAndTheDashboards() throws {
        let output = renderer.render(try Fixture.topology("staging"))
        let datasource = try OpsTestSupport.file(output, "staging/monitoring/grafana/provisioning/datasources/prometheus.yml").contents
        #expect(datasource.contains("url: http://prometheus:9090") && datasource.contains("uid: prometheus"))
        #expect(datasource.contains("timeInterval: 15s"))
        let provider = try OpsTestSupport.file(output, "staging/monitoring/grafana/provisioning/dashboards/swap.yml").contents
        #expect(provider.contains("path: \(MonitoringNaming.ContainerPath.grafanaDashboards)"))
        #expect(!renderer.render(try Fixture.topology("local")).files.contains { $0.path.contains("grafana") }, "local disables Grafana")
    }

    @Test func seventhServiceGetsScrapedAlertedAndADashboard() throws {
        for environment in ["dev", "local", "prod"] {
            let topology = try OpsTestSupport.withSeventhService(environment)
            let output = renderer.render(topology)
            let prometheus = try OpsTestSupport.file(output, "\(environment)/monitoring/prometheus.yml").contents
            #expect(prometheus.contains("- job_name: search\n"))
            switch topology.target {
            case .swarm: #expect(prometheus.contains("- tasks.search\n        type: A\n        port: 3005"))
            case .compose: #expect(prometheus.contains("- search\n        type: A\n        port: 3005"))
            case .processes: #expect(prometheus.contains("- \"127.0.0.1:3005\"\n") && prometheus.contains("- \"127.0.0.1:3006\"\n"))
            }
            let alerts = try OpsTestSupport.file(output, "\(environment)/monitoring/alerts.yml").contents
            #expect(alerts.contains("up{job=\"search\"}"))
            if topology.monitoring.grafana {
                let dashboard = try OpsTestSupport.file(output, "\(environment)/monitoring/grafana/dashboards/search.json").contents
                #expect(dashboard.contains("swap_events_consumed_total{job=\\\"search\\\"}"))
            }
            let folder = try ExternalTool.scratch(output.files.map { ($0.path, $0.contents) })
            defer { try? FileManager.default.removeItem(at: folder) }
            let check = try ExternalTool.run("promtool", ["check", "config", "prometheus.yml"], in: folder.appendingPathComponent("\(environment)/monitoring"))
            #expect(check.status == 0, "\(check.output)")
        }
    }

    @Test func notesWhatTheTargetCannotExpress() throws {
        let dev = renderer.render(try Fixture.topology("dev")).notes.map(\.message)
        #expect(dev.contains { $0.contains("disk_free") })
        #expect(dev.contains { $0.contains("declare the secret alertmanager_slack_webhook") })
        let prod = renderer.render(try Fixture.topology("prod")).notes.map(\.message)
        #expect(!prod.contains { $0.contains("disk_free") })
    }

    @Test func everyFileCarriesTheGeneratedNotice() throws {
        for file in OpsTestSupport.render(renderer, try Fixture.allEnvironments()).files {
            if file.path.hasSuffix(".json") {
                #expect(file.contents.contains("\"description\": \"\(GeneratedHeader.text)"), "\(file.path)")
            } else {
                #expect(file.contents.hasPrefix("# \(GeneratedHeader.text)\n"), "\(file.path)")
            }
        }
    }
}
