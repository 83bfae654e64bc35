import ArgumentParser
import TraceKit

/// The trace input of `export`, whose `--format` names the output format (issue contract:
/// `export … [--format jsonl|csv|md|trace]`); the trace layout is `--input-format` here.
struct ExportInputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The trace file (any layout svmdbg reads; .gz/.xz; '-' reads stdin).", valueName: "TRACE"))
    var trace: String

    @Option(help: "The trace layout: auto, tracefs, report, perf or dat (auto detects it).")
    var inputFormat: TraceInputOptions.FormatChoice = .auto

    /// Loads the trace like every other subcommand.
    func load(progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> LoadedTrace {
        var options = TraceInputOptions()
        options.trace = trace
        options.format = inputFormat
        return try options.load(progress: progress)
    }
}
