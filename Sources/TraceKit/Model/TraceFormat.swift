/// The layout of a trace file.
public enum TraceFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// tracefs `trace` / `trace_pipe` (`comm-pid [cpu] flags ts: event: payload`).
    case tracefs
    /// `trace-cmd report` text (`cpus=N` header, no flags column, padded payload).
    case traceCmdReport = "report"
    /// `perf script` text (`comm tid [cpu] ts: kvm:event: payload`).
    case perfScript = "perf"
    /// trace-cmd's binary `trace.dat` (magic `\x17\x08\x44tracing`).
    case traceDat = "dat"

    /// The `--format` spelling.
    public var description: String { rawValue }
}

/// How the input was compressed on disk (detected by magic bytes).
public enum TraceCompression: String, Sendable, Hashable {
    /// Plain bytes.
    case none
    /// gzip (`1f 8b`).
    case gzip
    /// xz (`fd 37 7a 58 5a 00`).
    case xz
}
