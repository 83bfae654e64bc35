/// The breakpoint list, as gdb's `info breakpoints`: number, enabled, hits, condition.
public enum BreakpointsOverlay {
    /// The table's lines (header first).
    public static func lines(for state: AppState) -> [String] {
        let numberWidth = max(3, state.breakpoints.map { String($0.number).count }.max() ?? 0)
        var lines = [Columns.fit("Num", numberWidth) + " Enb Hits  Condition"]
        for b in state.breakpoints {
            lines.append(Columns.fit(String(b.number), numberWidth) + " " + (b.isEnabled ? "y  " : "n  ") + " "
                         + Columns.fit(String(b.hits), 4, alignRight: true) + "  " + b.text)
        }
        return lines
    }

    /// Draws the overlay.
    public static func render(_ state: AppState, cursor: Int, into screen: inout Screen) {
        let table = lines(for: state)
        let widest = table.map { TextWidth.columns(of: $0) }.max() ?? 0
        let height = min(state.size.rows - 2, table.count + 2)
        let rect = Rect(x: 0, y: 0, width: state.size.columns, height: state.size.rows)
            .centred(width: min(state.size.columns - 2, max(64, widest + 2)), height: max(3, height))
        guard rect.width >= 4, rect.height >= 3 else { return }
        Frame.draw(title: "Breakpoints (Space enables/disables, d deletes, b adds)", in: rect, glyphs: state.glyphs, into: &screen)
        let body = rect.inset(by: 1)
        screen.fill(body.top(1), style: .header)
        screen.write(table[0], x: body.x, y: body.y, style: .header, clip: body)
        let rows = body.droppingTop(1)
        let top = max(0, cursor - rows.height + 1)
        for (row, index) in (top..<state.breakpoints.count).prefix(rows.height).enumerated() {
            let style: Style = index == cursor ? .selected : (state.breakpoints[index].isEnabled ? .plain : .dim)
            let line = Rect(x: rows.x, y: rows.y + row, width: rows.width, height: 1)
            screen.fill(line, style: style)
            screen.write(table[index + 1], x: rows.x, y: rows.y + row, style: style, clip: line)
        }
    }
}
