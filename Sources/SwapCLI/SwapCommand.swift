import ArgumentParser
import Foundation

/// `swapctl`: validate and compile the Swap topology, boot it natively, prove it end to end.
public struct SwapCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "swapctl",
        abstract: "Validate topology.yaml, generate every deployment artifact, and run the Swap platform.",
        subcommands: [
            ValidateCommand.self,
            GenerateCommand.self,
            GraphCommand.self,
            SecretsCommand.self,
            UpCommand.self,
            StatusCommand.self,
            LogsCommand.self,
            DownCommand.self,
            StopCommand.self,
            StartCommand.self,
            RestartCommand.self,
            BenchCommand.self,
            DbCommand.self,
            E2ECommand.self,
        ]
    )

    public init() {}

    /// Runs the command line with the documented exit codes: 0 success,
    /// 1 the topology or the check failed, 2 usage error.
    public static func runMain(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch let failure as CommandFailure {
            if !failure.message.isEmpty { FileHandle.standardError.write(Data((failure.message + "\n").utf8)) }
            Foundation.exit(failure.code)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// A handled failure with its exit code; the message is already user-facing.
struct CommandFailure: Error {
    var code: Int32
    var message: String

    static func topology(_ message: String = "") -> CommandFailure { CommandFailure(code: 1, message: message) }
    static func usage(_ message: String) -> CommandFailure { CommandFailure(code: 2, message: "error: \(message)") }
}

/// The `--topology` option shared by the commands that read it.
struct TopologyOptions: ParsableArguments {
    @Option(name: .long, help: "The topology file; environments/, generated/ and .github/ are beside it.")
    var topology: String = "topology.yaml"
}
