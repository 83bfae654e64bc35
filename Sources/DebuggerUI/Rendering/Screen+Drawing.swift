extension Screen {
    /// Draws `line` at column `x`, row `y`, clipped to `clip`.
    public mutating func draw(_ line: StyledLine, x: Int, y: Int, clip: Rect) {
        var column = x
        for span in line.spans { column = write(span.text, x: column, y: y, style: span.style, clip: clip) }
    }

    /// Draws `lines` from `offset` into `rect`, one per row; text matching `highlight`
    /// (the last search) is restyled as `.highlight`.
    public mutating func draw(_ lines: [StyledLine], from offset: Int, in rect: Rect, highlight: TextQuery? = nil) {
        let regex = highlight.flatMap(SearchHighlight.regex)
        for (row, line) in lines.dropFirst(max(0, offset)).prefix(rect.height).enumerated() {
            draw(line, x: rect.x, y: rect.y + row, clip: rect)
            if let regex { highlightMatches(of: regex, in: line.text, x: rect.x, y: rect.y + row, clip: rect) }
        }
    }

    /// Restyles the cells of `text` (drawn at `x`, `y`) that `regex` matches.
    mutating func highlightMatches(of regex: Regex<AnyRegexOutput>, in text: String, x: Int, y: Int, clip: Rect) {
        for range in text.ranges(of: regex) where !range.isEmpty {
            let start = x + TextWidth.columns(of: text[..<range.lowerBound])
            let width = TextWidth.columns(of: text[range])
            let cells = Rect(x: start, y: y, width: width, height: 1)
            let x0 = max(cells.x, clip.x), x1 = min(cells.maxX, clip.maxX)
            guard y >= clip.y, y < clip.maxY, x0 < x1 else { continue }
            restyle(Rect(x: x0, y: y, width: x1 - x0, height: 1), style: .highlight)
        }
    }

    /// Draws a pane title row: `─ Title ───…`, in the focused style when `focused`.
    public mutating func drawTitle(_ title: String, in rect: Rect, focused: Bool, glyphs: GlyphSet) {
        guard !rect.isEmpty else { return }
        let style: Style = focused ? .focusedHeader : .header
        fill(rect.top(1), with: glyphs.horizontal, style: style)
        write("\(glyphs.horizontal) \(title) ", x: rect.x, y: rect.y, style: style, clip: rect)
    }
}

/// Compiles the last search for highlighting.
enum SearchHighlight {
    /// The query as a regex honouring its case sensitivity, or nil if it does not compile.
    static func regex(_ query: TextQuery) -> Regex<AnyRegexOutput>? {
        guard let regex = try? Regex(query.pattern) else { return nil }
        return query.caseSensitive ? regex : regex.ignoresCase()
    }
}
