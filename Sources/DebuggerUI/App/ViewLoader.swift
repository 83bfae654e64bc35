import Replay

/// Fetches from the session exactly what the state puts on screen, and answers `locate`
/// effects. Touches only visible rows: cost per frame is a few times the list height.
public enum ViewLoader {
    /// The data on screen for `state`.
    public static func load(_ state: AppState, from session: any DebugSession) -> ViewData {
        let layout = state.layout
        let height = layout.listRows
        let predicate = state.filter.predicate
        var numbers: [ExitNumber] = []
        if let anchor = state.anchor, height > 0 {
            numbers = window(anchor, height: height, predicate: predicate, session)
            if let selected = state.selected, !numbers.contains(selected) {
                let fix: ViewAnchor = (numbers.last.map { selected > $0 } ?? false) ? .bottom(selected) : .top(selected)
                numbers = window(fix, height: height, predicate: predicate, session)
            }
        }
        let rows = numbers.compactMap { session.row($0) }
        let selectedRow = state.selected.flatMap { s in rows.first { $0.number == s } ?? session.row(s) }
        let detail = state.selected.flatMap { session.detail($0) }
        var raw: [RawLine] = []
        if let range = detail?.rawLines {
            let visible = max(0, layout.rawLines.height - 1)
            let start = range.lowerBound + (state.scroll[.rawLines] ?? 0)
            let end = min(range.upperBound, start + visible - 1)
            if visible > 0, start <= end { raw = session.rawLines(start...end) }
        }
        let rate = session.progress.isFinished ? session.rateBuckets(count: RateStrip.bucketCount(for: layout.rateStrip)) : []
        var bookmarkRows: [ExitRow] = []
        if case .bookmarks = state.overlay { bookmarkRows = state.bookmarks.compactMap { session.row($0) } }
        var summary: ReasonSummary?
        if case .summary = state.overlay { summary = session.reasonSummary() }
        var factsFiles: [FactsFileUse] = []
        if case .facts = state.overlay { factsFiles = session.factsFiles() }
        return ViewData(rows: rows, selectedRow: selectedRow, detail: detail, rawLines: raw, rate: rate, bookmarkRows: bookmarkRows,
                        summary: summary, factsFiles: factsFiles)
    }

    /// Answers a `locate` effect: the `steps`-th match, or the last one found.
    public static func locate(_ request: LocateRequest, in session: any DebugSession) -> ExitNumber? {
        var current = request.after
        var found: ExitNumber?
        for _ in 0..<max(1, request.steps) {
            guard let next = session.nextExit(matching: request.predicate, after: current, direction: request.direction) else { break }
            found = next
            current = next
        }
        return found
    }

    /// The exit numbers of a list window of `height` rows pinned at `anchor`; near either
    /// end of the list the window is filled from the other side.
    static func window(_ anchor: ViewAnchor, height: Int, predicate: ExitPredicate, _ session: any DebugSession) -> [ExitNumber] {
        var numbers: [ExitNumber] = []
        switch anchor {
        case .top(let top):
            let before = top.rawValue == 0 ? nil : ExitNumber(top.rawValue - 1)
            guard let first = session.nextExit(matching: predicate, after: before, direction: .forward)
                ?? session.nextExit(matching: predicate, after: nil, direction: .backward)
            else { return [] }
            numbers = [first]
            while numbers.count < height, let next = session.nextExit(matching: predicate, after: numbers.last, direction: .forward) {
                numbers.append(next)
            }
            while numbers.count < height, let previous = session.nextExit(matching: predicate, after: numbers.first, direction: .backward) {
                numbers.insert(previous, at: 0)
            }
        case .bottom(let bottom):
            guard let last = session.nextExit(matching: predicate, after: ExitNumber(bottom.rawValue + 1), direction: .backward)
                ?? session.nextExit(matching: predicate, after: nil, direction: .forward)
            else { return [] }
            numbers = [last]
            while numbers.count < height, let previous = session.nextExit(matching: predicate, after: numbers.first, direction: .backward) {
                numbers.insert(previous, at: 0)
            }
            while numbers.count < height, let next = session.nextExit(matching: predicate, after: numbers.last, direction: .forward) {
                numbers.append(next)
            }
        }
        return numbers
    }
}
