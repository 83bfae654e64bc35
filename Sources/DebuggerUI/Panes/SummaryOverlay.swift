/// The per-reason summary: the `svmdbg stats` exit table (count, share, Time%, mean, min,
/// max, stddev of the exit-to-entry times) by level and reason, sortable; Enter shows a row's exits.
public enum SummaryOverlay {
    /// The columns, with the sort column marked (`count▼`).
    static func header(_ sort: SummarySort, glyphs: GlyphSet) -> String {
        func name(_ column: SummarySort.Column, _ text: String) -> String {
            guard sort.column == column else { return text }
            let arrow = glyphs == .ascii ? (sort.descending ? "v" : "^") : (sort.descending ? "▼" : "▲")
            return text + arrow
        }
        return Columns.fit("level", 8) + Columns.fit(name(.reason, "reason"), 14)
            + [(.count, "count", 9), (.time, "Time%", 8), (.mean, "mean", 9), (.minimum, "min", 9), (.maximum, "max", 9),
               (.stddev, "stddev", 9)].map { (column: SummarySort.Column, text: String, width: Int) in
                Columns.fit(name(column, text), width, alignRight: true)
            }.joined() + "  share"
    }

    /// One row as text.
    static func line(_ row: ReasonSummary.Row, in summary: ReasonSummary) -> String {
        let share = summary.totalExits == 0 ? 0 : Double(row.count) * 100 / Double(summary.totalExits)
        return Columns.fit(row.level, 8) + Columns.fit(row.reason, 14)
            + Columns.fit(String(row.count), 9, alignRight: true)
            + Columns.fit(percent(summary.timePercent(row)), 8, alignRight: true)
            + Columns.fit(summary.format(row.mean), 9, alignRight: true)
            + Columns.fit(summary.format(row.minimum.map(Double.init)), 9, alignRight: true)
            + Columns.fit(summary.format(row.maximum.map(Double.init)), 9, alignRight: true)
            + Columns.fit(summary.format(row.standardDeviation), 9, alignRight: true)
            + "  " + percent(share) + (row.timed < row.count ? "  (\(row.count - row.timed) untimed)" : "")
    }

    private static func percent(_ value: Double) -> String {
        let tenths = (value * 100).rounded() / 100
        return "\(tenths)%"
    }

    /// Draws the overlay.
    public static func render(_ state: AppState, cursor: Int, into screen: inout Screen) {
        let rect = Rect(x: 0, y: 0, width: state.size.columns, height: state.size.rows)
            .centred(width: min(state.size.columns - 2, 100), height: state.size.rows - 2)
        guard rect.width >= 4, rect.height >= 4 else { return }
        Frame.draw(title: "Exits by reason (s sorts, r reverses, Enter shows them, Esc closes)", in: rect, glyphs: state.glyphs, into: &screen)
        let body = rect.inset(by: 1)
        guard let summary = state.view.summary else {
            screen.write(state.session.progress.isFinished ? "computing the summary…" : "the summary is ready once the replay is",
                         x: body.x, y: body.y, style: .dim, clip: body)
            return
        }
        let unit = summary.isNanoseconds ? "times from kvm_exit to kvm_entry" : "times in counter ticks, kvm_exit to kvm_entry"
        screen.write("\(summary.totalExits) exits; \(unit)", x: body.x, y: body.y, style: .dim, clip: body)
        screen.fill(Rect(x: body.x, y: body.y + 1, width: body.width, height: 1), style: .header)
        screen.write(header(state.summarySort, glyphs: state.glyphs), x: body.x, y: body.y + 1, style: .header, clip: body)
        let rowsRect = body.droppingTop(2)
        let rows = summary.sorted(state.summarySort)
        let top = max(0, cursor - rowsRect.height + 1)
        for (i, index) in (top..<rows.count).prefix(rowsRect.height).enumerated() {
            let style: Style = index == cursor ? .selected : .plain
            let lineRect = Rect(x: rowsRect.x, y: rowsRect.y + i, width: rowsRect.width, height: 1)
            screen.fill(lineRect, style: style)
            screen.write(line(rows[index], in: summary), x: rowsRect.x, y: rowsRect.y + i, style: style, clip: lineRect)
        }
    }
}
