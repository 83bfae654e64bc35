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
