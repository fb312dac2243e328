import Foundation

/// Whether the TCP listener on 127.0.0.1:`port` belongs to a process, read
/// from /proc. A probe that only connects cannot tell: a port picked free
/// can be taken by another program before the server binds it, and then
/// that program answers while the server fails to start.
enum ListenerOwner {
    static func isListening(port: Int, pid: Int32) -> Bool {
        #if os(Linux)
        let inodes = listeningInodes(port: port)
        guard !inodes.isEmpty else { return false }
        let folder = "/proc/\(pid)/fd"
        guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return false }
        return descriptors.contains { descriptor in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(descriptor)") else { return false }
            return inodes.contains(target)
        }
        #else
        return true
        #endif
    }

    /// `socket:[INODE]` of every socket listening on `port` (any local
    /// address), from /proc/net/tcp and tcp6: `sl local rem st ... inode`,
    /// the port in hex after the address, state 0A = LISTEN.
    private static func listeningInodes(port: Int) -> Set<String> {
        let suffix = ":" + String(format: "%04X", port)
        var inodes = Set<String>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // Read to the end: String(contentsOfFile:) stops after the first
            // page of a /proc file, and a busy machine has thousands of sockets.
            guard let handle = FileHandle(forReadingAtPath: table), let data = try? handle.readToEnd() else { continue }
            try? handle.close()
            let text = String(decoding: data, as: UTF8.self)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, fields[1].hasSuffix(suffix), fields[3] == "0A" else { continue }
                inodes.insert("socket:[\(fields[9])]")
            }
        }
        return inodes
    }
}
