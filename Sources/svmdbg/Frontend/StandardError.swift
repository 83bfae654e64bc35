import Replay
#if canImport(Glibc)
import Glibc
#endif

/// Writes to the process's standard error.
enum StandardError {
    /// Writes `text` unbuffered to fd 2, control characters other than line breaks escaped
    /// (messages quote file names and trace text, which must never drive the terminal).
    static func write(_ text: String) {
        ProgressLine.eraseActive()
        ProgressLine.writeRaw(TerminalSafe.escapeKeepingLineBreaks(text))
    }
}

/// Writes reports to standard output with trace text made terminal-safe.
///
/// Every report svmdbg prints quotes trace text (task names, payloads, raw lines,
/// diagnostics, file names). Text reports go out with every control character except the
/// line break escaped (``TerminalSafe/escapeKeepingLineBreaks(_:)``); JSON with DEL and C1
/// controls escaped (JSON encoders already escape C0).
enum StandardOutput {
    /// Prints a text report (already ending in a newline, or not: printed as is).
    static func text(_ report: String) {
        print(TerminalSafe.escapeKeepingLineBreaks(report), terminator: "")
    }

    /// Prints a JSON document followed by `terminator`.
    static func json(_ document: String, terminator: String = "\n") {
        print(TerminalSafe.escapeJSONText(document), terminator: terminator)
    }
}
