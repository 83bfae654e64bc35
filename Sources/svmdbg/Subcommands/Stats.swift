import ArgumentParser
import Foundation
import Replay
import TraceKit

extension SVMDebugCommand {
    /// `svmdbg stats TRACE`: exit counts and times per reason and nesting level.
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count exits per reason and nesting level, with exit-to-entry times (like perf kvm stat).",
            discussion: """
            Loads TRACE and prints, per SVM exit reason and nesting level, the number of \
            kvm_exit events, their share of all exits, and min/mean/max time from each \
            kvm_exit to the next kvm_entry of the same thread (pid). An exit is L2 when the \
            next event of its thread is kvm_nested_vmexit (KVM emits it after every exit \
            taken while L2 runs), L1 otherwise, and "unknown" when that next event is not \
            in the trace (end of trace, lost events, omitted lines). Exits with no \
            kvm_entry before the thread's next exit or such a gap are counted but not \
            timed ("Untimed"). Also prints the \
            count of every event name, the loader's line accounting (every line is \
            understood, raw, unreadable or metadata) and the number of diagnostics.

            --json prints one object (keys sorted):
              trace, format, compression       input name, layout read, gzip/xz/none
              events     {"<event name>": count, ...}  every event name seen
              lines      {"read", "understood", "raw", "unreadable", "metadata"}
              diagnostics {"total": n, "byKind": {"<kind>": n}}
              exits      {"total", "l1", "l2", "unknownLevel", "unreadable",
                          "timeUnit": "ns"|"ticks",
                          "rows": [{"level": "L1"|"L2"|"unknown", "reason", "code": "0x…",
                                    "count", "sharePercent", "timed",
                                    "min", "mean", "max", "timePercent", "stddev",
                                    "meanErrorPercent", "totalTime"}]}   times null when untimed
              threads    (with --per-vcpu) [{"pid", "vcpu", "comm", "exits", "rows"}]
              verdicts   (with --verdicts) {"profile", "decided", "consistent", "mismatch",
                          "undetermined", "rows": [{"level", "reason", "exits", "decided",
                          "consistent", "mismatch", "undetermined"}]}
              readerNotes (when present) how pasted/option layouts were read
              vmx        (when an Intel VMX trace) why; exits are then only counted
              exitsByPrintedReason (when some kvm_exit payloads were not decoded)
            Time% is the row's share of all timed exit time, Stddev the sample standard \
            deviation, ±mean perf kvm stat's "( +- x% )" (standard error of the mean). \
            --sort orders rows like perf kvm stat report --key.
            See docs/stats.md.

            Exit status: 0 on success; 2 when TRACE is unusable (missing, a directory, \
            unreadable, corrupt compression, corrupt trace.dat), with one line "svmdbg: FILE: problem" on stderr.
            """
        )

        @OptionGroup var input: TraceInputOptions

        @Flag(help: "Also print one table per vCPU thread.")
        var perVCPU = false

        @Flag(help: "Print JSON instead of text.")
        var json = false

        @Flag(help: "Also replay the trace and count verdicts per reason and level: decided, consistent (an input settled by the recorded outcome), mismatch, undetermined (docs/facts.md). Host facts are those the trace proves; use check for --host.")
        var verdicts = false

        @Option(help: ArgumentHelp("With --verdicts: the kernel profile (default 6.12).", valueName: "PROFILE"))
        var profile: String?

        @Option(name: .customLong("facts"), help: ArgumentHelp("With --verdicts: a facts file (docs/facts.md). Repeatable.", valueName: "FILE"))
        var factsFiles: [String] = []

        func validate() throws {
            if !verdicts, profile != nil || !factsFiles.isEmpty { throw ValidationError("--profile and --facts need --verdicts") }
            _ = try replayGroup().replayOptions()
        }

        /// The replay options of `--verdicts`.
        func replayGroup() -> ReplayOptionGroup {
            var group = ReplayOptionGroup()
            group.profile = profile ?? "6.12"
            group.host = nil
            group.guest = nil
            group.factsFiles = factsFiles
            return group
        }

        @Option(help: ArgumentHelp(
            "Order of the exit rows, largest first: count, time (total), max, min, mean (perf kvm stat's sample, time, max_t, min_t, mean_t also work).",
            valueName: "KEY"))
        var sort: String = "count"

        func run() throws {
            let progress = ProgressLine()
            defer { progress.finish() }
            let trace = try input.load(progress: { progress.indexing($0) })
            guard let order = StatsReport.Sort(perfOrOwn: sort) else {
                throw ValidationError("--sort must be one of count, time, max, min, mean (or sample, max_t, min_t, mean_t)")
            }
            var report = StatsReport(trace: trace, perVCPU: perVCPU, sort: order)
            if verdicts {
                report.verdicts = StatsReport.Verdicts(Replayer(trace: trace, options: try replayGroup().replayOptions())
                    .run(progress: { progress.replaying($0, events: trace.count) }))
            }
            progress.finish()
            if json {
                StandardOutput.json(try report.json(), terminator: "")
            } else {
                StandardOutput.text(report.text())
            }
        }
    }
}
