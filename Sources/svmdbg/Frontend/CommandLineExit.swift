import ArgumentParser
import Replay
#if canImport(Glibc)
import Glibc
#endif

/// svmdbg's exit codes (`docs/robustness.md`, "Exit codes").
enum SVMDebugExitCode {
    /// Success: every replayed exit matches (or is undetermined), the command did its job.
    static let success: Int32 = 0
    /// `check`: the model and the trace disagree on at least one exit (or `--strict` found
    /// undetermined exits or unreadable lines).
    static let mismatches: Int32 = 1
    /// The input is unusable (missing, a directory, unreadable, not a trace, corrupt), the
    /// command line is wrong (unknown option, bad `--host`/`--profile`), or output failed.
    static let unusable: Int32 = 2
}

extension SVMDebugCommand {
    /// Parses the command line and runs the chosen subcommand, turning every failure into
    /// one line on standard error and one of the documented exit codes.
    ///
    /// swift-argument-parser on its own exits usage errors with 64 and prints the usage
    /// block after the message; svmdbg documents 2 for any unusable input or command line,
    /// and one line per failure, so scripts can rely on both.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Glibc.exit(SVMDebugCommand.report(error))
        }
    }

    /// Prints what `error` means (help on stdout, a failure as one line on stderr) and
    /// returns the exit code.
    static func report(_ error: any Error) -> Int32 {
        if let code = error as? ExitCode {
            // The subcommand printed its own one-line message (or its report) already.
            return code.rawValue
        }
        let parserCode = exitCode(for: error)
        if parserCode == .success {
            // --help, --version.
            print(fullMessage(for: error))
            return SVMDebugExitCode.success
        }
        let message = message(for: error)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
        StandardError.write("svmdbg: error: \(message.isEmpty ? String(describing: error) : message) (see 'svmdbg --help')\n")
        return SVMDebugExitCode.unusable
    }
}
