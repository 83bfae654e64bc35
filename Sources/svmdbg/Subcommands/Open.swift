import ArgumentParser
import DebuggerSession
import DebuggerUI
import Foundation

extension SVMDebugCommand {
    /// `svmdbg [open] TRACE`: the interactive debugger (the default subcommand).
    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open the interactive debugger on a trace (the default: `svmdbg TRACE`).",
            discussion: """
                Loads and replays the trace in the background (progress is shown; the exit list is \
                usable as soon as the replay is ready) and shows every exit with the model's decision \
                path next to what the trace recorded. Press ? for the keys (see docs/tui.md), q to quit.

                Needs a terminal on stdin and stdout (TERM must name a real terminal); otherwise it \
                prints one line and exits with 2. Exit codes: 0 after quitting, 2 input or terminal \
                unusable.
                """)

        @OptionGroup var input: TraceInputOptions
        @OptionGroup var replay: ReplayOptionGroup
        @Flag(name: .customLong("no-mouse"), help: "Leave the mouse to the terminal, so its text selection works (also SVMDBG_MOUSE=off).")
        var noMouse = false

        @Flag(help: ArgumentHelp(
            "Follow TRACE as it grows (as `tail -f`): new exits appear with their verdicts; truncation and rotation start over with a message."))
        var follow = false

        @Flag(help: ArgumentHelp(
            "TRACE is a pipe or FIFO (e.g. /sys/kernel/tracing/trace_pipe) read in the background until its writer closes it."))
        var pipe = false

        @MainActor
        func run() async throws {
            let options = try replay.replayOptions()
            if follow && pipe {
                throw ValidationError("--follow and --pipe exclude each other: --follow reads a growing file, --pipe a pipe")
            }
            do {
                if follow || pipe {
                    try TUIFrontend.runLive(
                        path: input.trace, kind: pipe ? .pipe : .file, format: input.format.traceFormat, options: options,
                        environment: ProcessInfo.processInfo.environment)
                    return
                }
                try TUIFrontend.run(
                    path: input.trace, format: input.format.traceFormat, options: options,
                    given: ReplaySession.GivenOptions(profile: replay.profileGiven, host: replay.host != nil),
                    environment: ProcessInfo.processInfo.environment.merging(noMouse ? ["SVMDBG_MOUSE": "off"] : [:]) { $1 })
            } catch let failure as TUIFrontend.Failure {
                StandardError.write("svmdbg: \(failure.description)\n")
                throw ExitCode(InputExitCode.unusableInput)
            }
        }
    }
}
