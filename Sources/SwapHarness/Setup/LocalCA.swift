import Foundation

/// A development certificate authority, as mkcert keeps one: created once,
/// outside any state folder so it survives `down`, and used to sign a fresh
/// nginx certificate for localhost and 127.0.0.1 at every `up`. Clients
/// verify TLS with ``certificateFile`` instead of switching verification off.
public struct LocalCA: Sendable {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    /// `$SWAP_CA_DIR`, else `$XDG_DATA_HOME/swapctl/ca`, else `~/.local/share/swapctl/ca`.
    public static func defaultFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let explicit = environment["SWAP_CA_DIR"], !explicit.isEmpty { return URL(fileURLWithPath: explicit, isDirectory: true) }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share")
        return data.appendingPathComponent("swapctl/ca", isDirectory: true)
    }

    /// The CA certificate clients trust (`curl --cacert`).
    public var certificateFile: URL { folder.appendingPathComponent("rootCA.pem") }
    var keyFile: URL { folder.appendingPathComponent("rootCA-key.pem") }

    /// Creates the CA unless it exists. Concurrent first runs are safe: each
    /// writes into its own temporary folder and the first rename wins.
    public func ensure() async throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: certificateFile.path), manager.fileExists(atPath: keyFile.path) { return }
        let openssl = try HostTools.require("openssl", hint: "apt-get install openssl")
        try manager.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
        let scratch = folder.deletingLastPathComponent().appendingPathComponent(".ca-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try manager.createDirectory(at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? manager.removeItem(at: scratch) }
        let host = ProcessInfo.processInfo.hostName
        try await HelperCommand.run([
            openssl, "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", scratch.appendingPathComponent("rootCA-key.pem").path,
            "-out", scratch.appendingPathComponent("rootCA.pem").path,
            "-days", "3650", "-sha256",
            "-subj", "/O=swapctl development CA/OU=\(Self.subjectSafe(NSUserName()))@\(Self.subjectSafe(host))/CN=swapctl local CA",
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        chmod(scratch.appendingPathComponent("rootCA-key.pem").path, 0o600)
        if rename(scratch.path, folder.path) != 0, !manager.fileExists(atPath: certificateFile.path) {
            throw HarnessError.io("cannot create the local CA in \(folder.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `fullchain.pem` and `privkey.pem` into `directory`: a 90-day
    /// leaf for `names` (DNS names and IP addresses) signed by this CA.
    public func issueCertificate(for names: [String], into directory: URL) async throws {
        try await ensure()
        let openssl = try HostTools.require("openssl", hint: "apt-get install openssl")
        let manager = FileManager.default
        try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = directory.appendingPathComponent("privkey.pem")
        let request = directory.appendingPathComponent("leaf.csr")
        let extensions = directory.appendingPathComponent("leaf.ext")
        let certificate = directory.appendingPathComponent("fullchain.pem")
        let alternatives = names.map { Self.isIPAddress($0) ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        try """
        basicConstraints=critical,CA:FALSE
        keyUsage=critical,digitalSignature
        extendedKeyUsage=serverAuth
        subjectAltName=\(alternatives)
        subjectKeyIdentifier=hash
        authorityKeyIdentifier=keyid

        """.write(to: extensions, atomically: true, encoding: .utf8)
        try await HelperCommand.run([
            openssl, "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", key.path, "-out", request.path, "-subj", "/O=swapctl development certificate/CN=\(names.first ?? "localhost")",
        ])
        chmod(key.path, 0o600)
        let serial = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        try await HelperCommand.run([
            openssl, "x509", "-req", "-in", request.path, "-CA", certificateFile.path, "-CAkey", keyFile.path,
            "-set_serial", "0x7\(serial.dropFirst())", "-days", "90", "-sha256", "-extfile", extensions.path, "-out", certificate.path,
        ])
        try? manager.removeItem(at: request)
        try? manager.removeItem(at: extensions)
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    private static func subjectSafe(_ text: String) -> String {
        String(text.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }.prefix(40))
    }
}
