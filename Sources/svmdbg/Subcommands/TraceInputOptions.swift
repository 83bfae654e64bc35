import ArgumentParser
import TraceKit

/// The trace to read and how: shared by every subcommand that reads a trace.
struct TraceInputOptions: ParsableArguments {
    /// `--format` values.
    enum FormatChoice: String, CaseIterable, ExpressibleByArgument {
        case auto, tracefs, report, perf, dat

        /// The loader's format, `nil` for detection.
        var traceFormat: TraceFormat? {
            switch self {
            case .auto: nil
            case .tracefs: .tracefs
            case .report: .traceCmdReport
            case .perf: .perfScript
            case .dat: .traceDat
            }
        }
    }

    @Argument(help: ArgumentHelp(
        "The trace file: tracefs trace/trace_pipe, trace-cmd report, perf script, or trace.dat; .gz/.xz are read directly; '-' reads stdin.",
        valueName: "TRACE"))
    var trace: String

    @Option(help: "The trace layout (auto detects it from the content).")
    var format: FormatChoice = .auto

    /// Loads the trace; on failure (including input that is no trace at all, see
    /// ``LoadedTrace/unusableReason``) prints `svmdbg: FILE: problem` to stderr and exits with 2.
    func load(progress: (@Sendable (IndexProgress) -> Void)? = nil) throws -> LoadedTrace {
        let loaded: LoadedTrace
        do {
            loaded = try TraceLoader.load(path: trace, format: format.traceFormat, progress: progress)
        } catch let error as TraceLoadError {
            StandardError.write("svmdbg: \(error.file): \(error.problem)\n")
            throw ExitCode(InputExitCode.unusableInput)
        }
        if let reason = loaded.unusableReason {
            StandardError.write("svmdbg: \(loaded.source): \(reason)\n")
            throw ExitCode(InputExitCode.unusableInput)
        }
        return loaded
    }
}

/// Exit codes for input problems (`svmdbg --help`: 2 = unreadable input).
enum InputExitCode {
    /// The input could not be used at all.
    static let unusableInput: Int32 = SVMDebugExitCode.unusable
}
