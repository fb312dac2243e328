import SwapTopology

/// `swarm-bootstrap.sh`: run once from a workstation, after the droplets have
/// finished cloud-init, to turn them into the environment's Swarm. Every step
/// checks first, so a second run only does what is missing.
enum SwarmBootstrapScript {
    static func render(_ facts: ProvisioningFacts) -> String {
        ShellText.prologue(facts.topology, purpose: [
            "Turns the droplets of '\(facts.environment)' into its Docker Swarm, from your workstation:",
            "  1. checks every node answers over SSH (docker -H ssh://\(ProvisioningFacts.deployUser)@NODE) and that every",
            "     secret the stack needs exists or has a file;",
            "  2. docker swarm init on the first manager, advertising its VPC interface;",
            "  3. joins the other managers and the workers with the join tokens (never printed",
            "     unless --print-join-commands is given);",
            "  4. labels the data nodes for the stack's placement constraints:",
        ] + labelLines(facts).map { "       \($0)" } + [
            "  5. creates the stack's external secrets from files (docker secret create NAME -, the",
            "     value on stdin: it is never echoed nor put on a command line).",
        ]) + "\n" + usage(facts) + body(facts)
    }

    private static func labelLines(_ facts: ProvisioningFacts) -> [String] {
        ["\(facts.dataLabel)=true on every data node"]
            + facts.pinnedBrokers.map { "\($0.label)=n on the n-th data node, n = 1...\($0.nodes) (one broker node each)" }
    }

    private static func usage(_ facts: ProvisioningFacts) -> String {
        // A column as wide as the longest name, at least as wide as before.
        let width = max(24, (facts.secrets.map(\.key.count).max() ?? 0) + 2)
        let secretLines = facts.secrets.map { secret -> String in
            let declared = facts.topology.secret(named: secret.key)
            let how = declared?.generate != nil ? "random; swapctl secrets init can write it" : (declared?.description ?? "provided by you")
            return "  \(ShellText.padded(secret.key, width))\(how)"
        }.joined(separator: "\n")
        return """
        usage() {
            cat <<'EOF'
        Usage: swarm-bootstrap.sh [--dry-run] [--print-join-commands]

          --dry-run              print what would be done, change nothing
          --print-join-commands  also print the `docker swarm join` commands (they hold
                                 the join tokens: treat the output as a secret)

        Environment:
          MANAGERS       SSH addresses of the manager droplets, space-separated; the first
                         one creates the swarm (required; the topology has \(facts.managers))
          WORKERS        SSH addresses of the worker droplets (the topology has \(facts.workers))
          DATA_NODES     the nodes labelled \(facts.dataLabel)=true, in order (default: the first
                         \(facts.dataNodesNeeded) of WORKERS then MANAGERS; at least \(facts.dataNodesNeeded) are needed)
          SSH_USER       login on the droplets (default: \(ProvisioningFacts.deployUser))
          VPC_INTERFACE  the droplets' VPC interface, which Swarm listens and advertises on
                         (default: \(ProvisioningFacts.defaultVPCInterface), DigitalOcean's private interface)
          SECRETS_DIR    folder with one file per secret, named after it (default: ./secrets)
          STACK          stack name, the prefix of the secret names (default: \(facts.project))

        Secrets of stack.yml (created as <STACK>_<name>; an existing one is kept):
        \(secretLines)
        EOF
        }


        """
    }

