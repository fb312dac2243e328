import SwapTopology

/// `<env>/monitoring/alertmanager.yml`: grouping, inhibition and one receiver.
///
/// The receiver has no integration: a webhook URL is a secret, and the
/// Alertmanager the validators accept (0.25) cannot read `webhook_configs`
/// URLs from a file (`url_file` came in 0.26). Alerts are still visible in the
/// Alertmanager and Prometheus UIs.
enum AlertmanagerConfig {
    static let receiver = "default"

    static let note = "alertmanager.yml routes every alert to a receiver without integration (visible in the Alertmanager UI only): "
        + "a webhook URL is a secret and Alertmanager 0.25 cannot read it from a file (webhook url_file needs 0.26+)"

    static func render(_ topology: Topology) -> String {
        var text = GeneratedHeader.hash(topology.environment)
        text += """
        #
        # The receiver '\(receiver)' has no integration on purpose: a webhook URL is a
        # secret, and webhook_configs can read it from a file (url_file:
        # /run/secrets/alertmanager_webhook_url) only from Alertmanager 0.26 on.
        # Until then alerts show in the Alertmanager UI and in Prometheus.

        """
        return text + document(topology).render()
    }

    static func document(_ topology: Topology) -> YAMLValue {
        .map([
            ("global", .map([("resolve_timeout", .string("5m"))])),
            ("route", .map([
                ("receiver", .string(receiver)),
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
            ("receivers", .list([.map([("name", .string(receiver))])])),
        ])
    }
}
