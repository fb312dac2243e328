import SwapTopology

/// The text of create-topics.sh.
enum TopicScript {
    /// The environment variable holding a broker's bootstrap servers:
    /// `KAFKA_BOOTSTRAP` when the topology has one broker, else one per broker.
    static func bootstrapVariable(_ broker: Broker, in brokers: [Broker]) -> String {
        brokers.count == 1 ? "KAFKA_BOOTSTRAP" : "KAFKA_BOOTSTRAP_\(ServiceEnvironment.environmentName(broker.name))"
    }

    /// Topic-level configs: retention (when the topology sets one) and the
    /// broker's min.insync.replicas, never above the topic's replication.
    static func configs(_ topic: Topic, on broker: Broker) -> String {
        var pairs: [String] = []
        if let retention = topic.retention { pairs.append("retention.ms=\(retention.totalMilliseconds)") }
        pairs.append("min.insync.replicas=\(min(broker.effectiveMinInsync, topic.replication.value))")
        return pairs.joined(separator: ",")
    }

    static func render(_ topology: Topology, brokers: [Broker]) -> String {
        var text = ShellText.prologue(topology, purpose: [
            "Creates the Kafka topics of the '\(topology.environment)' environment. Idempotent: a topic",
            "that exists is kept (--if-not-exists) and its configs are re-applied; a",
            "partition or replication drift is reported, never changed behind your back.",
        ])
        let variables = brokers.map { broker in
            "  \(ShellText.padded(bootstrapVariable(broker, in: brokers), 24))"
                + "bootstrap servers of broker '\(broker.name)' (default: \(Addresses.docker.broker(broker).joined(separator: ",")))"
        }
        text += """

        usage() {
            cat <<'EOF'
        Usage: create-topics.sh [-h]

        Waits for the broker, then creates every topic of the topology. Run it in the
        apache/kafka image on the stack's network, after the brokers start.

        Environment:
        \(variables.joined(separator: "\n"))
          KAFKA_BIN               folder of the Kafka CLI tools (default: /opt/kafka/bin)
          KAFKA_COMMAND_CONFIG    client properties file for TLS/SASL (optional)
          WAIT_TIMEOUT            seconds to wait for the broker (default: 180)
        EOF
        }


        """
        text += ShellText.helpOnly
        text += """

        KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
        WAIT_TIMEOUT="${WAIT_TIMEOUT:-180}"

        log() { printf 'create-topics: %s\\n' "$*" >&2; }

        # kafka TOOL BOOTSTRAP ARGS...: one Kafka CLI call against a bootstrap list.
        kafka() {
            local tool="$1" bootstrap="$2"
            shift 2
            local extra=()
            if [ -n "${KAFKA_COMMAND_CONFIG:-}" ]; then extra=(--command-config "$KAFKA_COMMAND_CONFIG"); fi
            "$KAFKA_BIN/$tool" --bootstrap-server "$bootstrap" "${extra[@]}" "$@"
        }

        wait_for_broker() {
            local bootstrap="$1" deadline=$((SECONDS + WAIT_TIMEOUT))
            until kafka kafka-topics.sh "$bootstrap" --list >/dev/null 2>&1; do
                if [ "$SECONDS" -ge "$deadline" ]; then
                    log "no broker answered at $bootstrap within ${WAIT_TIMEOUT}s"
                    exit 1
                fi
                log "waiting for $bootstrap ..."
                sleep 3
            done
        }

        # ensure_topic BOOTSTRAP NAME PARTITIONS REPLICATION CONFIGS(k=v,k=v)
        ensure_topic() {
            local bootstrap="$1" name="$2" partitions="$3" replication="$4" configs="$5"
            local pairs=() config_args=() pair description current
            IFS=',' read -ra pairs <<<"$configs"
            for pair in "${pairs[@]}"; do config_args+=(--config "$pair"); done
            kafka kafka-topics.sh "$bootstrap" --create --if-not-exists --topic "$name" \\
                --partitions "$partitions" --replication-factor "$replication" "${config_args[@]}"
            # --if-not-exists leaves an existing topic untouched: re-apply its configs.
            kafka kafka-configs.sh "$bootstrap" --alter --entity-type topics --entity-name "$name" \\
                --add-config "$configs" >/dev/null
            description="$(kafka kafka-topics.sh "$bootstrap" --describe --topic "$name")"
            current="$(printf '%s\\n' "$description" | sed -n 's/.*PartitionCount: *\\([0-9]*\\).*/\\1/p' | head -n 1)"
            if [ -n "$current" ] && [ "$current" -ne "$partitions" ]; then
                log "warning: topic $name has $current partitions, the topology asks for $partitions" \\
                    "(raise with kafka-topics.sh --alter --partitions; keys move to other partitions)"
            fi
            current="$(printf '%s\\n' "$description" | sed -n 's/.*ReplicationFactor: *\\([0-9]*\\).*/\\1/p' | head -n 1)"
            if [ -n "$current" ] && [ "$current" -ne "$replication" ]; then
                log "warning: topic $name has replication $current, the topology asks for $replication" \\
                    "(change it with kafka-reassign-partitions.sh)"
            fi
            log "topic $name ready ($partitions partitions, replication $replication, $configs)"
        }

        """
        for broker in brokers {
            let variable = bootstrapVariable(broker, in: brokers)
            let bootstrap = Addresses.docker.broker(broker).joined(separator: ",")
            text += "\n# Broker '\(broker.name)': \(broker.nodes.value) node(s), min.insync.replicas \(broker.effectiveMinInsync).\n"
            text += "\(variable)=\"${\(variable):-\(ShellText.inDoubleQuotes(bootstrap))}\"\n"
            text += "wait_for_broker \"$\(variable)\"\n"
            for topic in broker.topics {
                let words = [topic.name, String(topic.partitions), String(topic.replication.value), configs(topic, on: broker)]
                text += "ensure_topic \"$\(variable)\" " + words.map(ShellText.quote).joined(separator: " ") + "\n"
            }
        }
        return text
    }
}
