/// Why a trace.dat file could not be rendered.
///
/// Every case names the file, so the message can be shown to the user as is.
public enum TraceDatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file could not be opened or read (missing, a directory, no permission...).
    case unreadable(path: String, reason: String)
    /// The file does not start with the trace.dat magic `\x17\x08\x44tracing` (this
    /// includes an empty file).
    case notTraceDat(path: String)
    /// The file starts like a trace.dat file but libtracecmd rejected its header or its
    /// data section (truncated or corrupt file).
    case corrupt(path: String, reason: String)

    /// A one-line message naming the file: `<path>: <problem>`.
    public var description: String { "\(path): \(problem)" }

    /// The file the error is about.
    public var path: String {
        switch self {
        case let .unreadable(path, _), let .notTraceDat(path), let .corrupt(path, _): path
        }
    }

    /// What is wrong, without the file name (for callers that print the name themselves).
    public var problem: String {
        switch self {
        case let .unreadable(_, reason):
            "cannot read the file: \(reason)"
        case .notTraceDat:
            "not a trace-cmd trace.dat file (the \\x17\\x08Dtracing magic is missing)"
        case let .corrupt(_, reason):
            "corrupt or truncated trace.dat file: \(reason)"
        }
    }

    /// The same error for `source` where it names `temporaryPath`.
    func naming(_ source: String, insteadOf temporaryPath: String) -> TraceDatError {
        func rename(_ named: String) -> String { named == temporaryPath ? source : named }
        switch self {
        case let .unreadable(named, reason): return .unreadable(path: rename(named), reason: reason)
        case let .notTraceDat(named): return .notTraceDat(path: rename(named))
        case let .corrupt(named, reason): return .corrupt(path: rename(named), reason: reason)
        }
    }
}
