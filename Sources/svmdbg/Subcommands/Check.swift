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

                Exit codes: 0 all exits match or are undetermined; 1 mismatches found; 2 input unusable. \
                With --strict, undetermined exits and unreadable lines also give 1.

                --json prints one object: {"trace", "profile", "host", "exits", "match", "mismatch", \
                "undetermined", "match_by_inference", "synthesized", "by_reason", "by_level", \
                "lines": {"read", "understood", "raw", "unreadable"}, "mismatches": [export records], \
                "undetermined_exits": [export records], "findings": [...]}; see docs/check.md.
                """)

        @OptionGroup var input: TraceInputOptions
        @OptionGroup var replay: ReplayOptionGroup

        @Flag(help: "Print JSON instead of text.")
        var json = false

        @Flag(help: "Also fail (exit 1) on undetermined exits and unreadable lines.")
        var strict = false

        func run() throws {
            let trace = try input.load()
            let result = Replayer(trace: trace, options: try replay.replayOptions(for: trace)).run()
            if json {
                StandardOutput.json(CheckReport.json(result))
            } else {
                StandardOutput.text(CheckReport.text(result))
            }
            let summary = result.summary
            if summary.mismatch > 0 { throw ExitCode(1) }
            if strict, summary.undetermined > 0 || summary.unreadableLines > 0 { throw ExitCode(1) }
        }
    }
}
