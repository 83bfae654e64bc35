//// The whole UI state. Only `reduce(_:)` changes it.
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
    /// Whether the focused pane fills the screen (`z`).
    public var isZoomed: Bool
    /// The search running in the background, if any.
    public var search: RunningSearch?
    /// Breakpoints, in the order they were set.
    public var breakpoints: [Breakpoint]
    /// Bookmarked exits, ascending.
    public var bookmarks: [ExitNumber]
    /// Notes on exits (each noted exit is also bookmarked).
    public var notes: [ExitNumber: String]
    /// The number the next breakpoint gets (numbers are never reused, as in gdb).
    public var nextBreakpointNumber: Int
    /// The continue (`c`/`C`) running in the background, if any.
    public var continuing: RunningContinue?
    /// Whether panes wrap long lines (`w`); when off each line is cut at the pane's edge.
    public var wrapsLines: Bool
    /// How the per-reason summary is sorted.
    public var summarySort: SummarySort
    /// The open prompt, if any.
    public var prompt: Prompt?
    /// What was entered at each kind of prompt, oldest first (Up/Down recall it).
    public var promptHistory: [PromptHistory: [String]]
    /// The open overlay.
    public var overlay: Overlay
    /// The message on the prompt line, if any.
    public var message: Message?
    /// Whether the app should stop.
    public var isQuitting: Bool
    /// The last profile diff (`D`), shown by the diff list.
    public var profileDiff: ProfileDiffList?
    /// The profile a diff is being computed against, while it runs.
    public var profileDiffRunning: String?

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
        self.notes = [:]
        self.nextBreakpointNumber = 1
        self.continuing = nil
        self.wrapsLines = true
        self.summarySort = SummarySort()
        self.prompt = nil
        self.promptHistory = [:]
        self.overlay = .none
        self.message = nil
        self.isQuitting = false
        self.lastSearch = nil
        self.search = nil
        self.isZoomed = false
    }

    /// The panes' text width for laying out lines: the pane's width when lines wrap, else
    /// wide enough that nothing wraps (the pane cuts each line at its edge).
    public func lineWidth(_ width: Int) -> Int { wrapsLines ? width : max(width, 4096) }

    /// The layout for the current size.
    public var layout: Layout { Layout(size: size, compactSide: compactSide, zoom: isZoomed ? focus : nil) }

    /// The scope keys are looked up in.
    public var keyScope: KeyScope {
        if prompt != nil { return .prompt }
        switch overlay {
        case .help: return .help
        case .bookmarks: return .bookmarks
        case .facts: return .facts
        case .profileDiff: return .profileDiff
        case .breakpoints: return .breakpoints
        case .summary: return .summary
        case .none: return focus == .exitList ? .main : .detail
        }
    }

}
