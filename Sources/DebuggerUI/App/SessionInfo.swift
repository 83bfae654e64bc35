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
    /// For a live trace: following or ended, and the last notice.
    public var live: LiveStatus?
    /// The host facts the replay used (the `H` pane).
    public var hostFacts: [HostFactRow] = []

    /// Creates session facts.
    public init(
        traceName: String, profile: String, availableProfiles: [String], exitCount: Int,
        counts: VerdictCounts, progress: IndexingProgress, live: LiveStatus? = nil
    ) {
        self.traceName = traceName
        self.profile = profile
        self.availableProfiles = availableProfiles
        self.exitCount = exitCount
        self.counts = counts
        self.progress = progress
        self.live = live
    }

    /// Reads the facts from a session.
    public init(_ session: any DebugSession) {
        self.init(
            traceName: session.traceName, profile: session.profile, availableProfiles: session.availableProfiles,
            exitCount: session.exitCount, counts: session.counts, progress: session.progress,
            live: session.live)
        self.hostFacts = session.hostFacts
    }

    /// Facts before any session is known (nothing indexed).
    public static let empty = SessionInfo(
        traceName: "", profile: "", availableProfiles: [], exitCount: 0,
        counts: VerdictCounts(match: 0, mismatch: 0, undetermined: 0, notModelled: 0),
        progress: IndexingProgress(bytesDone: 0, bytesTotal: nil, isFinished: false))
}
