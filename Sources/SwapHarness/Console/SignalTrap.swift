import Foundation
import Synchronization

/// Catches SIGINT/SIGTERM/SIGHUP for the supervisor without `SIG_IGN`: an
/// ignored signal stays ignored in every child after exec (services would
/// ignore SIGTERM), while a caught one is reset to its default. The handler
/// only writes the signal number to a pipe; a thread reads it and calls back.
public enum SignalTrap {
    private static let installed = Mutex(false)

    /// Installs the handler once per process; `handler` runs on a dedicated
    /// thread, once per signal received.
    public static func install(_ signals: [Int32] = [SIGINT, SIGTERM, SIGHUP], handler: @escaping @Sendable (Int32) -> Void) {
        let first = self.installed.withLock { installed in
            defer { installed = true }
            return !installed
        }
        guard first else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        signalPipeWriteEnd = fds[1]
        let readEnd = fds[0]
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 { handler(Int32(byte)) } else if count < 0, errno == EINTR { continue } else { return }
            }
        }
        thread.name = "swapctl-signals"
        thread.start()
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = signalTrapHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }
}

/// Written once before any handler is installed, then only read.
private nonisolated(unsafe) var signalPipeWriteEnd: Int32 = -1

private func signalTrapHandler(_ number: Int32) {
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteEnd, &byte, 1)
}
