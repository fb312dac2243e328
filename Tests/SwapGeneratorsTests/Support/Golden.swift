import Foundation
import SwapGenerators
import Testing

/// Golden-file comparison: each renderer's files live under Golden/<name>/.
/// Run with SWAP_RECORD_GOLDEN=1 to re-record; that run still fails, so a
/// recording is never mistaken for a pass.
enum Golden {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Golden")

    static var recording: Bool { ProcessInfo.processInfo.environment["SWAP_RECORD_GOLDEN"] == "1" }

    static func check(_ files: [GeneratedFile], name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let folder = root.appendingPathComponent(name)
        if recording {
            try? FileManager.default.removeItem(at: folder)
            for file in files {
                let url = folder.appendingPathComponent(file.path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.contents.utf8).write(to: url)
            }
            Issue.record("recorded \(files.count) golden files under Golden/\(name); run again without SWAP_RECORD_GOLDEN", sourceLocation: sourceLocation)
            return
        }
        let expected = existing(in: folder)
        #expect(Set(files.map(\.path)) == Set(expected), "file list differs from Golden/\(name)", sourceLocation: sourceLocation)
        for file in files {
            let url = folder.appendingPathComponent(file.path)
            guard let data = FileManager.default.contents(atPath: url.path), let golden = String(data: data, encoding: .utf8) else {
                Issue.record("no golden file Golden/\(name)/\(file.path)", sourceLocation: sourceLocation)
                continue
            }
            if golden != file.contents {
                Issue.record("Golden/\(name)/\(file.path) differs:\n\(diff(golden, file.contents))", sourceLocation: sourceLocation)
            }
        }
    }

    private static func existing(in folder: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    /// The first differing lines, with line numbers: enough to see what changed.
    static func diff(_ expected: String, _ actual: String) -> String {
        let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var lines: [String] = []
        for index in 0..<max(old.count, new.count) where lines.count < 40 {
            let a = index < old.count ? String(old[index]) : nil
            let b = index < new.count ? String(new[index]) : nil
            if a != b {
                if let a { lines.append("\(index + 1)- \(a)") }
                if let b { lines.append("\(index + 1)+ \(b)") }
            }
        }
        return lines.joined(separator: "\n")
    }
}
