/// The bookmark list overlay.
public enum BookmarksOverlay {
    /// Draws the overlay.
    public static func render(_ state: AppState, cursor: Int, into screen: inout Screen) {
        let height = min(state.size.rows - 2, state.bookmarks.count + 2)
        let rect = Rect(x: 0, y: 0, width: state.size.columns, height: state.size.rows)
            .centred(width: min(state.size.columns - 2, state.notes.isEmpty ? 72 : 110), height: max(3, height))
        guard rect.width >= 4, rect.height >= 3 else { return }
        Frame.draw(title: "Bookmarks (Enter jumps, a notes, d deletes)", in: rect, glyphs: state.glyphs, into: &screen)
        let body = rect.inset(by: 1)
        let top = max(0, cursor - body.height + 1)
        for (row, index) in (top..<state.bookmarks.count).prefix(body.height).enumerated() {
            let exit = state.bookmarks[index]
            var text = "\(exit)"
            var verdict: ExitVerdict?
            if let r = state.view.bookmarkRows.first(where: { $0.number == exit }) {
                let number = Columns.fit("\(exit)", String(state.session.exitCount).count + 1)
                text = "\(state.glyphs.mark(for: r.verdict)) \(number)  \(r.timestamp)  vcpu \(r.vcpu.map(String.init) ?? "?")  \(Columns.fit(r.reason, 8)) \(r.summary)"
                verdict = r.verdict
            }
            if let note = state.notes[exit] { text += "  \u{2014} " + note }
            let style: Style = index == cursor ? (verdict == .mismatch ? .selectedMismatch : .selected) : (verdict == .mismatch ? .mismatch : .plain)
            let line = Rect(x: body.x, y: body.y + row, width: body.width, height: 1)
            screen.fill(line, style: style)
            screen.write(text, x: body.x, y: body.y + row, style: style, clip: line)
        }
    }
}
