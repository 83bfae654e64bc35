// libFuzzer entry point for TraceKit's line parser and trace loader.
//
// Not part of the SwiftPM package: `Fuzz/run.sh` compiles this file together with every
// source of `Sources/TraceKit` into one module named `TraceKit` (so the internal parsers
// are reachable) with `-sanitize=fuzzer,address`. See `docs/robustness.md`.
#if canImport(Glibc)
import Glibc
#endif

/// Runs one fuzz input through the loader and the parsers and checks their promises.
///
/// Each input is
/// 1. loaded like a file (`TraceLoader.load(bytes:source:)`, layout detected, compression
///    and trace.dat detected by magic bytes), then loaded again with one forced layout;
/// 2. every event decoded (`event(at:)`, `payload(of:)`, `rawText(of:)`), every diagnostic's
///    line looked up (`rawLine`), and the exit statistics computed;
/// 3. handed whole to every typed payload parser and to the line-prefix parser.
///
/// A broken promise (a line lost from the accounting, an event count that disagrees, a
/// diagnostic pointing past the end) stops the process, so libFuzzer keeps the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTraceKitOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzChecks.load(bytes, format: nil)
    let forced = FuzzChecks.textFormats[size % FuzzChecks.textFormats.count]
    FuzzChecks.load(bytes, format: forced)
    FuzzChecks.parsers(bytes)
    return 0
}

/// The checks the fuzz entry point runs.
enum FuzzChecks {
    /// The text layouts a user can force with `--format`.
    static let textFormats: [TraceFormat] = [.tracefs, .traceCmdReport, .perfScript]
    /// How many diagnostics get their line looked up per input.
    static let rawLineLookups = 16

    /// Loads `bytes` and checks the line accounting and every event.
    static func load(_ bytes: [UInt8], format: TraceFormat?) {
        let trace: LoadedTrace
        do {
            trace = try TraceLoader.load(bytes: bytes, source: "fuzz-input", format: format)
        } catch let error as TraceLoadError {
            precondition(!error.problem.isEmpty, "a load error without a problem")
            return
        } catch {
            fatalError("TraceLoader threw something other than TraceLoadError: \(error)")
        }
        let accounting = trace.lineAccounting
        precondition(accounting.read == accounting.understood + accounting.raw + accounting.unreadable + accounting.metadata,
                     "line accounting does not add up: \(accounting)")
        precondition(accounting.events == trace.count, "accounting says \(accounting.events) events, index has \(trace.count)")
        if trace.compression == .none && trace.format != .traceDat {
            precondition(accounting.read == lineCount(bytes), "read \(accounting.read) lines of \(lineCount(bytes))")
        }
        precondition(trace.diagnosticCount >= trace.diagnostics.count, "more diagnostics stored than counted")
        for (position, diagnostic) in trace.diagnostics.enumerated() {
            precondition(diagnostic.line >= 1 && (trace.format == .traceDat || diagnostic.line <= max(accounting.read, 1)),
                         "diagnostic on line \(diagnostic.line) of \(accounting.read)")
            // `rawLine` walks from the closest event line; a few lookups cover it without
            // making a junk input with thousands of diagnostics quadratic.
            if position < rawLineLookups { _ = trace.rawLine(diagnostic.line) }
        }
        var previousLine = 0
        for number in 0..<trace.count {
            let event = trace.event(at: EventNumber(number))
            precondition(event.lineNumber > previousLine, "event lines out of order")
            previousLine = event.lineNumber
            _ = trace.payload(of: EventNumber(number))
            _ = trace.rawText(of: EventNumber(number))
            _ = trace.rawLine(event.lineNumber)
        }
        _ = trace.eventNameCounts
        _ = trace.eventNumbersByPID()
        _ = trace.threadsByVM
        _ = ExitStatistics(trace: trace)
    }

    /// Hands the whole input to the prefix parser and to every payload parser.
    static func parsers(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { base in
            _ = LinePrefix.parse(base, start: 0, end: base.count, style: nil)
            for event in KnownEvent.allCases {
                _ = PayloadParser.parse(event, base, start: 0, end: base.count)
            }
        }
    }

    /// Lines as the indexer counts them: every `\n`, plus a last line without one.
    static func lineCount(_ bytes: [UInt8]) -> Int {
        var count = 0
        for byte in bytes where byte == 0x0a { count += 1 }
        if let last = bytes.last, last != 0x0a { count += 1 }
        return count
    }
}
