/// Where a key binding applies; the app looks a key up in the current scope first.
public enum KeyScope: String, Sendable, Hashable, CaseIterable {
    /// The main screen with the exit list focused (and the fallback of `.detail`).
    case main
    /// A detail pane is focused: scrolling keys go to it, everything else to `.main`.
    case detail
    /// The prompt line is open: keys not bound here are typed into it.
    case prompt
    /// The help overlay is open.
    case help
    /// The bookmark list is open.
    case bookmarks
    /// The host facts and profile pane is open.
    case facts
    /// The profile diff list is open.
    case profileDiff
    /// The breakpoint list is open.
    case breakpoints
    /// The per-reason summary is open.
    case summary

    /// The scope consulted when a key is not bound in this one.
    public var fallback: KeyScope? {
        switch self {
        case .detail: .main
        case .main, .prompt, .help, .bookmarks, .facts, .profileDiff, .breakpoints, .summary: nil
        }
    }

    /// Heading for this scope in the help overlay.
    public var title: String {
        switch self {
        case .main: "Exit list"
        case .detail: "Detail pane focused (other keys as in the exit list)"
        case .prompt: "Prompt (other keys type text)"
        case .help: "Help"
        case .bookmarks: "Bookmark list"
        case .facts: "Host facts and profile pane"
        case .profileDiff: "Profile diff list"
        case .breakpoints: "Breakpoint list"
        case .summary: "Per-reason summary"
        }
    }
}

/// One entry of the key table: keys, where they apply, what they do and the help text.
public struct KeyBinding: Sendable, Hashable {
    /// The keys, the first one being the one the status bar shows.
    public var keys: [Key]
    /// Where the binding applies.
    public var scope: KeyScope
    /// What the keys do.
    public var command: Command
    /// Help text, a short phrase.
    public var help: String

    /// Creates a binding.
    public init(_ keys: [Key], _ scope: KeyScope, _ command: Command, _ help: String) {
        self.keys = keys
        self.scope = scope
        self.command = command
        self.help = help
    }
}

/// The one key table: dispatch, the status-bar hints and the `?` overlay all read it.
public struct KeyMap: Sendable, Hashable {
    /// All bindings in help order.
    public var bindings: [KeyBinding]

    /// Creates a key map.
    public init(_ bindings: [KeyBinding]) { self.bindings = bindings }

    /// The command bound to `key` in `scope` or its fallback scopes, if any.
    public func command(for key: Key, in scope: KeyScope) -> Command? {
        var current: KeyScope? = scope
        while let s = current {
            if let b = bindings.first(where: { $0.scope == s && $0.keys.contains(key) }) { return b.command }
            current = s.fallback
        }
        return nil
    }

    /// The bindings of one scope, in table order.
    public func bindings(in scope: KeyScope) -> [KeyBinding] { bindings.filter { $0.scope == scope } }

    /// The first key bound to `command` in `scope` (for hints such as "? help").
    public func primaryKey(for command: Command, in scope: KeyScope = .main) -> Key? {
        bindings.first { $0.scope == scope && $0.command == command }?.keys.first
    }

    /// Keys bound more than once within one scope (must be empty).
    public var duplicateKeys: [(KeyScope, Key)] {
        var seen = Set<String>()
        var duplicates: [(KeyScope, Key)] = []
        for b in bindings {
            for k in b.keys where !seen.insert("\(b.scope.rawValue)|\(k)").inserted { duplicates.append((b.scope, k)) }
        }
        return duplicates
    }

