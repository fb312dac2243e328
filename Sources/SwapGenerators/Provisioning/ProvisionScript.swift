import SwapTopology

/// `/usr/local/sbin/swap-provision`, run as root by cloud-init on first boot
/// and safe to run again: Docker Engine from Docker's apt repository (its key
/// checked against the published fingerprint), the deploy user's keys and
/// docker group, the firewall, and the services the other files configure.
enum ProvisionScript {
    /// Docker's release key, as docs.docker.com/engine/install publishes it.
    static let dockerKeyFingerprint = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"

    static func render(_ facts: ProvisioningFacts) -> String {
        #"""
        #!/usr/bin/env bash
        \#(GeneratedHeader.hash(facts.environment))#
        # Provisions this droplet for the '\#(facts.environment)' Swarm. cloud-init runs it once (runcmd);
        # after editing \#(CloudInit.provisionEnv), run it again by hand.
        set -euo pipefail

        log() { printf 'swap-provision: %s\n' "$*" >&2; }
        die() { log "error: $*"; exit 1; }

        [ "$(id -u)" -eq 0 ] || die "run as root"
        # shellcheck source=/dev/null
        . \#(CloudInit.provisionEnv)
        : "${ROLE:?}" "${VPC_SUBNET:?}" "${DEPLOY_USER:?}"
        export DEBIAN_FRONTEND=noninteractive

        DOCKER_KEY_FINGERPRINT=\#(dockerKeyFingerprint)

        install_docker() {
            local distro codename arch key=/etc/apt/keyrings/docker.asc
            if command -v dockerd >/dev/null; then
                log "Docker Engine already installed"
                return
            fi
            # shellcheck source=/dev/null
            distro="$(. /etc/os-release && echo "$ID")"
            # shellcheck source=/dev/null
            codename="$(. /etc/os-release && echo "$VERSION_CODENAME")"
            arch="$(dpkg --print-architecture)"
            install -m 0755 -d /etc/apt/keyrings
            curl -fsSL "https://download.docker.com/linux/$distro/gpg" -o "$key.new"
            gpg --show-keys --with-colons "$key.new" | grep -Eq "^fpr:+$DOCKER_KEY_FINGERPRINT:" ||
                die "Docker's apt key does not have the fingerprint $DOCKER_KEY_FINGERPRINT"
            mv "$key.new" "$key"
            chmod a+r "$key"
            printf 'deb [arch=%s signed-by=%s] https://download.docker.com/linux/%s %s stable\n' \
                "$arch" "$key" "$distro" "$codename" >/etc/apt/sources.list.d/docker.list
            apt-get update -q
            apt-get install -y -q docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
            log "installed Docker Engine from download.docker.com ($distro $codename)"
        }

        # The droplet's SSH keys (the ones chosen when it was created): from
        # cloud-init's instance data, else from root's authorized_keys where
        # cloud-init put them (any options in front of a key are dropped).
        droplet_keys() {
            local pattern='(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( .*)?$'
            {
                cloud-init query v1.public_ssh_keys 2>/dev/null |
                    python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin) or []))' 2>/dev/null || true
                if [ -r /root/.ssh/authorized_keys ]; then cat /root/.ssh/authorized_keys; fi
            } | grep -oE "$pattern" | sort -u || true
        }

        # Keys added to authorized_keys by hand later are kept on a second run.
        install_deploy_keys() {
            local home keys
            home="$(getent passwd "$DEPLOY_USER" | cut -d: -f6)"
            [ -n "$home" ] || die "user $DEPLOY_USER does not exist"
            keys="$(droplet_keys)"
            [ -n "$keys" ] || die "the droplet has no SSH key: create it with --ssh-keys (password and root logins are off)"
            install -d -m 0700 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$home/.ssh"
            if [ -s "$home/.ssh/authorized_keys" ]; then
                keys="$(printf '%s\n' "$keys" | cat - "$home/.ssh/authorized_keys" | sort -u)"
            fi
            printf '%s\n' "$keys" >"$home/.ssh/authorized_keys"
            chown "$DEPLOY_USER:$DEPLOY_USER" "$home/.ssh/authorized_keys"
            chmod 0600 "$home/.ssh/authorized_keys"
            log "$DEPLOY_USER: $(printf '%s\n' "$keys" | wc -l | tr -d ' ') authorized SSH key(s)"
        }

        # Everyone may reach SSH and HTTP(S); only the VPC reaches the Swarm
        # ports: 2377/tcp (managers; open on workers too so that one can be
        # promoted), 7946/tcp+udp (gossip), 4789/udp (VXLAN, unauthenticated:
        # never public) and ESP (IP protocol 50) for the encrypted overlays.
        configure_firewall() {
            ufw default deny incoming
            ufw default allow outgoing
            ufw allow 22/tcp
            ufw allow 80/tcp
            ufw allow 443/tcp
            ufw allow proto tcp from "$VPC_SUBNET" to any port 2377
            ufw allow proto tcp from "$VPC_SUBNET" to any port 7946
            ufw allow proto udp from "$VPC_SUBNET" to any port 7946
            ufw allow proto udp from "$VPC_SUBNET" to any port 4789
            ufw allow proto esp from "$VPC_SUBNET" to any
            ufw --force enable
            log "firewall: 22, 80, 443 open; Swarm ports open to $VPC_SUBNET only"
        }

        install_docker
        usermod -aG docker "$DEPLOY_USER"
        systemctl enable --now docker
        install_deploy_keys
        sshd -t
        systemctl try-reload-or-restart ssh
        configure_firewall
        sysctl --system >/dev/null
        systemctl enable --now unattended-upgrades
        log "ready: a Swarm $ROLE of $ENVIRONMENT; run swarm-bootstrap.sh from your workstation"

        """#
    }
}
