/// The exit list: a column header and one row per visible exit, the selection highlighted.
///
/// Mismatching rows are coloured *and* carry the mismatch mark in the first column, so
/// they still stand out with `NO_COLOR` or on a monochrome terminal.
public enum ExitListPane {
    /// Column widths for a list of `width` columns.
    struct ColumnWidths {
        var number: Int
        var time: Int
        var summary: Int
        var code: Int
        /// The exit-to-entry latency column (0 when it does not fit).
        var latency: Int
        static let vcpu = 4, level = 3, reason = 10, outcome = 6

        /// Widths for a list `width` columns wide. On narrow terminals the detail column
        /// goes first, then the exit code, then the timestamp.
        init(width: Int, exitCount: Int, timeWidth: Int) {
            number = max(4, String(max(0, exitCount - 1)).count + 1)
            time = timeWidth
            code = 6
            latency = 8
            let rest = 3 + number + 1 + Self.vcpu + Self.level + 1 + Self.reason + 1 + 2 * (Self.outcome + 1)
            summary = width - (rest + time + 1 + code + 1 + latency)
            if summary < 16 {
                // The latency goes first on narrow terminals (the detail keeps 16 columns).
                latency = 0
                summary = width - (rest + time + 1 + code + 1)
            }
            if summary < 6 {
                summary = 0
                if width - (rest + time + 1) < code + 1 { code = 0 }
                if width - rest < time + 1 + (code > 0 ? code + 1 : 0) { time = 0 }
                let left = width - (rest + (time > 0 ? time + 1 : 0) + (code > 0 ? code : 0))
                summary = left >= 6 ? left : 0
            }
        }
    }

    /// Draws the list.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        let rows = state.view.rows
        let timeWidth = rows.map { $0.timestamp.description.count }.max() ?? 9

        let columns = ColumnWidths(width: rect.width, exitCount: state.session.exitCount, timeWidth: timeWidth)
        let focused = state.focus == .exitList && state.overlay == .none
        screen.fill(rect.top(1), style: focused ? .focusedHeader : .header)
        screen.write(header(columns), x: rect.x, y: rect.y, style: focused ? .focusedHeader : .header, clip: rect)
        let body = rect.droppingTop(1)
        guard !rows.isEmpty else {
            screen.write(emptyText(state), x: body.x + 1, y: body.y, style: .dim, clip: body)
            return
        }
        let laneVCPU = state.view.selectedRow?.vcpu
        let showsLanes = laneVCPU != nil && Set(rows.map(\.vcpu)).count > 1
        let vcpuColumn = 3 + columns.number + 1 + (columns.time > 0 ? columns.time + 1 : 0)
        for (i, row) in rows.prefix(body.height).enumerated() {
            let y = body.y + i
            let isSelected = row.number == state.selected
            let bookmarked = state.bookmarks.contains(row.number)
            let style = rowStyle(row.verdict, selected: isSelected)
            screen.fill(Rect(x: body.x, y: y, width: body.width, height: 1), style: style)
            screen.write(text(of: row, columns, bookmarked: bookmarked, glyphs: state.glyphs), x: body.x, y: y, style: style, clip: body)
            if !isSelected, row.verdict == .match || row.verdict == .consistent {
                screen.restyle(Rect(x: body.x, y: y, width: 1, height: 1), style: .match)
            }
            // vCPU lanes: with several vCPUs on screen, the selected exit's vCPU stands out and
            // the others' cpu cells are dim.
            if !isSelected, showsLanes, row.vcpu != laneVCPU {
                screen.restyle(Rect(x: body.x + vcpuColumn, y: y, width: ColumnWidths.vcpu, height: 1), style: .dim)
            }
        }
    }

    static func header(_ c: ColumnWidths) -> String {
        cells(c, mark: "  ", number: "exit", time: "time", vcpu: "cpu", level: "lv", reason: "reason", code: "code",
              latency: "latency", summary: "detail", model: "model", trace: "trace")
    }

    static func text(of row: ExitRow, _ c: ColumnWidths, bookmarked: Bool, glyphs: GlyphSet) -> String {
        let mark = String(glyphs.mark(for: row.verdict)) + (bookmarked ? String(glyphs.bookmark) : " ")
        let code = "0x" + ColumnWidths.fitted(String(row.exitCode, radix: 16), 3, right: true, pad: "0")
        return cells(c, mark: mark, number: "#\(row.number.rawValue)", time: row.timestamp.description,
                     vcpu: row.vcpu.map(String.init) ?? "?", level: row.level?.description ?? "?", reason: row.reason, code: code,
                     latency: row.latency.short, summary: row.summary, model: row.modelOutcome, trace: row.recordedOutcome)
    }

    // swiftlint:disable:next function_parameter_count
    private static func cells(
        _ c: ColumnWidths, mark: String, number: String, time: String, vcpu: String, level: String, reason: String,
        code: String, latency: String, summary: String, model: String, trace: String
    ) -> String {
        var s = mark + " " + ColumnWidths.fitted(number, c.number, right: true) + " "
        if c.time > 0 { s += ColumnWidths.fitted(time, c.time, right: true) + " " }
        s += ColumnWidths.fitted(vcpu, ColumnWidths.vcpu, right: true) + " " + ColumnWidths.fitted(level, ColumnWidths.level - 1)
        s += " " + ColumnWidths.fitted(reason, ColumnWidths.reason) + " "
        if c.code > 0 { s += ColumnWidths.fitted(code, c.code - 1) + " " }
        if c.latency > 0 { s += ColumnWidths.fitted(latency, c.latency - 1, right: true) + " " }
        if c.summary > 0 { s += ColumnWidths.fitted(summary, c.summary - 1) + " " }
        return s + ColumnWidths.fitted(model, ColumnWidths.outcome) + " " + ColumnWidths.fitted(trace, ColumnWidths.outcome)
    }

    static func rowStyle(_ verdict: ExitVerdict, selected: Bool) -> Style {
        switch (verdict, selected) {
        case (.mismatch, true): .selectedMismatch
        case (_, true): .selected
        case (.mismatch, false): .mismatch
        case (.undetermined, false): .undetermined
        case (.notModelled, false): .notModelled
        case (.match, false), (.consistent, false): .plain
        }
    }

    static func emptyText(_ state: AppState) -> String {
        if state.session.exitCount == 0 {
            if let live = state.session.live {
                return live.isFollowing ? "following: no exit yet (\(live.lines) lines read)" : "no exits: the input ended"
            }
            return state.session.progress.isFinished ? "no exits in this trace" : "indexing… no exits yet"
        }
        return "no exit passes the filter (\(state.filter)); F clears it"
    }
}

extension ExitListPane.ColumnWidths {
    /// `text` fitted to `width` columns (padding with `pad`).
    static func fitted(_ text: String, _ width: Int, right: Bool = false, pad: Character = " ") -> String {
        let fitted = Columns.fit(text, width, alignRight: right)
        guard pad != " " else { return fitted }
        let body = fitted.drop(while: { $0 == " " })
        return String(repeating: pad, count: fitted.count - body.count) + body
    }
}
