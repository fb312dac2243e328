import Foundation
import Testing

/// Every `swapctl ...` command written in docs/*.md and README.md names a
/// subcommand and flags that the built binary has, as its --help says.
@Suite("swapctl commands in the docs", .serialized)
struct DocsCommandTests {
    static var documents: [URL] {
        let docs = Swapctl.packageRoot.appendingPathComponent("docs")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: docs.path)) ?? []
        return names.filter { $0.hasSuffix(".md") }.sorted().map { docs.appendingPathComponent($0) }
            + [Swapctl.packageRoot.appendingPathComponent("README.md")]
    }

    @Test func everyDocumentedCommandExists() throws {
        var checker = HelpChecker()
        var checked = 0
        var seen: Set<String> = []
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            for command in DocCommands.extract(from: text) {
                checked += 1
                seen.insert(command.words.prefix(2).joined(separator: " "))
                for problem in try checker.problems(in: command.words) {
                    Issue.record("\(document.lastPathComponent):\(command.line): `swapctl \(command.words.joined(separator: " "))`: \(problem)")
                }
            }
        }
        #expect(checked > 20, "found only \(checked) swapctl commands")
        for expected in ["db migrate", "db backup", "db restore", "secrets init", "generate --env", "validate --env"] {
            #expect(seen.contains(expected), "no `swapctl \(expected)` in the docs")
        }
    }

    @Test func extractsCommandsFromCodeBlocksAndInlineSpans() {
        let markdown = """
            Run `swapctl validate --env prod` first, then `swapctl
            generate --check`. The swapctl binary is in Sources/swapctl.

                swapctl graph [--format mermaid|dot|svg] [--env ENV]
                Sources/SwapCLI    the swapctl commands; the only writer
                FOO=1 .build/debug/swapctl db migrate --from-file a \\
                    --to-file b --dry-run | tee plan.txt

            ```sh
            $ swapctl secrets init --env prod --directory secrets/prod # comment --ignored
            cd x && swapctl up --detach
            ```
            """
        let commands = DocCommands.extract(from: markdown).map { $0.words.joined(separator: " ") }
        #expect(commands == [
            "graph --format mermaid|dot|svg --env ENV",
            "db migrate --from-file a --to-file b --dry-run",
            "secrets init --env prod --directory secrets/prod",
            "up --detach",
            "validate --env prod",
            "generate --check",
        ])
    }

    @Test func unknownSubcommandsAndFlagsAreReported() throws {
        var checker = HelpChecker()
        #expect(try checker.problems(in: ["db", "migrate", "--from-file", "x", "--dry-run"]).isEmpty)
        #expect(try checker.problems(in: ["generate", "--env", "all", "--output", "x", "--check"]).isEmpty)
        #expect(try checker.problems(in: ["db", "migrate", "--no-such-flag"]) == ["no option --no-such-flag in `swapctl db migrate --help`"])
        #expect(try checker.problems(in: ["db", "mirgate"]) == ["no subcommand 'mirgate' in `swapctl db --help`"])
        #expect(try checker.problems(in: ["frobnicate"]) == ["no subcommand 'frobnicate' in `swapctl --help`"])
    }
}

/// `swapctl` command lines in Markdown: fenced and indented code (with `\`
/// continuations joined) and inline code spans, where `swapctl` is in
/// command position (line start, after a prompt, an operator or variable
/// assignments).
enum DocCommands {
    struct Command {
        var line: Int
        var words: [String]
    }

