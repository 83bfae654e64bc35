import Replay

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
    /// The per-reason summary (only while it is open; nil while the session computes it).
    public var summary: ReasonSummary?
    /// The `--facts` files in effect (only while the host facts pane is open).
    public var factsFiles: [FactsFileUse]

    /// Creates view data.
    public init(
        rows: [ExitRow], selectedRow: ExitRow?, detail: ExitDetail?, rawLines: [RawLine], rate: [RateBucket],
        bookmarkRows: [ExitRow], summary: ReasonSummary? = nil, factsFiles: [FactsFileUse] = []
    ) {
        self.rows = rows
        self.selectedRow = selectedRow
        self.detail = detail
        self.rawLines = rawLines
        self.rate = rate
        self.bookmarkRows = bookmarkRows
        self.summary = summary
        self.factsFiles = factsFiles
    }

    /// Nothing loaded.
    public static let empty = ViewData(rows: [], selectedRow: nil, detail: nil, rawLines: [], rate: [], bookmarkRows: [])
}
