import TraceKit
import Replay

/// Something the reducer asks the runtime to do; results come back as `Action`s.
public enum Effect: Sendable, Hashable {
    /// Stop the app and restore the terminal.
    case quit
    /// Find an exit through the session's index; answered by `Action.located`.
    case locate(LocateRequest)
    /// Start a search in the background (replacing any running one); answered by
    /// `Action.searchUpdated` as it goes.
    case search(SearchRequest)
    /// Stop the running search.
    case cancelSearch
    /// Run to the next breakpoint hit in the background; answered by `Action.continueUpdated`.
    case continueTo(ContinueRequest)
    /// Stop the running continue.
    case cancelContinue
    /// Find the first exit at or after a timestamp; answered by `Action.timeLocated`.
    case locateTime(TraceTimestamp)
    /// Write the mismatches to a file through the host's writer; answered by `Action.exportFinished`.
    case export(ExportRequest)
    /// Re-replay the trace with another kernel profile; answered by `Action.sessionReplaced`
    /// or `Action.profileSwitchFailed`.
    case switchProfile(String)
    /// Replay with host fact `key` set to the value (nil: as the trace shows).
    case setHostFact(String, Bool?)
    /// Compute the profile diff against this profile in the background.
    case profileDiff(String)
}

/// An export of the mismatching exits.
public struct ExportRequest: Sendable, Hashable {
    /// Destination path as typed.
    public var path: String
    /// File format (Replay's export formats).
    public var format: ExportFormat
    /// Whether an existing file may be replaced (only after the user confirmed).
    public var overwrite: Bool
    /// Only this exit (as a `decide` scenario; an existing file is never replaced: the
    /// writer picks the next free name) instead of the mismatches.
    public var exit: ExitNumber?

    /// Creates a request.
    public init(path: String, format: ExportFormat, overwrite: Bool, exit: ExitNumber? = nil) {
        self.path = path
        self.format = format
        self.overwrite = overwrite
        self.exit = exit
    }

    /// The format a path's extension names: `.jsonl`/`.json`, `.csv`, `.md`, `.trace`, `.scenario`;
    /// nil for anything else.
    public static func format(forPath path: String) -> ExportFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".json") { return .jsonl }
        return ExportFormat.allCases.first { lower.hasSuffix("." + $0.rawValue) }
    }
}

/// What the host's export writer reports.
public enum ExportResult: Sendable, Hashable {
    /// Written: how many exits.
    case written(path: String, count: Int)
    /// One exit written as a scenario (``ExportRequest/exit``).
    case wroteExit(path: String, exit: ExitNumber)
    /// Not written because the file exists and `overwrite` was false.
    case fileExists(path: String)
    /// Failed, with the reason.
    case failed(path: String, reason: String)
}