    static func extract(from markdown: String) -> [Command] {
        var code: [(Int, String)] = []
        var prose = ""
        var proseLines: [Int] = []
        var fenced = false
        var pending: (Int, String)?
        for (offset, raw) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            let number = offset + 1
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") || line.trimmingCharacters(in: .whitespaces).hasPrefix("~~~") {
                fenced.toggle()
                continue
            }
            if fenced || line.hasPrefix("    ") || line.hasPrefix("\t") {
                var text = line.trimmingCharacters(in: .whitespaces)
                if let started = pending { text = started.1 + " " + text }
                if text.hasSuffix("\\") {
                    pending = (pending?.0 ?? number, String(text.dropLast()))
                } else {
                    code.append((pending?.0 ?? number, text))
                    pending = nil
                }
            } else {
                prose += line + "\n"
                proseLines.append(contentsOf: Array(repeating: number, count: line.count + 1))
            }
        }
        var commands = code.flatMap { number, text in commandsIn(text).map { Command(line: number, words: $0) } }
        // Inline spans may wrap onto the next line.
        let characters = Array(prose)
        var index = 0
        while index < characters.count {
            guard characters[index] == "`", let end = characters[(index + 1)...].firstIndex(of: "`") else { index += 1; continue }
            let span = String(characters[(index + 1)..<end]).replacingOccurrences(of: "\n", with: " ")
            let number = index < proseLines.count ? proseLines[index] : 0
            commands += commandsIn(span).map { Command(line: number, words: $0) }
            index = end + 1
        }
        return commands
    }

    private static let separators: Set<String> = ["|", "||", "&&", ";", ">", ">>", "<", "2>&1", "&"]
    private static let launchers: Set<String> = ["$", "sudo", "time", "exec", "then", "do", "watch", "env"]

    /// Each `swapctl` invocation in a command line, as the words after it.
    static func commandsIn(_ text: String) -> [[String]] {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var result: [[String]] = []
        var commandPosition = true
        var index = 0
        while index < tokens.count {
            var token = tokens[index]
            for prefix in ["$(", "`", "("] where token.hasPrefix(prefix) {
                token.removeFirst(prefix.count)
                commandPosition = true
            }
            if commandPosition && isSwapctl(token) {
                var words: [String] = []
                var endsStatement = false
                index += 1
                while index < tokens.count {
                    let word = tokens[index]
                    if separators.contains(word) || word.hasPrefix("#") { break }
                    let cleaned = clean(word)
                    if !cleaned.isEmpty { words.append(cleaned) }
                    index += 1
                    if word.hasSuffix(";") || (word.hasSuffix(")") && !word.contains("(")) {
                        endsStatement = word.hasSuffix(";")
                        break
                    }
                }
                result.append(words)
                commandPosition = endsStatement
                continue
            }
            if separators.contains(token) || token.hasSuffix(";") || launchers.contains(token) {
                commandPosition = true
            } else if commandPosition && token.range(of: "^[A-Za-z_][A-Za-z0-9_]*=", options: .regularExpression) != nil {
                commandPosition = true
            } else {
                commandPosition = false
            }
            index += 1
        }
        return result
    }

    private static func isSwapctl(_ token: String) -> Bool {
        token == "swapctl" || token == "./swapctl" || token.hasSuffix("/debug/swapctl") || token.hasSuffix("/release/swapctl")
            || token.hasSuffix("/bin/swapctl")
    }

    /// Usage brackets, quotes and trailing punctuation off a word.
    private static func clean(_ word: String) -> String {
        var text = Substring(word)
        while let first = text.first, "[(\"'`".contains(first) { text.removeFirst() }
        while let last = text.last, "])\"'`,.:;".contains(last) { text.removeLast() }
        return String(text)
    }
}

/// Checks command words against the binary's own --help, level by level.
struct HelpChecker {
    struct Help {
        var subcommands: Set<String>
        var options: Set<String>
    }

    private var cache: [[String]: Help] = [:]

    mutating func help(_ path: [String]) throws -> Help {
        if let known = cache[path] { return known }
        let result = try Swapctl.run(path + ["--help"])
        var subcommands: Set<String> = []
        var options: Set<String> = ["--help"]
        var section = ""
        for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix(":") && !line.hasPrefix(" ") { section = String(line); continue }
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            let entry = line.dropFirst(2)
            let spec = entry.components(separatedBy: "  ").first ?? ""
            if section == "SUBCOMMANDS:", let name = spec.split(separator: " ").first, !entry.hasPrefix("See ") {
                subcommands.insert(String(name))
            } else if section == "OPTIONS:" || section.hasSuffix("OPTIONS:") {
                for match in spec.matches(of: /--(\[no-\])?([A-Za-z0-9][A-Za-z0-9-]*)/) {
                    options.insert("--" + match.2)
                    if match.1 != nil { options.insert("--no-" + match.2) }
                }
            }
        }
        let help = Help(subcommands: subcommands, options: options)
        cache[path] = help
        return help
    }

    /// What does not exist: a subcommand, or a flag of the final subcommand.
    mutating func problems(in words: [String]) throws -> [String] {
        var path: [String] = []
        var rest = words[...]
        while let next = rest.first, !next.hasPrefix("-") {
            let current = try help(path)
            if current.subcommands.isEmpty { break }
            guard current.subcommands.contains(next) || next == "help" else {
                return ["no subcommand '\(next)' in `\((["swapctl"] + path).joined(separator: " ")) --help`"]
            }
            if next == "help" { return [] }
            path.append(next)
            rest = rest.dropFirst()
        }
        let options = try help(path).options
        var problems: [String] = []
        for word in rest where word.hasPrefix("--") {
            let flag = String(word.prefix { $0 != "=" })
            if !options.contains(flag) {
                problems.append("no option \(flag) in `\((["swapctl"] + path).joined(separator: " ")) --help`")
            }
        }
        return problems
    }
}
