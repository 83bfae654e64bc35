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
            "\(g.match) match (decided from facts)  \(g.consistent) consistent (an input the trace lacks was settled by the recorded outcome: could not disagree)  \(g.mismatch) mismatch  \(g.undetermined) undetermined  \(g.notModelled) not modelled  \(g.bookmark) bookmark",
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
