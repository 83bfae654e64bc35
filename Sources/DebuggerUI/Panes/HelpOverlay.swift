/// The `?` overlay: every key binding of every scope, straight from the key table.
public enum HelpOverlay {
    /// The overlay's box for a screen of `size`.
    static func box(_ size: Size) -> Rect {
        Rect(x: 0, y: 0, width: size.columns, height: size.rows).centred(width: min(size.columns - 2, 78), height: size.rows - 2)
    }

    /// The overlay's content lines.
    public static func lines(for state: AppState) -> [StyledLine] {
        let width = max(10, box(state.size).width - 2)
        let keyWidth = 18
        var lines: [StyledLine] = []
        for scope in KeyScope.allCases {
            let bindings = state.keyMap.bindings(in: scope)
            guard !bindings.isEmpty else { continue }
            if !lines.isEmpty { lines.append(StyledLine("")) }
            lines.append(StyledLine(scope.title, .header))
            for binding in bindings {
                let keys = binding.keys.map(\.description).joined(separator: " ")
                lines.append(StyledLine([Span(" " + Columns.fit(keys, keyWidth - 1), .key), Span(binding.help)]))
            }
        }
        let g = state.glyphs
        lines.append(StyledLine(""))
        lines.append(StyledLine("Marks", .header))
        let notes = [
            "\(g.match) match  \(g.mismatch) mismatch  \(g.undetermined) undetermined  \(g.notModelled) not modelled  \(g.bookmark) bookmark",
            "Search is a regex over raw lines and decoded fields, smart case (a capital letter makes it case-sensitive). ? is help, so \\ searches backward.",
        ]
        for note in notes {
            for piece in Columns.wrap(note, width: width - 1) { lines.append(StyledLine(" " + piece)) }
        }
        return lines
    }

    /// The largest useful scroll offset.
    public static func maxScroll(_ state: AppState) -> Int {
        max(0, lines(for: state).count - max(0, box(state.size).height - 2))
    }

    /// Draws the overlay over whatever is on screen.
    public static func render(_ state: AppState, scroll: Int, into screen: inout Screen) {
        let rect = box(state.size)
        guard rect.width >= 4, rect.height >= 3 else { return }
        Frame.draw(title: "Help (Esc closes)", in: rect, glyphs: state.glyphs, into: &screen)
        screen.draw(lines(for: state), from: scroll, in: rect.inset(by: 1))
    }
}

/// The bookmark list overlay.
public enum BookmarksOverlay {
    /// Draws the overlay.
    public static func render(_ state: AppState, cursor: Int, into screen: inout Screen) {
        let height = min(state.size.rows - 2, state.bookmarks.count + 2)
        let rect = Rect(x: 0, y: 0, width: state.size.columns, height: state.size.rows)
            .centred(width: min(state.size.columns - 2, 72), height: max(3, height))
        guard rect.width >= 4, rect.height >= 3 else { return }
        Frame.draw(title: "Bookmarks (Enter jumps, d deletes)", in: rect, glyphs: state.glyphs, into: &screen)
        let body = rect.inset(by: 1)
        let top = max(0, cursor - body.height + 1)
        for (row, index) in (top..<state.bookmarks.count).prefix(body.height).enumerated() {
            let exit = state.bookmarks[index]
            var text = "\(exit)"
            var verdict: ExitVerdict?
            if let r = state.view.bookmarkRows.first(where: { $0.number == exit }) {
                let number = Columns.fit("\(exit)", String(state.session.exitCount).count + 1)
                text = "\(state.glyphs.mark(for: r.verdict)) \(number)  \(TimeText.seconds(r.timestampNanoseconds))  vcpu \(r.vcpu)  \(Columns.fit(r.reason, 8)) \(r.summary)"
                verdict = r.verdict
            }
            let style: Style = index == cursor ? (verdict == .mismatch ? .selectedMismatch : .selected) : (verdict == .mismatch ? .mismatch : .plain)
            let line = Rect(x: body.x, y: body.y + row, width: body.width, height: 1)
            screen.fill(line, style: style)
            screen.write(text, x: body.x, y: body.y + row, style: style, clip: line)
        }
    }
}

/// A bordered box with a title, cleared inside.
enum Frame {
    static func draw(title: String, in rect: Rect, glyphs: GlyphSet, into screen: inout Screen) {
        screen.fill(rect)
        let c = glyphs.corners
        screen.fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: 1), with: glyphs.horizontal, style: .header)
        screen.fill(Rect(x: rect.x, y: rect.maxY - 1, width: rect.width, height: 1), with: glyphs.horizontal, style: .header)
        screen.fill(Rect(x: rect.x, y: rect.y, width: 1, height: rect.height), with: glyphs.vertical, style: .header)
        screen.fill(Rect(x: rect.maxX - 1, y: rect.y, width: 1, height: rect.height), with: glyphs.vertical, style: .header)
        screen.write(String(c[0]), x: rect.x, y: rect.y, style: .header)
        screen.write(String(c[1]), x: rect.maxX - 1, y: rect.y, style: .header)
        screen.write(String(c[2]), x: rect.x, y: rect.maxY - 1, style: .header)
        screen.write(String(c[3]), x: rect.maxX - 1, y: rect.maxY - 1, style: .header)
        screen.write(" \(title) ", x: rect.x + 2, y: rect.y, style: .focusedHeader, clip: rect.inset(by: 0).droppingLeft(1).left(rect.width - 2))
    }
}
