import ArgumentParser
import Foundation
import Replay
import TraceKit

extension SVMDebugCommand {
    /// `svmdbg check`: replay every exit and report verdicts.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay every exit through the model and report where model and trace disagree.",
            discussion: """
                Prints a summary (exits by verdict, by reason, by level; unreadable lines), one line per \
                mismatch with the rule that decided, the undetermined exits with what was missing, and \
                findings (e.g. contradicting inferences).

                Exit codes: 0 all exits match or are undetermined; 1 mismatches found; 2 input unusable, \
                an Intel VMX trace (the model is SVM-only), or kvm_exit events read but none replayable. \
                With --strict, undetermined exits and unreadable lines also give 1 (and so does "none replayable"); \
                with --require decided, matches that are only consistent (an input settled by reading the \
                recorded outcome back) also give 1.

                --json prints one object: {"trace", "profile", "host", "exits", "match", "mismatch", \
                "undetermined", "match_by_inference", "decided", "consistent", "synthesized", "by_reason", "by_level", \
                "lines": {"read", "understood", "raw", "unreadable"}, "mismatches": [export records], \
                "undetermined_exits": [export records], "findings": [...]}; see docs/check.md.
                """)

        @OptionGroup var input: TraceInputOptions
        @OptionGroup var replay: ReplayOptionGroup

        @Flag(help: "Print JSON instead of text.")
        var json = false

        @Flag(help: "Also fail (exit 1) on undetermined exits and unreadable lines.")
        var strict = false

        @Option(help: ArgumentHelp(
            "Also fail (exit 1) unless every match is of this kind: 'decided' fails on matches that are only consistent (an input settled by the recorded outcome).",
            valueName: "KIND"))
        var require: String?

        func validate() throws {
            if let require, require != "decided" {
                throw ValidationError("--require: unknown kind '\(require)' (known: decided)")
            }
        }

        func run() throws {
            let progress = ProgressLine()
            defer { progress.finish() }
            let trace = try input.load(progress: { progress.indexing($0) })
            if let refusal = trace.vmxRefusal {
                // Nothing SVM may be inferred from it: no replay at all.
                StandardError.write("svmdbg: \(trace.source): \(refusal)\n")
                throw ExitCode(InputExitCode.unusableInput)
            }
            let result = Replayer(trace: trace, options: try replay.replayOptions(for: trace))
                .run(progress: { progress.replaying($0, events: trace.count) })
            progress.finish()
            if json {
                StandardOutput.json(CheckReport.json(result))
            } else {
                StandardOutput.text(CheckReport.text(result))
            }
            let summary = result.summary
            let notReplayed = trace.undecodedExitReasons
            if !notReplayed.isEmpty, !json {
                let list = notReplayed.map { "\($0.reason) \($0.count)" }.joined(separator: ", ")
                StandardOutput.text("exits read but not replayed (payload not decoded): \(notReplayed.reduce(0) { $0 + $1.count }) (\(list))\n")
            }
            // Never a silent success: exits were seen, none could be replayed.
            if trace.exitEventCount > 0, !result.exits.contains(where: { $0.origin == .hardwareExit }) {
                StandardError.write("svmdbg: \(trace.source): \(trace.exitEventCount) kvm_exit events read, none could be replayed\n")
                throw ExitCode(strict ? 1 : InputExitCode.unusableInput)
            }
            if summary.mismatch > 0 { throw ExitCode(1) }
            if strict, summary.undetermined > 0 || summary.unreadableLines > 0 { throw ExitCode(1) }
            if require == "decided", summary.consistent > 0 { throw ExitCode(1) }
        }
    }
}
