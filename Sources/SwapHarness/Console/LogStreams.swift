import Foundation

/// `swapctl logs`: the components' log files, whole or followed, one line at
/// a time with the component's name.
public enum LogStreams {
    /// One component's files (nginx has an error log and an access log).
    public struct Source: Sendable {
        public var name: String
        public var files: [URL]
    }

    /// The name of the supervisor's own log source.
    public static let supervisorName = "swapctl"

    /// Every component's log (and the supervisor's), or those of `name`: a
    /// component (`realtime.1`), a service (`realtime`: all its replicas),
    /// or a kind (`postgres`).
    public static func sources(in folder: URL, matching name: String?) throws -> [Source] {
        let layout = StateLayout(folder: folder)
        guard let state = StackControl.state(in: folder) else {
            throw HarnessError.unsupported("nothing has run from \(folder.path) (no state.json); start the stack with `swapctl up`")
        }
        var sources = state.components.map { Source(name: $0.name, files: $0.logFiles.map { URL(fileURLWithPath: $0) }) }
        sources.insert(Source(name: supervisorName, files: [layout.supervisorLog]), at: 0)
        guard let name else { return sources }
        let matching = state.components.filter { $0.name == name || $0.group == name || $0.kind.rawValue == name }.map(\.name)
        if name == supervisorName { return [sources[0]] }
        guard !matching.isEmpty else {
            let known = [supervisorName] + state.components.map(\.name) + Set(state.components.compactMap { $0.replica == nil ? nil : $0.group }).sorted()
            throw HarnessError.unsupported("no component named '\(name)'; known: \(known.joined(separator: ", "))")
        }
        return sources.filter { matching.contains($0.name) }
    }

    /// Emits the last `tail` lines (all when nil) of every source, source by
    /// source; with `follow`, then every new line as it is written, until
    /// `keepGoing` says no or the state folder is removed (`down`).
    public static func stream(
        _ sources: [Source], folder: URL, tail: Int?, follow: Bool,
        keepGoing: @Sendable () -> Bool = { true },
        emit: (_ source: String, _ line: String) -> Void
    ) async {
        var readers = sources.flatMap { source in source.files.map { FileFollower(source: source.name, file: $0) } }
        for index in readers.indices {
            let lines = readers[index].readAvailable()
            for line in tail.map({ Array(lines.suffix($0)) }) ?? lines { emit(readers[index].source, line) }
        }
        guard follow else { return }
        while keepGoing(), FileManager.default.fileExists(atPath: folder.path) {
            try? await Task.sleep(for: .milliseconds(200))
            for index in readers.indices {
                for line in readers[index].readAvailable() { emit(readers[index].source, line) }
            }
        }
    }
}

/// Reads what was appended to a file since the last read, in whole lines.
private struct FileFollower {
    let source: String
    let file: URL
    var offset: UInt64 = 0
    var partial = Data()

    init(source: String, file: URL) {
        self.source = source
        self.file = file
    }

    mutating func readAvailable() -> [String] {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        if size < offset {
            // Truncated or replaced: start over.
            offset = 0
            partial = Data()
        }
        guard size > offset else { return [] }
        try? handle.seek(toOffset: offset)
        let data = (try? handle.read(upToCount: Int(size - offset))) ?? Data()
        offset += UInt64(data.count)
        partial.append(data)
        guard let lastNewline = partial.lastIndex(of: 10) else { return [] }
        let complete = partial[partial.startIndex..<lastNewline]
        partial = Data(partial[partial.index(after: lastNewline)...])
        return String(decoding: complete, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}
