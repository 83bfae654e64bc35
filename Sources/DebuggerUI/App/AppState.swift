/// Which pane has the keyboard.
public enum Focus: Sendable, Hashable, CaseIterable {
    /// The exit list (arrows move the selection).
    case exitList
    /// The decision path pane.
    case decision
    /// The registers pane.
    case registers
    /// The VMCB pane.
    case vmcb
    /// The raw trace lines pane.
    case rawLines
}

/// What the prompt line asks for.
public enum PromptKind: Sendable, Hashable {
    /// Exit number or timestamp.
    case goTo
    /// A regex to search in a direction.
    case search(Direction)
    /// A filter.
    case filter
    /// A breakpoint.
    case breakpoint
    /// A kernel profile name.
    case profile
    /// The export file name.
    case exportPath
    /// Confirmation to overwrite an existing export file.
    case confirmOverwrite(path: String)

    /// The label in front of the input.
    public var label: String {
        switch self {
        case .goTo: "go to (#exit or timestamp): "
        case .search(.forward): "/"
        case .search(.backward): "\\"
        case .filter: "filter: "
        case .breakpoint: "break on: "
        case .profile: "profile: "
        case .exportPath: "export mismatches to: "
        case .confirmOverwrite(let path): "\(path) exists. Overwrite? (y/N) "
        }
    }
}

/// The open prompt: what it asks and what has been typed.
public struct Prompt: Sendable, Hashable {
    /// What is asked.
    public var kind: PromptKind
    /// The input so far.
    public var text: String

    /// Creates a prompt.
    public init(kind: PromptKind, text: String = "") {
        self.kind = kind
        self.text = text
    }
}

/// What covers the main screen, if anything.
public enum Overlay: Sendable, Hashable {
    /// Nothing.
    case none
    /// The help overlay, scrolled by this many lines.
    case help(scroll: Int)
    /// The bookmark list with the cursor on this entry.
    case bookmarks(cursor: Int)
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

/// The whole UI state. Only `reduce(_:)` changes it.
public struct AppState: Sendable, Hashable {
    /// Terminal size.
    public var size: Size
    /// Glyphs for this terminal (Unicode or ASCII).
    public var glyphs: GlyphSet
    /// The key table.
    public var keyMap: KeyMap
    /// Facts about the session.
    public var session: SessionInfo
    /// The data on screen.
    public var view: ViewData
    /// The selected exit, nil while nothing (matching) is indexed.
    public var selected: ExitNumber?
    /// How the list window is pinned.
    public var anchor: ViewAnchor?
    /// The focused pane.
    public var focus: Focus
    /// Which of registers/VMCB the compact layout shows next to the decision path.
    public var compactSide: Focus
    /// Scroll offsets of the detail panes, in lines.
    public var scroll: [Focus: Int]
    /// Whether the decision path shows every step in full (question, all evidence, kernel
    /// function) rather than one line per step.
    public var showsFullDecisionPath: Bool
    /// The exit-list filter.
    public var filter: ExitFilter
    /// The last search, for `n`/`N` and for highlighting.
    public var lastSearch: LastSearch?
    /// Breakpoints, in the order they were set.
    public var breakpoints: [Breakpoint]
    /// Bookmarked exits, ascending.
    public var bookmarks: [ExitNumber]
    /// The open prompt, if any.
    public var prompt: Prompt?
    /// The open overlay.
    public var overlay: Overlay
    /// The message on the prompt line, if any.
    public var message: Message?
    /// Whether the app should stop.
    public var isQuitting: Bool

    /// A fresh state for a terminal of `size`.
    public init(size: Size, glyphs: GlyphSet, keyMap: KeyMap = .standard, session: SessionInfo = .empty) {
        self.size = size
        self.glyphs = glyphs
        self.keyMap = keyMap
        self.session = session
        self.view = .empty
        self.selected = nil
        self.anchor = nil
        self.focus = .exitList
        self.compactSide = .registers
        self.scroll = [:]
        self.showsFullDecisionPath = false
        self.filter = ExitFilter()
        self.breakpoints = []
        self.bookmarks = []
        self.prompt = nil
        self.overlay = .none
        self.message = nil
        self.isQuitting = false
        self.lastSearch = nil
    }

    /// The layout for the current size.
    public var layout: Layout { Layout(size: size, compactSide: compactSide) }

    /// The scope keys are looked up in.
    public var keyScope: KeyScope {
        if prompt != nil { return .prompt }
        switch overlay {
        case .help: return .help
        case .bookmarks: return .bookmarks
        case .none: return focus == .exitList ? .main : .detail
        }
    }

}

/// The last search the user ran.
public struct LastSearch: Sendable, Hashable {
    /// The query.
    public var query: TextQuery
    /// The direction it was typed with (`/` forward, `\\` backward).
    public var direction: Direction

    /// Creates a search memory.
    public init(query: TextQuery, direction: Direction) {
        self.query = query
        self.direction = direction
    }
}
