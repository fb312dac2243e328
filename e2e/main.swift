// swap-e2e: end-to-end scenarios against a running stack, through nginx only.
//
//   swap-e2e --base-url https://localhost:PORT --ca-file rootCA.pem --state-file .swap/state.json
//            [--swapctl PATH --topology topology.yaml] [--filter NAME] [--junit FILE]
//
// Prints one line per scenario, then `N passed, N failed`; exits 1 on any failure.
import Foundation

struct Options {
    var baseURL = ""
    var caFile = ""
    var stateFile = ".swap/state.json"
    /// For scenarios that stop and start components (`swapctl stop|start`).
    var swapctl: String?
    var topology = "topology.yaml"
    var filters: [String] = []
    var junit: String?
    var list = false

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var index = 0
        func value(_ name: String) -> String {
            index += 1
            guard index < arguments.count else { usage("\(name) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--base-url": options.baseURL = value("--base-url")
            case "--ca-file": options.caFile = value("--ca-file")
            case "--state-file": options.stateFile = value("--state-file")
            case "--swapctl": options.swapctl = value("--swapctl")
            case "--topology": options.topology = value("--topology")
            case "--filter": options.filters.append(value("--filter"))
            case "--junit": options.junit = value("--junit")
            case "--list": options.list = true
            case "-h", "--help": usage(nil)
            default: usage("unknown argument \(arguments[index])")
            }
            index += 1
        }
        if !options.list && (options.baseURL.isEmpty || options.caFile.isEmpty) { usage("--base-url and --ca-file are required") }
        return options
    }

    static func usage(_ problem: String?) -> Never {
        if let problem { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
        print("usage: swap-e2e --base-url https://localhost:PORT --ca-file CA.pem [--state-file .swap/state.json] [--swapctl PATH --topology FILE] [--filter NAME]... [--junit FILE] [--list]")
        exit(problem == nil ? 0 : 2)
    }
}

/// Writes a line at once (stdout may be a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct Outcome {
    var name: String
    var seconds: Double
    var failure: String?
}

func junitXML(_ outcomes: [Outcome], total: Double) -> String {
    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    let failures = outcomes.filter { $0.failure != nil }.count
    var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    xml += "<testsuites tests=\"\(outcomes.count)\" failures=\"\(failures)\" time=\"\(String(format: "%.3f", total))\">\n"
    xml += "  <testsuite name=\"swap-e2e\" tests=\"\(outcomes.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(String(format: "%.3f", total))\">\n"
    for outcome in outcomes {
        let time = String(format: "%.3f", outcome.seconds)
        if let failure = outcome.failure {
            xml += "    <testcase classname=\"swap-e2e\" name=\"\(escape(outcome.name))\" time=\"\(time)\">\n"
            xml += "      <failure message=\"\(escape(String(failure.prefix(200))))\">\(escape(failure))</failure>\n"
            xml += "    </testcase>\n"
        } else {
            xml += "    <testcase classname=\"swap-e2e\" name=\"\(escape(outcome.name))\" time=\"\(time)\"/>\n"
        }
    }
    xml += "  </testsuite>\n</testsuites>\n"
    return xml
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let selected = Scenarios.all.filter { scenario in
    options.filters.isEmpty || options.filters.contains { scenario.name.localizedCaseInsensitiveContains($0) }
}
if options.list {
    for scenario in selected { print(scenario.name) }
    exit(0)
}
func runAll(_ options: Options, _ selected: [Scenario]) async -> Int32 {
    let stack: Stack
    do {
        stack = try Stack(baseURL: options.baseURL, caFile: options.caFile, stateFile: options.stateFile,
                          swapctl: options.swapctl, topology: options.topology)
    } catch {
        say("✘ setup: \(error)")
        say("0 passed, 1 failed")
        return 1
    }
    var outcomes: [Outcome] = []
    let start = ContinuousClock.now
    for scenario in selected {
        let began = ContinuousClock.now
        var failure: String?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await scenario.run(stack) }
                group.addTask {
                    try await Task.sleep(for: scenario.timeLimit)
                    throw Failure("timed out after \(scenario.timeLimit)")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            failure = "\(error)"
        }
        let elapsed = ContinuousClock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        outcomes.append(Outcome(name: scenario.name, seconds: seconds, failure: failure))
        if let failure {
            say(String(format: "✘ %@ (%.1f s): %@", scenario.name, seconds, failure))
        } else {
            say(String(format: "✔ %@ (%.1f s)", scenario.name, seconds))
        }
    }
    await stack.shutdown()
    let total = ContinuousClock.now - start
    let totalSeconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
    if let junit = options.junit {
        let url = URL(fileURLWithPath: junit)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        do { try Data(junitXML(outcomes, total: totalSeconds).utf8).write(to: url) } catch { print("warning: cannot write \(junit): \(error)") }
    }
    let failed = outcomes.filter { $0.failure != nil }.count
    say("\(outcomes.count - failed) passed, \(failed) failed")
    return failed == 0 ? 0 : 1
}

exit(await runAll(options, selected))
