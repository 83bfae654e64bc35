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
                original lines of each exit plus the lines that set up its state: svmdbg opens it again. \
                --format scenario writes each exit as a `decide` scenario (the reconstructed state with \
                each value's source, unknowns left out, the event, the recorded outcome as "expect"): one \
                JSON object for one exit (--exit N), else one scenario per line. Every record says whether \
                its match was decided from facts or only consistent ("proof").

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

        @Option(help: "jsonl, csv, md, trace, scenario or lab-scenario (with --exit: a lab/scenarios/*.scn that replays the exit on real KVM in the lab, where the lab can express it).")
        var format: String = "jsonl"

        @Option(name: .customLong("exit"), help: ArgumentHelp("Export only the exit with this index (#N in check and the TUI).", valueName: "N"))
        var exitIndex: Int?

        @Flag(help: "Overwrite FILE if it exists.")
        var force = false

        func validate() throws {
            if mismatches && all { throw ValidationError("choose --mismatches or --all, not both") }
            if exitIndex != nil && (mismatches || all) { throw ValidationError("choose --exit or --mismatches/--all, not both") }
            guard ExportFormat(rawValue: format) != nil else {
                throw ValidationError("unknown format '\(format)' (known: jsonl, csv, md, trace, scenario, lab-scenario)")
            }
            if format == ExportFormat.labScenario.rawValue, exitIndex == nil {
                throw ValidationError("--format lab-scenario writes one scenario: name the exit with --exit N")
            }
        }

        func run() throws {
            let progress = ProgressLine()
            defer { progress.finish() }
            let trace = try input.load(progress: { progress.indexing($0) })
            let result = Replayer(trace: trace, options: try replay.replayOptions())
                .run(progress: { progress.replaying($0, events: trace.count) })
            progress.finish()
            var chosen = all ? nil : result.mismatches
            if let exitIndex {
                guard result.exits.indices.contains(exitIndex) else {
                    StandardError.write("svmdbg: --exit \(exitIndex): the trace has exits #0-#\(result.exits.count - 1)\n")
                    throw ExitCode(InputExitCode.unusableInput)
                }
                chosen = [result.exits[exitIndex]]
                if format == ExportFormat.labScenario.rawValue,
                   case .failure(let refusal) = LabScenarioExport.scenario(for: result.exits[exitIndex], in: result, traceName: input.trace) {
                    StandardError.write("svmdbg: \(refusal.description)\n")
                    throw ExitCode(InputExitCode.unusableInput)
                }
            }
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
