import SwapTopology

/// `cloud-init-<role>.yaml`: user data for a droplet of the environment.
/// Everything that needs logic runs in one script (`swap-provision`, written
/// by write_files and started by runcmd) so that it can be read, shellchecked
/// and run again by hand; the rest uses cloud-init's own modules.
enum CloudInit {
    enum Role: String {
        case manager
        case worker
    }

    static let provisionScript = "/usr/local/sbin/swap-provision"
    static let provisionEnv = "/etc/swap/provision.env"

    static func render(_ facts: ProvisioningFacts, role: Role) -> String {
        let document: YAMLValue = .map([
            ("package_update", .bool(true)),
            ("package_upgrade", .bool(true)),
            ("packages", .strings(["ca-certificates", "curl", "gnupg", "ufw", "unattended-upgrades"])),
            // Password logins off for every account; root may not log in over SSH.
            ("ssh_pwauth", .bool(false)),
            ("disable_root", .bool(true)),
            ("users", .list([
                .map([
                    ("name", .string(ProvisioningFacts.deployUser)),
                    ("gecos", .string("\(facts.project) deployments")),
                    ("shell", .string("/bin/bash")),
                    ("lock_passwd", .bool(true)),
                    // The docker group is root-equivalent already; sudo adds no power, only audit.
                    ("sudo", .string("ALL=(ALL) NOPASSWD:ALL")),
                ]),
            ])),
            ("swap", .map([
                ("filename", .string("/swapfile")),
                ("size", .string(ProvisioningFacts.swapFileSize)),
                ("maxsize", .string(ProvisioningFacts.swapFileSize)),
            ])),
            ("write_files", .list([
                file(provisionEnv, mode: "0644", environmentFile(facts, role: role)),
                file("/etc/ssh/sshd_config.d/10-\(facts.project)-hardening.conf", mode: "0644", sshdConfig),
                file("/etc/docker/daemon.json", mode: "0644", dockerDaemon),
                file("/etc/apt/apt.conf.d/90\(facts.project)-unattended-upgrades", mode: "0644", unattendedUpgrades),
                file("/etc/sysctl.d/60-\(facts.project)-swappiness.conf", mode: "0644", "vm.swappiness = 10\n"),
                file(provisionScript, mode: "0755", ProvisionScript.render(facts)),
            ])),
            ("runcmd", .list([.strings([provisionScript])])),
        ])
        return "#cloud-config\n" + GeneratedHeader.hash(facts.environment) + commentary(facts, role: role) + document.render()
    }

    private static func file(_ path: String, mode: String, _ contents: String) -> YAMLValue {
        .map([("path", .string(path)), ("owner", .string("root:root")), ("permissions", .string(mode)), ("content", .block(contents))])
    }

    private static func commentary(_ facts: ProvisioningFacts, role: Role) -> String {
        let count = role == .manager ? facts.managers : facts.workers
        let lines = [
            "",
            "User data for each \(role.rawValue) droplet of '\(facts.environment)' (\(count) of them; the Swarm has "
                + "\(facts.managers) manager\(facts.managers == 1 ? "" : "s") and \(facts.workers) worker\(facts.workers == 1 ? "" : "s")).",
            "Images: Ubuntu 24.04 (or Debian 12), e.g.",
            "  doctl compute droplet create NAME --image ubuntu-24-04-x64 --vpc-uuid VPC --ssh-keys FINGERPRINT \\",
            "      --user-data-file cloud-init-\(role.rawValue).yaml ...",
            "SSH keys are not in this file: \(ProvisioningFacts.deployUser)'s authorized_keys are the droplet's own keys (the ones",
            "chosen with --ssh-keys), read from cloud-init's instance data when it boots. Without a key the droplet",
            "refuses to finish provisioning (password and root logins are off).",
            "The Swarm ports (2377/tcp, 7946/tcp+udp, 4789/udp, ESP for the encrypted overlays) are open only",
            "to VPC_SUBNET below (\(ProvisioningFacts.defaultVPCSubnet)): create the VPC with that range, or change the",
            "value before creating the droplet. Then run swarm-bootstrap.sh from your workstation.",
        ]
        return lines.map { $0.isEmpty ? "#\n" : "# \($0)\n" }.joined()
    }

    private static func environmentFile(_ facts: ProvisioningFacts, role: Role) -> String {
        """
        # Read by \(provisionScript); edit and run it again to change the droplet.
        PROJECT=\(facts.project)
        ENVIRONMENT=\(facts.environment)
        ROLE=\(role.rawValue)
        # The VPC's IP range: only it reaches the Swarm ports.
        VPC_SUBNET=\(ProvisioningFacts.defaultVPCSubnet)
        DEPLOY_USER=\(ProvisioningFacts.deployUser)

        """
    }

    private static let sshdConfig = """
        # Keys only, no root. Read before the distribution's defaults, so these win.
        PermitRootLogin no
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        PubkeyAuthentication yes
        AllowUsers \(ProvisioningFacts.deployUser)

        """

    /// Default json-file logging never rotates; values must be strings here.
    private static let dockerDaemon = """
        {
          "log-driver": "json-file",
          "log-opts": {"max-size": "\(ProvisioningFacts.logMaxSize)", "max-file": "\(ProvisioningFacts.logMaxFiles)"}
        }

        """

    /// Security updates daily (the default origins are the security pocket);
    /// no automatic reboot: a reboot is a Swarm node drain, done by a person.
    private static let unattendedUpgrades = """
        APT::Periodic::Update-Package-Lists "1";
        APT::Periodic::Unattended-Upgrade "1";
        APT::Periodic::AutocleanInterval "7";
        Unattended-Upgrade::Remove-Unused-Kernel-Packages "true";
        Unattended-Upgrade::Automatic-Reboot "false";

        """
}
