import TraceKit

/// Something that happened; the reducer decides what it means.
public enum Action: Sendable, Hashable {
    /// The user pressed a key.
    case keyPressed(Key)
    /// The terminal changed size.
    case resized(Size)
    /// The session indexed more of the trace (new counts and progress).
    case indexProgressed(SessionInfo)
    /// The session was replaced (profile switch finished): same trace, new verdicts.
    case sessionReplaced(SessionInfo)
    /// A profile switch failed; the old session stays.
    case profileSwitchFailed(profile: String, reason: String)
    /// A `locate` effect finished: the exit found, or nil if none.
    case located(LocateRequest, ExitNumber?)
    /// A `locateTime` effect finished.
    case timeLocated(TraceTimestamp, ExitNumber?)
    /// The runtime fetched the data on screen for the current state.
    case viewLoaded(ViewData)
    /// An export finished (or was refused).
    case exportFinished(ExportResult)
    /// The background search published progress, its match or its end.
    case searchUpdated(SearchUpdate)
    /// The background continue published progress or where it stopped.
    case continueUpdated(ContinueUpdate)
    /// The notes file next to the trace was read: its bookmarks, notes and breakpoints, and
    /// a message (an error naming the file and line when part of it was refused).
    case notesLoaded(SavedNotes, Message?)
    /// The notes file could not be written (or is not ours): why.
    case notesNotSaved(String)
    /// A mouse click or wheel turn.
    case mouse(MouseEvent)
    /// SIGINT or SIGTERM arrived.
    case interrupted
    /// A host fact was changed and the trace replayed (the new session's facts).
    case hostFactChanged(SessionInfo, key: String, value: Bool?)
    /// A host fact could not be changed.
    case hostFactFailed(String)
    /// The profile diff is ready (nil: nothing to compare yet).
    case profileDiffFinished(ProfileDiffList?, against: String)
}
