/// A run of text in one style.
public struct Span: Sendable, Hashable {
    /// The text.
    public var text: String
    /// Its style.
    public var style: Style

    /// Creates a span.
    public init(_ text: String, _ style: Style = .plain) {
        self.text = text
        self.style = style
    }
}

/// One line of pane content made of styled spans; panes build these, then draw them.
public struct StyledLine: Sendable, Hashable {
    /// The spans, left to right.
    public var spans: [Span]

    /// Creates a line from spans.
    public init(_ spans: [Span]) { self.spans = spans }

    /// A line of one span.
    public init(_ text: String, _ style: Style = .plain) { self.spans = [Span(text, style)] }

    /// Width in columns.
    public var columns: Int { spans.reduce(0) { $0 + TextWidth.columns(of: $1.text) } }

    /// The plain text.
    public var text: String { spans.map(\.text).joined() }
}

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

/// Text helpers for fixed-width columns.
public enum Columns {
    /// `text` cut or padded with spaces to exactly `width` columns.
    public static func fit(_ text: String, _ width: Int, alignRight: Bool = false) -> String {
        guard width > 0 else { return "" }
        var out = ""
        var used = 0
        for c in text {
            let w = TextWidth.columns(of: c)
            if used + w > width { break }
            out.append(c)
            used += w
        }
        let pad = String(repeating: " ", count: width - used)
        return alignRight ? pad + out : out + pad
    }

    /// Splits `text` into lines of at most `width` columns, breaking at spaces where possible.
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        var current = ""
        var used = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            let w = TextWidth.columns(of: word)
            if used > 0, used + 1 + w > width {
                lines.append(current)
                current = ""
                used = 0
            }
            if used > 0 {
                current += " "
                used += 1
            }
            var piece = Substring(word)
            while TextWidth.columns(of: piece) > width - used, width - used > 0 {
                let head = fit(String(piece), width - used)
                let taken = head.count - head.reversed().prefix(while: { $0 == " " }).count
                guard taken > 0 else { break }
                lines.append(current + piece.prefix(taken))
                piece = piece.dropFirst(taken)
                current = ""
                used = 0
            }
            current += piece
            used += TextWidth.columns(of: piece)
        }
        lines.append(current)
        return lines
    }
}
