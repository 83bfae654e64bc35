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
    /// The breakpoint list (`info breakpoints`) with the cursor on this entry.
    case breakpoints(cursor: Int)
    /// The per-reason summary (the `stats` table) with the cursor on this row.
    case summary(cursor: Int)
}

/// A continue running in the background.
public struct RunningContinue: Sendable, Hashable {
    /// Its direction.
    public var direction: Direction
    /// The latest progress.
    public var progress: ContinueUpdate

    /// Creates one.
    public init(direction: Direction, progress: ContinueUpdate) {
        self.direction = direction
        self.progress = progress
    }
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

/// What is saved next to the trace: bookmarks, notes and breakpoints (not hit counts).
public struct SavedNotes: Sendable, Hashable {
    /// Bookmarked exits, ascending.
    public var bookmarks: [ExitNumber]
    /// Notes by exit.
    public var notes: [ExitNumber: String]
    /// Breakpoints with their numbers and enabled flags.
    public var breakpoints: [Breakpoint]

    /// Creates the value.
    public init(bookmarks: [ExitNumber] = [], notes: [ExitNumber: String] = [:], breakpoints: [Breakpoint] = []) {
        self.bookmarks = bookmarks
        self.notes = notes
        self.breakpoints = breakpoints
    }
}

/// A mouse event at a screen cell.
public struct MouseEvent: Sendable, Hashable {
    /// What the mouse did.
    public enum Kind: Sendable, Hashable {
        /// Button 1 pressed or clicked.
        case click
        /// Wheel turned away from the user (scroll up).
        case wheelUp
        /// Wheel turned towards the user (scroll down).
        case wheelDown
    }

    /// What happened.
    public var kind: Kind
    /// Column, 0-based.
    public var x: Int
    /// Row, 0-based.
    public var y: Int

    /// Creates an event.
    public init(_ kind: Kind, x: Int, y: Int) {
        self.kind = kind
        self.x = x
        self.y = y
    }
}

extension AppState {
    /// The part of the state saved next to the trace.
    public var savedNotes: SavedNotes {
        SavedNotes(bookmarks: bookmarks, notes: notes,
                   breakpoints: breakpoints.map { var b = $0; b.hits = 0; return b })
    }
}
