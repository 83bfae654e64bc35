/// What the status bar says about a live trace (`--follow`, `--pipe`, `capture --open`).
public struct LiveStatus: Sendable, Hashable {
    /// How the input is read.
    public var kind: LiveInputKind
    /// Whether more lines may still come (false once a pipe closed).
    public var isFollowing: Bool
    /// Lines read so far.
    public var lines: Int
    /// The last thing worth telling the user (truncated, replaced, ended, replayed again),
    /// with a serial number that grows with each, so the UI shows each once.
    public var notice: String?
    /// Counts notices.
    public var noticeSerial: Int

    /// Creates a status.
    public init(kind: LiveInputKind, isFollowing: Bool = true, lines: Int = 0, notice: String? = nil, noticeSerial: Int = 0) {
        self.kind = kind
        self.isFollowing = isFollowing
        self.lines = lines
        self.notice = notice
        self.noticeSerial = noticeSerial
    }
}

/// How a live trace is read.
public enum LiveInputKind: String, Sendable {
    /// A regular file that grows.
    case file
    /// A pipe or character device read until end of input.
    case pipe
}
