/// What covers the main screen, if anything.
public enum Overlay: Sendable, Hashable {
    /// Nothing.
    case none
    /// The help overlay, scrolled by this many lines.
    case help(scroll: Int)
    /// The bookmark list with the cursor on this entry.
    case bookmarks(cursor: Int)
    /// The host facts and profile pane (`H`) with the cursor on this fact.
    case facts(cursor: Int)
    /// The profile diff list (`D`) with the cursor on this changed exit.
    case profileDiff(cursor: Int)
}

/// A one-line message on the prompt line.
public struct Message: Sendable, Hashable {
    /// The text.
    public var text: String
    /// Whether it reports an error.
    public var isError: Bool

    /// Creates a message.
    public init(_ text: String, isError: Bool = false) {
        self.text = text
        self.isError = isError
    }
}

/// Where the exit-list window is pinned: the runtime fills it from there.
public enum ViewAnchor: Sendable, Hashable {
    /// This exit is the top row.
    case top(ExitNumber)
    /// This exit is the bottom row (after moving the selection past the window).
    case bottom(ExitNumber)
}
