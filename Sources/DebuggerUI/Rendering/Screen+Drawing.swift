extension Screen {
    /// Draws `line` at column `x`, row `y`, clipped to `clip`.
    public mutating func draw(_ line: StyledLine, x: Int, y: Int, clip: Rect) {
        var column = x
        for span in line.spans { column = write(span.text, x: column, y: y, style: span.style, clip: clip) }
    }

    /// Draws `lines` from `offset` into `rect`, one per row.
    public mutating func draw(_ lines: [StyledLine], from offset: Int, in rect: Rect) {
        for (row, line) in lines.dropFirst(max(0, offset)).prefix(rect.height).enumerated() {
            draw(line, x: rect.x, y: rect.y + row, clip: rect)
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
