import ArgumentParser
import Foundation
import Replay

extension SVMDebugCommand {
    /// `svmdbg export`: write replayed exits for a bug report.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write replayed exits (mismatches or all) as jsonl, csv, md, or a trace excerpt.",
            discussion: """
                One record per exit with time, vCPU, level, exit code and info, the model's outcome, the \
                recorded outcome, the verdict and the decision path. In jsonl, "model" and "recorded" are \
                objects with "outcome" (reflect_to_l1, l0_handles, inject_exception, emulate, vmrun_fails, \
                vmrun_succeeds, userspace_exit, undetermined) and "exit_code". --format trace writes the \
                original lines of each exit plus the lines that set up its state: svmdbg opens it again.

                The file is written atomically (temporary file, then rename). An existing file is never \
                overwritten without --force. The path written is printed.
                """)

        @OptionGroup var input: ExportInputOptions
        @OptionGroup var replay: ReplayOptionGroup

        @Flag(help: "Export only the mismatching exits (the default).")
        var mismatches = false

        @Flag(help: "Export every exit.")
        var all = false

        @Option(name: .shortAndLong, help: ArgumentHelp("The file to write.", valueName: "FILE"))
        var output: String

        @Option(help: "jsonl, csv, md or trace.")
        var format: String = "jsonl"

        @Flag(help: "Overwrite FILE if it exists.")
        var force = false

        func validate() throws {
            if mismatches && all { throw ValidationError("choose --mismatches or --all, not both") }
            guard ExportFormat(rawValue: format) != nil else {
                throw ValidationError("unknown format '\(format)' (known: jsonl, csv, md, trace)")
            }
        }

        func run() throws {
            let trace = try input.load()
            let result = Replayer(trace: trace, options: try replay.replayOptions()).run()
            let chosen = all ? nil : result.mismatches
            let kind = ExportFormat(rawValue: format) ?? .jsonl
            let count = chosen?.count ?? result.exits.count
            let text = chosen.map { ExportRenderer.render($0, of: result, as: kind) } ?? ExportRenderer.render(result.exits, of: result, as: kind)
            do {
                let written = try AtomicFile.write(text, to: output, overwrite: force)
                StandardOutput.text("svmdbg: wrote \(count) exit\(count == 1 ? "" : "s") to \(written)\n")
            } catch let error as AtomicFile.Failure {
                StandardError.write("svmdbg: \(error.description)\n")
                throw ExitCode(InputExitCode.unusableInput)
            }
        }
    }
}
