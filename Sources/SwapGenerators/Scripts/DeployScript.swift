import SwapTopology

/// scripts/deploy.sh: secrets check, `docker stack deploy`, topic creation,
/// wait for convergence, roll back what this deploy updated on failure.
enum DeployScript {
    static func render(_ facts: StackFacts) -> String {
        let topology = facts.topology
        var text = ShellText.prologue(topology, purpose: [
            "Deploys the '\(topology.environment)' environment to Docker Swarm as stack '\(facts.stack)':",
            "  1. checks that every external secret and variable stack.yml needs exists;",
            "  2. docker stack deploy --with-registry-auth --prune;",
            "  3. creates the Kafka topics (kafka/create-topics.sh in the broker's image, on its network);",
            "  4. waits until every service runs its desired replicas, healthy;",
            "  5. on failure or timeout rolls back every service this deploy changed and exits 1.",
            "There is no separate migration step: each service applies its database",
            "migrations at start-up under a PostgreSQL advisory lock, so one replica",
            "migrates while the others wait, and a failing migration fails the health",
            "check, which fails this rollout. Migrations must stay backward compatible",
            "(old and new replicas run side by side during a start-first update).",
        ])
        let broker = facts.brokers.first
        let brokerService = broker.map { KafkaNaming.node($0, 1) } ?? ""
        text += #"""

        SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

        usage() {
            cat <<'EOF'
        Usage: deploy.sh [-h]

        Deploys stack.yml (beside this scripts/ folder) to the Swarm the docker CLI
        talks to, waits for it to converge and rolls back on failure.

        Environment:
          STACK            stack name (default: \#(facts.stack))
          STACK_FILE       stack file (default: ../stack.yml from this script)
          DEPLOY_TIMEOUT   seconds to wait for every service (default: 600)
          KAFKA_NETWORK    network for topic creation (default: the broker's first network;
                           it must be attachable)
          DOCKER_HOST      the Swarm manager, e.g. ssh://deploy@manager (default: local engine)
        Variables that stack.yml interpolates (the image tag, the backup bucket, ...)
        come from this environment too: docker stack deploy reads no .env file.
        Those without a default must be set or deploy.sh refuses to start.
        EOF
        }


        """#
        text += ShellText.helpOnly
        text += #"""

        STACK="${STACK:-\#(ShellText.inDoubleQuotes(facts.stack))}"
        STACK_FILE="${STACK_FILE:-$SCRIPT_DIR/../stack.yml}"
        TOPICS_SCRIPT="$SCRIPT_DIR/../kafka/create-topics.sh"
        DEPLOY_TIMEOUT="${DEPLOY_TIMEOUT:-600}"
        SERVICES=\#(ShellText.array(facts.services))
        KAFKA_BROKER_SERVICE=\#(ShellText.quote(brokerService))

        STATE_DIR="$(mktemp -d)"
        trap 'rm -rf "$STATE_DIR"' EXIT

        log() { printf 'deploy: %s\n' "$*" >&2; }
        die() { log "error: $*"; exit 1; }

        # The stack's services, one name per line (empty before the first deploy).
        stack_services() {
            docker service ls --filter "label=com.docker.stack.namespace=$STACK" --format '{{.Name}}' | sort
        }

        # NAME DIGEST for every service: tells which services a deploy changed.
        spec_digests() {
            local name
            stack_services | while read -r name; do
                printf '%s %s\n' "$name" "$(docker service inspect --format '{{json .Spec}}' "$name" | cksum | cut -d ' ' -f 1)"
            done
        }

        # The Swarm names of the secrets stack.yml declares at top level: its
        # `name:`, or <stack>_<key> without one. Read from the file being
        # deployed, so the check matches what docker stack deploy looks up.
        stack_secrets() {
            awk -v stack="$STACK" '
                function flush() { if (key != "") print (name != "" ? name : stack "_" key); key = ""; name = "" }
                /^secrets:/ { in_secrets = 1; next }
                /^[^[:space:]#]/ { flush(); in_secrets = 0 }
                !in_secrets { next }
                /^  [^[:space:]#][^:]*:[[:space:]]*$/ { flush(); key = $1; sub(/:$/, "", key); next }
                /^    name:/ { name = $2; gsub(/["\047]/, "", name) }
                END { flush() }
            ' "$STACK_FILE"
        }

        # The variables stack.yml interpolates without a default: ${NAME},
        # ${NAME:?message}, ${NAME?message}. They must be set.
        stack_variables() {
            grep -oE '[$][{][A-Za-z_][A-Za-z0-9_]*(:?[?]|[}])' "$STACK_FILE" | sed -E 's/^[$][{]//; s/(:?[?]|[}])$//' | sort -u
        }

        # Rolls back the services whose spec this deploy changed. One that Swarm
        # already rolled back (update_config failure_action) has its old spec
        # again and is left alone: a second rollback would re-apply the new one.
        rollback() {
            local name digest after
            spec_digests >"$STATE_DIR/after"
            while read -r name digest; do
                after="$(awk -v n="$name" '$1 == n { print $2 }' "$STATE_DIR/after")"
                if [ -n "$after" ] && [ "$after" != "$digest" ]; then
                    case "$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$name")" in
                        rollback_*) continue ;;
                    esac
                    log "rolling back $name"
                    docker service rollback --detach "$name" >/dev/null || log "rollback of $name failed"
                fi
            done <"$STATE_DIR/before"
            while read -r name _; do
                grep -q "^$name " "$STATE_DIR/before" || log "$name is new in this deploy: nothing to roll back to (remove it with docker service rm $name)"
            done <"$STATE_DIR/after"
        }

        fail() {
            log "error: $*"
            docker stack ps "$STACK" --no-trunc --filter desired-state=shutdown \
                --format '{{.Name}} {{.CurrentState}} {{.Error}}' 2>/dev/null | head -n 20 >&2 || true
            rollback
            exit 1
        }

        # Prints what is not converged yet; returns 0 converged, 1 pending, 2 failed.
        check_services() {
            local name replicas current desired state result=0 svc
            while read -r name replicas; do
                case "$replicas" in *completed*) continue ;; esac
                current="${replicas%%/*}"
                desired="${replicas#*/}"
                desired="${desired%% *}"
                state="$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$name")"
                case "$state" in
                    paused | rollback_*)
                        printf '%s: update %s\n' "$name" "$state"
                        return 2
                        ;;
                    updating)
                        printf '%s: updating (%s)\n' "$name" "$replicas"
                        result=1
                        ;;
                    *)
                        if [ "$current" != "$desired" ]; then
                            printf '%s: %s replicas healthy\n' "$name" "$replicas"
                            result=1
                        fi
                        ;;
                esac
            done < <(docker service ls --filter "label=com.docker.stack.namespace=$STACK" --format '{{.Name}} {{.Replicas}}')
            for svc in "${SERVICES[@]}"; do
                if ! docker service inspect "${STACK}_$svc" >/dev/null 2>&1; then
                    printf '%s: missing from the stack\n' "${STACK}_$svc"
                    return 2
                fi
            done
            return "$result"
        }