    /// svmdbg's key table.
    ///
    /// `?` opens help, so backward search is `\` (forward search stays `/`);
    /// `n`/`N` repeat the last search forward/backward relative to its direction.
    public static let standard = KeyMap([
        KeyBinding([.down, .character("j")], .main, .nextExit, "next exit"),
        KeyBinding([.up, .character("k")], .main, .previousExit, "previous exit"),
        KeyBinding([.right, .character("]")], .main, .nextMismatch, "next mismatch"),
        KeyBinding([.left, .character("[")], .main, .previousMismatch, "previous mismatch"),
        KeyBinding([.character(">")], .main, .nextExitOnVCPU, "next exit on this vCPU"),
        KeyBinding([.character("<")], .main, .previousExitOnVCPU, "previous exit on this vCPU"),
        KeyBinding([.character("V")], .main, .toggleVCPUFilter, "only this vCPU / every vCPU"),
        KeyBinding([.home, .character("g")], .main, .firstExit, "first exit"),
        KeyBinding([.end, .character("G")], .main, .lastExit, "last exit"),
        KeyBinding([.pageDown, .character(" "), .control("f")], .main, .pageDown, "page down"),
        KeyBinding([.pageUp, .control("b")], .main, .pageUp, "page up"),
        KeyBinding([.control("d")], .main, .halfPageDown, "half a page down"),
        KeyBinding([.control("u")], .main, .halfPageUp, "half a page up"),
        KeyBinding([.character(":")], .main, .goTo, "go to exit #n or timestamp"),
        KeyBinding([.character("/")], .main, .searchForward, "search forward (regex)"),
        KeyBinding([.character("\\")], .main, .searchBackward, "search backward (regex)"),
        KeyBinding([.character("n")], .main, .repeatSearch, "repeat search"),
        KeyBinding([.character("N")], .main, .repeatSearchReversed, "repeat search, reversed"),
        KeyBinding([.character("f")], .main, .filter, "filter: vcpu N level L reason R code C verdict V outcome O"),
        KeyBinding([.character("F")], .main, .clearFilter, "clear filter"),
        KeyBinding([.character("b")], .main, .addBreakpoint, "breakpoint: conditions with and/or/not; delete/disable N"),
        KeyBinding([.character("B")], .main, .listBreakpoints, "breakpoint list: number, enabled, condition, hits"),
        KeyBinding([.character("c")], .main, .continueForward, "continue to next breakpoint"),
        KeyBinding([.character("C")], .main, .continueBackward, "continue back to breakpoint"),
        KeyBinding([.character("m")], .main, .toggleBookmark, "toggle bookmark"),
        KeyBinding([.character("'")], .main, .listBookmarks, "list bookmarks"),
        KeyBinding([.character("a")], .main, .annotate, "note on this exit (bookmarks it; saved next to the trace)"),
        KeyBinding([.character("s")], .main, .showSummary, "per-reason summary: count, Time%, mean, min, max, stddev"),
        KeyBinding([.character("w")], .main, .toggleWrap, "wrap long lines in the panes / cut them"),
        KeyBinding([.character("p")], .main, .switchProfile, "switch kernel profile"),
        KeyBinding([.character("H")], .main, .showHostFacts, "host facts and profile: where each came from; change one"),
        KeyBinding([.character("D")], .main, .diffProfiles, "profile diff: exits another profile decides differently"),
        KeyBinding([.character("e")], .main, .exportMismatches, "export mismatches to a file"),
        KeyBinding([.character("E")], .main, .exportSelectedScenario, "export this exit as a decide scenario file"),
        KeyBinding([.character("v")], .main, .toggleFullDecisionPath, "decision path: one line per step / full"),
        KeyBinding([.character("x")], .main, .swapSidePane, "registers / VMCB12 beside the path (small terminals)"),
        KeyBinding([.character("z")], .main, .toggleZoom, "zoom: the focused pane fills the screen / back"),
        KeyBinding([.tab], .main, .focusNext, "focus next pane"),
        KeyBinding([.backTab], .main, .focusPrevious, "focus previous pane"),
        KeyBinding([.escape], .main, .cancel, "clear message"),
        KeyBinding([.character("?")], .main, .help, "help"),
        KeyBinding([.character("q")], .main, .quit, "quit"),

        KeyBinding([.down, .character("j")], .detail, .scrollDown, "scroll down"),
        KeyBinding([.up, .character("k")], .detail, .scrollUp, "scroll up"),
        KeyBinding([.pageDown, .character(" ")], .detail, .scrollPageDown, "scroll page down"),
        KeyBinding([.pageUp], .detail, .scrollPageUp, "scroll page up"),
        KeyBinding([.control("d")], .detail, .scrollHalfPageDown, "scroll half a page down"),
        KeyBinding([.control("u")], .detail, .scrollHalfPageUp, "scroll half a page up"),
        KeyBinding([.escape], .detail, .cancel, "back to the exit list"),

        KeyBinding([.enter], .prompt, .submit, "accept"),
        KeyBinding([.escape], .prompt, .cancel, "cancel"),
        KeyBinding([.backspace, .control("h")], .prompt, .deleteBackward, "delete character"),
        KeyBinding([.control("w")], .prompt, .deleteWordBackward, "delete word"),
        KeyBinding([.control("u")], .prompt, .clearInput, "delete the whole input"),
        KeyBinding([.up, .control("p")], .prompt, .historyPrevious, "previous entry of this prompt's history"),
        KeyBinding([.down, .control("n")], .prompt, .historyNext, "next entry of this prompt's history"),
        KeyBinding([.tab], .prompt, .complete, "complete the word (fields, reasons, verdicts, outcomes, profiles)"),

        KeyBinding([.down, .character("j")], .help, .scrollDown, "scroll down"),
        KeyBinding([.up, .character("k")], .help, .scrollUp, "scroll up"),
        KeyBinding([.pageDown, .character(" ")], .help, .scrollPageDown, "page down"),
        KeyBinding([.pageUp], .help, .scrollPageUp, "page up"),
        KeyBinding([.escape, .character("?"), .character("q")], .help, .cancel, "close help"),

        KeyBinding([.down, .character("j")], .bookmarks, .scrollDown, "next bookmark"),
        KeyBinding([.up, .character("k")], .bookmarks, .scrollUp, "previous bookmark"),
        KeyBinding([.enter], .bookmarks, .jumpToBookmark, "jump to bookmark"),
        KeyBinding([.character("d")], .bookmarks, .deleteBookmark, "delete bookmark"),
        KeyBinding([.character("a")], .bookmarks, .annotate, "edit the bookmark's note"),
        KeyBinding([.escape, .character("'"), .character("q")], .bookmarks, .cancel, "close list"),
        KeyBinding([.down, .character("j")], .facts, .scrollDown, "next fact"),
        KeyBinding([.up, .character("k")], .facts, .scrollUp, "previous fact"),
        KeyBinding([.enter, .character(" ")], .facts, .cycleHostFact, "cycle the fact: as the trace shows, 1, 0; replays"),
        KeyBinding([.character("p")], .facts, .switchProfile, "switch profile (replays)"),
        KeyBinding([.escape, .character("H"), .character("q")], .facts, .cancel, "close pane"),
        KeyBinding([.down, .character("j")], .profileDiff, .scrollDown, "next changed exit"),
        KeyBinding([.up, .character("k")], .profileDiff, .scrollUp, "previous changed exit"),
        KeyBinding([.pageDown, .character(" ")], .profileDiff, .scrollPageDown, "page down"),
        KeyBinding([.pageUp], .profileDiff, .scrollPageUp, "page up"),
        KeyBinding([.enter], .profileDiff, .jumpToDiffExit, "jump to the exit"),
        KeyBinding([.character("D")], .profileDiff, .diffProfiles, "diff against another profile"),
        KeyBinding([.escape, .character("q")], .profileDiff, .cancel, "close list"),

        KeyBinding([.down, .character("j")], .breakpoints, .scrollDown, "next breakpoint"),
        KeyBinding([.up, .character("k")], .breakpoints, .scrollUp, "previous breakpoint"),
        KeyBinding([.character(" "), .character("e")], .breakpoints, .toggleBreakpointEnabled, "enable / disable"),
        KeyBinding([.character("d")], .breakpoints, .deleteBreakpoint, "delete breakpoint"),
        KeyBinding([.character("D")], .breakpoints, .clearBreakpoints, "delete every breakpoint"),
        KeyBinding([.character("b")], .breakpoints, .addBreakpoint, "add a breakpoint"),
        KeyBinding([.escape, .character("B"), .character("q")], .breakpoints, .cancel, "close list"),

        KeyBinding([.down, .character("j")], .summary, .scrollDown, "next row"),
        KeyBinding([.up, .character("k")], .summary, .scrollUp, "previous row"),
        KeyBinding([.pageDown, .character(" ")], .summary, .scrollPageDown, "page down"),
        KeyBinding([.pageUp], .summary, .scrollPageUp, "page up"),
        KeyBinding([.character("s"), .tab], .summary, .nextSortColumn, "sort by the next column"),
        KeyBinding([.character("r")], .summary, .reverseSort, "reverse the order"),
        KeyBinding([.enter], .summary, .filterToSummaryRow, "show this reason's exits (filter) and jump to the first"),
        KeyBinding([.escape, .character("q")], .summary, .cancel, "close summary"),
    ])
}
