import Foundation
import SwapGenerators
import SwapTopology
import Testing

/// `nginx -t` on every generated nginx file, with Debian's nginx 1.22.
///
/// The local file is tested as it is, from a prefix folder holding the
/// certificates it names. The Docker files name hosts (`gateway`,
/// `tasks.realtime`), a user (`nginx`) and certificate folders
/// (/etc/nginx/certs, /etc/letsencrypt/live/<domain>) that exist only in the
/// containers; nginx -t resolves upstream names and loads certificates. So
/// they are tested inside a private mount and network namespace
/// (`unshare -m -n`, root) where a throwaway overlay on /etc supplies exactly
/// those (hosts entries to 127.0.0.1, the user, the certificate files) and a
/// tmpfs covers Debian's temp folder: the paths stay untouched and nothing
/// outside the namespace changes. Two lines are rewritten, and only because
/// the image's nginx is newer than Debian's: `http2 on;` becomes the 1.22
/// form `listen ... ssl http2`, and the 1.27.3 `resolve` server flag is dropped.
@Suite("NginxValidator", .serialized, .timeLimit(.minutes(2)))
struct NginxValidatorTests {
    @Test(arguments: ["local", "dev", "staging", "prod"])
    func nginxAcceptsEveryGeneratedFile(_ environment: String) throws {
        let topology = try Fixture.topology(environment)
        let output = NginxRenderer().render(topology)
        try #require(!output.files.isEmpty)
        for file in output.files {
            let folder = try ExternalTool.scratch([("nginx.conf", file.contents)])
            defer { try? FileManager.default.removeItem(at: folder) }
            try NginxTestTools.makeCertificates(in: folder)
            let result = topology.target == .processes
                ? try ExternalTool.run("nginx", ["-t", "-p", folder.path, "-c", "nginx.conf"])
                : try testInContainerLikeNamespace(file.contents, topology, folder)
            #expect(result.status == 0, "nginx -t rejected \(file.path):\n\(result.output)")
            #expect(result.output.contains("test is successful"), "\(file.path):\n\(result.output)")
            // The open-files limit belongs to the machine that runs the test, not to the file.
            let warnings = result.output.split(separator: "\n").filter { $0.contains("[warn]") && !$0.contains("open file resource limit") }
            #expect(warnings.isEmpty, "nginx -t warned about \(file.path):\n\(result.output)")
        }
    }

    /// What Debian's 1.22 cannot parse of the image's newer syntax, and nothing else.
    static func downgradedToNginx122(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0.trimmingCharacters(in: .whitespaces) != "http2 on;" }
            .map { line in
                var line = String(line)
                if line.trimmingCharacters(in: .whitespaces).hasPrefix("listen "), line.contains(" ssl") {
                    line = line.replacingOccurrences(of: " ssl", with: " ssl http2")
                }
                return line.replacingOccurrences(of: " resolve max_fails", with: " max_fails")
            }
            .joined(separator: "\n")
    }

    func testInContainerLikeNamespace(_ contents: String, _ topology: Topology, _ folder: URL) throws -> ExternalTool.Result {
        try Data(Self.downgradedToNginx122(contents).utf8).write(to: folder.appendingPathComponent("nginx.conf"))
        let options = NginxRenderer.options(for: topology)
        let hosts = Set(options.upstreams.values.flatMap { $0 }.map { String($0.split(separator: ":")[0]) }).sorted()
        var certificateFolders = [NginxOptions.dockerCertificateFolder]
        if let domain = topology.ingress.domain { certificateFolders.append(NginxOptions.letsencryptFolder(domain)) }
        for name in ["upper", "work"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        let dir = folder.path
        let script = """
            set -e
            mount -t overlay overlay -o lowerdir=/etc,upperdir=\(dir)/upper,workdir=\(dir)/work /etc
            if [ -d /var/lib/nginx ]; then mount -t tmpfs tmpfs /var/lib/nginx; fi
            printf '127.0.0.1 localhost \(hosts.joined(separator: " "))\\n' > /etc/hosts
            echo 'nginx:x:64999:64999::/nonexistent:/usr/sbin/nologin' >> /etc/passwd
            echo 'nginx:x:64999:' >> /etc/group
            for target in \(certificateFolders.joined(separator: " ")); do
                mkdir -p "$target"
                cp \(dir)/certs/fullchain.pem \(dir)/certs/privkey.pem "$target/"
            done
            exec nginx -t -c \(dir)/nginx.conf
            """
        return try ExternalTool.run("unshare", ["-m", "-n", "sh", "-c", script])
    }

    @Test func downgradeTouchesOnlyTheNewerSyntax() throws {
        let dev = NginxRenderer().render(try Fixture.topology("dev")).files[0].contents
        let downgraded = Self.downgradedToNginx122(dev)
        let removed = dev.split(separator: "\n").count - downgraded.split(separator: "\n").count
        #expect(removed == dev.components(separatedBy: "http2 on;").count - 1)
        #expect(!downgraded.contains(" resolve ") && !downgraded.contains("http2 on"))
        #expect(downgraded.contains("listen 443 ssl http2;"))
    }
}