        command -v docker >/dev/null || die "the docker CLI is not installed"
        [ -f "$STACK_FILE" ] || die "no stack file at $STACK_FILE"
        [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ] ||
            die "the Docker engine is not a Swarm manager (point DOCKER_HOST at one)"

        # 1. Secrets: external, created out of band, never in this repository;
        # and the variables stack.yml interpolates without a default.
        missing=""
        for secret in $(stack_secrets); do
            docker secret inspect "$secret" >/dev/null 2>&1 || missing="$missing $secret"
        done
        if [ -n "$missing" ]; then
            die "missing Swarm secrets:$missing (create each with: docker secret create NAME FILE)"
        fi
        for variable in $(stack_variables); do
            [ -n "${!variable:-}" ] || missing="$missing $variable"
        done
        if [ -n "$missing" ]; then
            die "stack.yml needs these variables exported:$missing"
        fi

        # 2. Deploy, remembering every service's spec for the rollback.
        spec_digests >"$STATE_DIR/before"
        detach=""
        if docker stack deploy --help 2>/dev/null | grep -q -- '--detach'; then detach="--detach=true"; fi
        log "deploying $STACK_FILE as stack $STACK"
        # shellcheck disable=SC2086 # $detach is one optional flag
        docker stack deploy --with-registry-auth --prune $detach -c "$STACK_FILE" "$STACK" ||
            fail "docker stack deploy failed"

        # 3. Kafka topics, in the broker's own image on the broker's network.
        if [ -n "$KAFKA_BROKER_SERVICE" ] && [ -f "$TOPICS_SCRIPT" ]; then
            broker="${STACK}_$KAFKA_BROKER_SERVICE"
            image="$(docker service inspect --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' "$broker")" ||
                fail "no broker service $broker"
            network="${KAFKA_NETWORK:-}"
            if [ -z "$network" ]; then
                network_id="$(docker service inspect --format '{{range .Spec.TaskTemplate.Networks}}{{.Target}} {{end}}' "$broker" | cut -d ' ' -f 1)"
                network="$(docker network inspect --format '{{.Name}}' "$network_id")" || fail "cannot find the network of $broker"
            fi
            log "creating Kafka topics on $network"
            docker run --rm -i --network "$network" --entrypoint bash "$image" -s <"$TOPICS_SCRIPT" ||
                fail "topic creation failed"
        fi

        # 4. Wait for every service: replicas running (healthy, for those with a
        # healthcheck) and no update paused or rolled back.
        deadline=$((SECONDS + DEPLOY_TIMEOUT))
        while true; do
            status=0
            report="$(check_services)" || status=$?
            [ "$status" -eq 0 ] && break
            [ "$status" -eq 2 ] && fail "$report"
            [ "$SECONDS" -lt "$deadline" ] || fail "not converged after ${DEPLOY_TIMEOUT}s: $report"
            sleep 5
        done
        log "stack $STACK is up: every service runs its desired replicas"

        """#
        return text
    }
}
