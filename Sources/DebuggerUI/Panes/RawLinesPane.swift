/// The raw trace lines of the selected exit, from its `kvm_exit` to the next `kvm_entry`,
/// with line numbers; long lines wrap; search hits are highlighted. The compact layout
/// squeezes runs of blanks (the ftrace columns) to fit more of each event.
public enum RawLinesPane {
    /// Draws the pane.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        var title = "Trace lines"
        if let range = state.view.detail?.rawLines {
            title = "Trace lines \(range.lowerBound)-\(range.upperBound)"
        }
        screen.drawTitle(title, in: rect, focused: state.focus == .rawLines, glyphs: state.glyphs)
        let body = rect.droppingTop(1)
        guard !body.isEmpty else { return }
        let numberWidth = max(4, String(state.view.rawLines.last?.number ?? 0).count)
        let textWidth = max(1, body.width - numberWidth - 1)
        let regex = state.lastSearch.flatMap { SearchHighlight.regex($0.query) }
        var y = body.y
        let others = state.view.detail?.otherThreadLines ?? []
        for line in state.view.rawLines {
            guard y < body.maxY else { break }
            screen.write(Columns.fit(String(line.number), numberWidth, alignRight: true), x: body.x, y: y, style: .dim, clip: body)
            let text = displayText(line.text, compact: state.layout.isCompact)
            // Other vCPUs' (threads') lines are dim; with wrapping off each line is cut at the edge.
            let base: Style = others.contains(line.number) ? .dim : .plain
            let pieces = state.wrapsLines ? Columns.wrap(text, width: textWidth) : [Columns.fit(text, textWidth)]
            var hits: [Range<String.Index>] = []
            if let regex { hits = text.ranges(of: regex) }
            var consumed = 0
            for piece in pieces {
                guard y < body.maxY else { break }
                let x0 = body.x + numberWidth + 1
                var x = x0
                for (offset, character) in piece.enumerated() {
                    let index = text.index(text.startIndex, offsetBy: min(text.count, consumed + offset))
                    let hit = hits.contains { $0.contains(index) }
                    x = screen.write(String(character), x: x, y: y, style: hit ? .highlight : base, clip: body)
                }
                consumed += piece.count + 1
                y += 1
            }
        }
    }

    /// The line without leading blanks; in the compact layout runs of blanks shrink to one
    /// so more of the event fits.
    static func displayText(_ raw: String, compact: Bool) -> String {
        let trimmed = raw.drop(while: { $0 == " " })
        guard compact else { return String(trimmed) }
        var out = ""
        var previousBlank = false
        for c in trimmed {
            if c == " ", previousBlank { continue }
            previousBlank = c == " "
            out.append(c)
        }
        return out
    }
}