    private static func body(_ facts: ProvisioningFacts) -> String {
        let secretKeys = facts.secrets.map(\.key)
        let brokerLabels = facts.pinnedBrokers.map { "\($0.label)=\($0.nodes)" }
        return #"""
        dry_run=0
        print_join=0
        while [ "$#" -gt 0 ]; do
            case "$1" in
                -h | --help) usage; exit 0 ;;
                --dry-run) dry_run=1 ;;
                --print-join-commands) print_join=1 ;;
                *) usage >&2; exit 2 ;;
            esac
            shift
        done

        log() { printf 'swarm-bootstrap: %s\n' "$*" >&2; }
        die() { log "error: $*"; exit 1; }

        read -r -a managers <<<"${MANAGERS:-}"
        read -r -a workers <<<"${WORKERS:-}"
        SSH_USER="${SSH_USER:-\#(ProvisioningFacts.deployUser)}"
        VPC_INTERFACE="${VPC_INTERFACE:-\#(ProvisioningFacts.defaultVPCInterface)}"
        SECRETS_DIR="${SECRETS_DIR:-./secrets}"
        STACK="${STACK:-\#(ShellText.inDoubleQuotes(facts.project))}"
        ENVIRONMENT=\#(ShellText.quote(facts.environment))
        EXPECTED_MANAGERS=\#(facts.managers)
        EXPECTED_WORKERS=\#(facts.workers)
        DATA_LABEL=\#(ShellText.quote(facts.dataLabel))
        DATA_NODES_NEEDED=\#(facts.dataNodesNeeded)
        # LABEL=NODES for each broker whose nodes are pinned one per data node.
        # (Arrays that may be empty expand as ${a[@]+"${a[@]}"}: bash 3.2 on macOS
        # treats an empty "${a[@]}" as unset under set -u.)
        BROKER_LABELS=\#(ShellText.array(brokerLabels))
        SECRETS=\#(ShellText.array(secretKeys))

        [ "${#managers[@]}" -gt 0 ] || { usage >&2; die "MANAGERS is empty"; }
        command -v docker >/dev/null || die "the docker CLI is needed on this machine (it talks to the nodes over SSH)"
        [ "${#managers[@]}" -eq "$EXPECTED_MANAGERS" ] ||
            log "warning: ${#managers[@]} manager(s) given, the topology has $EXPECTED_MANAGERS"
        [ "${#workers[@]}" -eq "$EXPECTED_WORKERS" ] ||
            log "warning: ${#workers[@]} worker(s) given, the topology has $EXPECTED_WORKERS"
        if [ $((${#managers[@]} % 2)) -eq 0 ]; then
            log "warning: an even number of managers tolerates no more failures than one fewer"
        fi

        if [ -n "${DATA_NODES:-}" ]; then
            read -r -a data_nodes <<<"$DATA_NODES"
        else
            data_nodes=()
            for node in ${workers[@]+"${workers[@]}"} "${managers[@]}"; do
                if [ "${#data_nodes[@]}" -lt "$DATA_NODES_NEEDED" ]; then data_nodes+=("$node"); fi
            done
        fi
        [ "${#data_nodes[@]}" -ge "$DATA_NODES_NEEDED" ] ||
            die "${#data_nodes[@]} data node(s), $DATA_NODES_NEEDED needed: each pinned broker node needs its own machine"
        for node in "${data_nodes[@]}"; do
            case " ${managers[*]} ${workers[*]} " in
                *" $node "*) ;;
                *) die "data node $node is neither in MANAGERS nor in WORKERS" ;;
            esac
        done

        # on NODE ARGS...: the docker CLI against NODE's engine, over SSH.
        on() {
            local node="$1"
            shift
            docker -H "ssh://$SSH_USER@$node" "$@"
        }

        # act NODE ARGS...: like `on`, or only printed with --dry-run.
        act() {
            if [ "$dry_run" -eq 1 ]; then
                log "would run on $1: docker ${*:2}"
            else
                on "$@"
            fi
        }

        swarm_state() { on "$1" info --format '{{.Swarm.LocalNodeState}}'; }

        # 1. Preflight: every node answers; every secret exists or has a file.
        leader="${managers[0]}"
        for node in "${managers[@]}" ${workers[@]+"${workers[@]}"}; do
            state="$(swarm_state "$node")" || die "cannot reach the Docker engine of $node as $SSH_USER over SSH"
            log "$node: reachable, swarm state: $state"
        done
        existing_secrets=""
        if [ "$(swarm_state "$leader")" = active ]; then
            existing_secrets="$(on "$leader" secret ls --format '{{.Name}}')"
        fi
        missing=()
        for secret in "${SECRETS[@]}"; do
            grep -qxF "${STACK}_$secret" <<<"$existing_secrets" && continue
            [ -s "$SECRETS_DIR/$secret" ] || missing+=("$SECRETS_DIR/$secret")
        done
        [ "${#missing[@]}" -eq 0 ] || die "secret files missing or empty: ${missing[*]} (see --help)"

        # 2. The first manager creates the swarm.
        if [ "$(swarm_state "$leader")" = active ]; then
            log "$leader: already in a swarm"
        else
            act "$leader" swarm init --advertise-addr "$VPC_INTERFACE" --listen-addr "$VPC_INTERFACE:2377"
        fi

        # 3. The others join through the leader's VPC address.
        if [ "$dry_run" -eq 1 ] && [ "$(swarm_state "$leader")" != active ]; then
            leader_addr="<$leader's $VPC_INTERFACE address>"
            manager_token="<manager join token>"
            worker_token="<worker join token>"
        else
            leader_addr="$(on "$leader" info --format '{{.Swarm.NodeAddr}}')"
            manager_token="$(on "$leader" swarm join-token -q manager)"
            worker_token="$(on "$leader" swarm join-token -q worker)"
        fi
        join() {
            local node="$1" token="$2"
            if [ "$(swarm_state "$node")" = active ]; then
                log "$node: already in a swarm"
            elif [ "$dry_run" -eq 1 ]; then
                log "would run on $node: docker swarm join --token <$3 join token> --advertise-addr $VPC_INTERFACE $leader_addr:2377"
            else
                on "$node" swarm join --token "$token" --advertise-addr "$VPC_INTERFACE" --listen-addr "$VPC_INTERFACE:2377" "$leader_addr:2377"
            fi
        }
        for node in "${managers[@]:1}"; do join "$node" "$manager_token" manager; done
        for node in ${workers[@]+"${workers[@]}"}; do join "$node" "$worker_token" worker; done
        if [ "$print_join" -eq 1 ]; then
            printf 'docker swarm join --token %s %s:2377   # as a manager\n' "$manager_token" "$leader_addr"
            printf 'docker swarm join --token %s %s:2377   # as a worker\n' "$worker_token" "$leader_addr"
        fi

        # 4. Labels for the placement constraints of stack.yml.
        node_id() {
            if [ "$dry_run" -eq 1 ] && [ "$(swarm_state "$1")" != active ]; then
                printf '<node id of %s>\n' "$1"
            else
                on "$1" info --format '{{.Swarm.NodeID}}'
            fi
        }
        index=0
        for node in "${data_nodes[@]}"; do
            index=$((index + 1))
            id="$(node_id "$node")"
            labels=(--label-add "$DATA_LABEL=true")
            for entry in ${BROKER_LABELS[@]+"${BROKER_LABELS[@]}"}; do
                if [ "$index" -le "${entry##*=}" ]; then labels+=(--label-add "${entry%=*}=$index"); fi
            done
            act "$leader" node update "${labels[@]}" "$id" >/dev/null
            log "$node: ${labels[*]//--label-add /}"
        done

        # 5. External secrets, values from files on stdin.
        for secret in "${SECRETS[@]}"; do
            name="${STACK}_$secret"
            if grep -qxF "$name" <<<"$existing_secrets"; then
                log "secret $name exists: kept (rotate by creating a new name; see docs/deployment.md)"
            elif [ "$dry_run" -eq 1 ]; then
                log "would create secret $name from $SECRETS_DIR/$secret"
            else
                on "$leader" secret create --label "$STACK.environment=$ENVIRONMENT" "$name" - <"$SECRETS_DIR/$secret" >/dev/null
                log "created secret $name from $SECRETS_DIR/$secret"
            fi
        done

        if [ "$dry_run" -eq 0 ]; then on "$leader" node ls; fi
        log "done: deploy with DOCKER_HOST=ssh://$SSH_USER@$leader scripts/deploy.sh"

        """#
    }
}
