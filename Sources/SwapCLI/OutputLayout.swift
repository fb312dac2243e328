import Foundation
import SwapGenerators

/// Maps renderer paths to disk: `.github/...` goes to the repository (or
/// DIR/.github with --output), everything else under generated/ (or DIR).
struct OutputLayout {
    let root: URL
    let output: URL?

    var generatedFolder: URL { output ?? root.appendingPathComponent("generated") }
    var workflowsFolder: URL { (output ?? root).appendingPathComponent(".github/workflows") }

    /// Folders whose every file is generated, so a file there that is no longer produced is stale.
    var ownedFolders: [URL] { [generatedFolder] }

    func url(for file: GeneratedFile) -> URL {
        if file.path.hasPrefix(".github/") {
            return (output ?? root).appendingPathComponent(file.path)
        }
        return generatedFolder.appendingPathComponent(file.path)
    }
}

/// Writing and drift checking, done once for every renderer.
enum FileSync {
    /// One line per file that is missing, different or stale.
    static func differences(_ files: [GeneratedFile], layout: OutputLayout, owned: [URL]) -> [String] {
        var lines: [String] = []
        var expected = Set<String>()
        for file in files {
            let url = layout.url(for: file)
            expected.insert(url.standardizedFileURL.path)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                lines.append("missing: \(relative(url, layout))")
                continue
            }
            if data != Data(file.contents.utf8) { lines.append("differs: \(relative(url, layout))") }
        }
        for stale in existingFiles(under: owned) where !expected.contains(stale.standardizedFileURL.path) {
            lines.append("stale: \(relative(stale, layout))")
        }
        return lines
    }

    /// Writes changed files, removes stale ones, and summarises.
    static func write(_ files: [GeneratedFile], layout: OutputLayout, owned: [URL]) throws -> String {
        var written = 0
        var expected = Set<String>()
        let manager = FileManager.default
        for file in files {
            let url = layout.url(for: file)
            expected.insert(url.standardizedFileURL.path)
            let data = Data(file.contents.utf8)
            if manager.contents(atPath: url.path) != data {
                try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: url, options: .atomic)
                written += 1
            }
            try manager.setAttributes([.posixPermissions: file.executable ? 0o755 : 0o644], ofItemAtPath: url.path)
        }
        var removed = 0
        for stale in existingFiles(under: owned) where !expected.contains(stale.standardizedFileURL.path) {
            try manager.removeItem(at: stale)
            removed += 1
        }
        return "\(files.count) files generated: \(written) written, \(files.count - written) unchanged, \(removed) stale removed"
    }

    private static func existingFiles(under folders: [URL]) -> [URL] {
        folders.flatMap { folder -> [URL] in
            guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
            return walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
        }.sorted { $0.path < $1.path }
    }

    private static func relative(_ url: URL, _ layout: OutputLayout) -> String {
        let base = (layout.output ?? layout.root).standardizedFileURL.path + "/"
        let path = url.standardizedFileURL.path
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }
}
