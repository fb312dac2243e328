import SwapTopology

/// `<env>/monitoring/alertmanager.yml`: grouping, inhibition and one receiver.
///
/// The receiver posts to Slack when the topology declares the secret
/// `alertmanager_slack_webhook` (an incoming-webhook URL, read from its file
/// with `api_url_file`, so it never enters generated/). Without it the
/// receiver has no integration and alerts show in the Alertmanager and
/// Prometheus UIs only. (A generic webhook would need `url_file`, which the
/// Alertmanager the validators here accept, 0.25, does not know.)
enum AlertmanagerConfig {
    static let receiver = "default"

    static let note = "alertmanager.yml routes every alert to a receiver without integration (visible in the Alertmanager UI only): "
        + "declare the secret \(InfrastructureSecrets.alertWebhook) (a Slack incoming-webhook URL) to have alerts posted to Slack"

    static func deliversToSlack(_ topology: Topology) -> Bool {
        topology.hasSecret(InfrastructureSecrets.alertWebhook)
    }

    static func render(_ topology: Topology) -> String {
        var text = GeneratedHeader.hash(topology.environment)
        if deliversToSlack(topology) {
            text += """
            #
            # Alerts are posted to the Slack incoming webhook whose URL is the secret
            # \(InfrastructureSecrets.alertWebhook) (read from its file), resolved ones too.

            """
        } else {
            text += """
            #
            # The receiver '\(receiver)' has no integration: declare the secret
            # \(InfrastructureSecrets.alertWebhook) (a Slack incoming-webhook URL) in the
            # topology to have alerts posted to Slack. Until then they show in the
            # Alertmanager UI and in Prometheus.

            """
        }
        return text + document(topology).render()
    }

    static func document(_ topology: Topology) -> YAMLValue {
        var receiver: [(String, YAMLValue)] = [("name", .string(Self.receiver))]
        if deliversToSlack(topology) {
            receiver.append(("slack_configs", .list([slack(topology)])))
        }
        return .map([
            ("global", .map([("resolve_timeout", .string("5m"))])),
            ("route", .map([
                ("receiver", .string(Self.receiver)),
                ("group_by", .strings(["alertname", "job"])),
                ("group_wait", .string("30s")),
                ("group_interval", .string("5m")),
                ("repeat_interval", .string("4h")),
            ])),
            // A critical alert of a job silences that job's warnings.
            ("inhibit_rules", .list([
                .map([
                    ("source_matchers", .strings(["severity=\"critical\""])),
                    ("target_matchers", .strings(["severity=\"warning\""])),
                    ("equal", .strings(["job"])),
                ]),
            ])),
            ("receivers", .list([.map(receiver)])),
        ])
    }

    /// One message per alert group: environment, status, and each alert's
    /// summary (the rules' annotations, with the runbook link).
    private static func slack(_ topology: Topology) -> YAMLValue {
        .map([
            ("api_url_file", .string(Addresses.docker.secretFile(InfrastructureSecrets.alertWebhook))),
            ("send_resolved", .bool(true)),
            ("title", .string("[\(topology.environment)] {{ .Status | toUpper }}: {{ .CommonLabels.alertname }} ({{ .CommonLabels.job }})")),
            ("text", .string("{{ range .Alerts }}{{ .Annotations.summary }} {{ .Annotations.runbook_url }}\n{{ end }}")),
        ])
    }
}
