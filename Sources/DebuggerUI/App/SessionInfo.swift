/// The session facts the status bar and navigation need, copied into the state each tick.
public struct SessionInfo: Sendable, Hashable {
    /// The trace's display name.
    public var traceName: String
    /// The active kernel profile.
    public var profile: String
    /// Profiles the user may switch to.
    public var availableProfiles: [String]
    /// Exits indexed so far.
    public var exitCount: Int
    /// Verdict counts so far.
    public var counts: VerdictCounts
    /// Indexing progress.
    public var progress: IndexingProgress

    /// Creates session facts.
    public init(
        traceName: String, profile: String, availableProfiles: [String], exitCount: Int,
        counts: VerdictCounts, progress: IndexingProgress
    ) {
        self.traceName = traceName
        self.profile = profile
        self.availableProfiles = availableProfiles
        self.exitCount = exitCount
        self.counts = counts
        self.progress = progress
    }

    /// Reads the facts from a session.
    public init(_ session: any DebugSession) {
        self.init(
            traceName: session.traceName, profile: session.profile, availableProfiles: session.availableProfiles,
            exitCount: session.exitCount, counts: session.counts, progress: session.progress)
    }

    /// Facts before any session is known (nothing indexed).
    public static let empty = SessionInfo(
        traceName: "", profile: "", availableProfiles: [], exitCount: 0,
        counts: VerdictCounts(match: 0, mismatch: 0, undetermined: 0, notModelled: 0),
        progress: IndexingProgress(bytesDone: 0, bytesTotal: nil, isFinished: false))
}

/// The data on screen, fetched from the session by the runtime for the current state.
///
/// Only the visible window is here: the list rows on screen, the selected exit's detail,
/// the raw lines in view, the rate strip. It is replaced wholesale on every frame.
public struct ViewData: Sendable, Hashable {
    /// The exit-list rows on screen, top to bottom.
    public var rows: [ExitRow]
    /// The selected exit's row (it may be off the list window while the window reloads).
    public var selectedRow: ExitRow?
    /// Detail of the selected exit.
    public var detail: ExitDetail?
    /// Raw lines in view for the selected exit.
    public var rawLines: [RawLine]
    /// Rate strip slices, one per column.
    public var rate: [RateBucket]
    /// Rows of the bookmarked exits (only while the bookmark list is open).
    public var bookmarkRows: [ExitRow]

    /// Creates view data.
    public init(
        rows: [ExitRow], selectedRow: ExitRow?, detail: ExitDetail?, rawLines: [RawLine], rate: [RateBucket],
        bookmarkRows: [ExitRow]
    ) {
        self.rows = rows
        self.selectedRow = selectedRow
        self.detail = detail
        self.rawLines = rawLines
        self.rate = rate
        self.bookmarkRows = bookmarkRows
    }

    /// Nothing loaded.
    public static let empty = ViewData(rows: [], selectedRow: nil, detail: nil, rawLines: [], rate: [], bookmarkRows: [])
}
