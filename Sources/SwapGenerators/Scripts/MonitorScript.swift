import SwapTopology

/// scripts/monitor.sh: a one-screen health report of the Swarm stack; exit 1
/// when something is unhealthy (usable from cron or a CI smoke step).
enum MonitorScript {
    static func render(_ facts: StackFacts) -> String {
        let topology = facts.topology
        var text = ShellText.prologue(topology, purpose: [
            "Reports on stack '\(facts.stack)' of the '\(topology.environment)' environment: service states",
            "and replicas, containers failing their health checks, recent task errors.",
        ])
        text += #"""

        usage() {
            cat <<'EOF'
        Usage: monitor.sh [-h]

        Exits 1 when a service of the topology is missing, runs fewer replicas than
        desired, has a paused or rolled-back update, or a container of the stack on
        this node is unhealthy; 0 otherwise.

        Environment:
          STACK         stack name (default: \#(facts.stack))
          ERROR_LINES   how many recent task errors to print (default: 20)
          DOCKER_HOST   the Swarm manager (default: local engine)
        EOF
        }


        """#
        text += ShellText.helpOnly
        text += #"""

        STACK="${STACK:-\#(ShellText.inDoubleQuotes(facts.stack))}"
        ERROR_LINES="${ERROR_LINES:-20}"
        SERVICES=\#(ShellText.array(facts.services))

        problems=0
        problem() {
            printf 'UNHEALTHY: %s\n' "$*"
            problems=$((problems + 1))
        }

        command -v docker >/dev/null || { echo "monitor: the docker CLI is not installed" >&2; exit 1; }

        echo "== services of stack $STACK"
        docker service ls --filter "label=com.docker.stack.namespace=$STACK" \
            --format 'table {{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}'

        while read -r name replicas; do
            case "$replicas" in *completed*) continue ;; esac
            current="${replicas%%/*}"
            desired="${replicas#*/}"
            desired="${desired%% *}"
            [ "$current" = "$desired" ] || problem "$name runs $current of $desired replicas"
            state="$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$name")"
            case "$state" in
                paused | rollback_*) problem "$name: update $state" ;;
            esac
        done < <(docker service ls --filter "label=com.docker.stack.namespace=$STACK" --format '{{.Name}} {{.Replicas}}')

        for svc in "${SERVICES[@]}"; do
            docker service inspect "${STACK}_$svc" >/dev/null 2>&1 || problem "${STACK}_$svc is not deployed"
        done

        echo
        echo "== containers failing their health checks (this node)"
        unhealthy="$(docker ps --filter "label=com.docker.stack.namespace=$STACK" --filter health=unhealthy \
            --format '{{.Names}} {{.Status}}')"
        if [ -n "$unhealthy" ]; then
            while read -r line; do problem "$line"; done <<<"$unhealthy"
        else
            echo "none"
        fi

        echo
        echo "== recent task errors"
        errors="$(docker stack ps "$STACK" --no-trunc --format '{{.Name}}|{{.CurrentState}}|{{.Error}}' 2>/dev/null |
            awk -F'|' '$3 != ""' | head -n "$ERROR_LINES")" || true
        if [ -n "$errors" ]; then printf '%s\n' "$errors"; else echo "none"; fi

        echo
        if [ "$problems" -gt 0 ]; then
            echo "$problems problem(s) found"
            exit 1
        fi
        echo "stack $STACK is healthy"

        """#
        return text
    }
}
