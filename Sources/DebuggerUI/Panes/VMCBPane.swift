/// L1's VMCB12 control area as reconstructed at the selected exit, decoded.
public enum VMCBPane {
    /// The pane's content lines at `width`.
    public static func lines(for state: AppState, width: Int) -> [StyledLine] {
        guard let detail = state.view.detail else { return [] }
        var lines: [StyledLine] = []
        // As wide as the longest field name (never cut), up to half the pane; a longer name
        // gets its value on the next line.
        let nameWidth = min(max(1, width / 2), detail.vmcb.flatMap(\.fields).map { TextWidth.columns(of: $0.name) }.max() ?? 0)
        for section in detail.vmcb {
            lines.append(StyledLine(section.title, .header))
            for field in section.fields {
                let raw = field.raw.map { Span($0, .plain) } ?? Span("unknown", .dim)
                if TextWidth.columns(of: field.name) > nameWidth {
                    lines.append(StyledLine([Span(" " + field.name, .dim)]))
                    for piece in Columns.wrap((field.raw ?? "unknown") + " " + field.decoded, width: max(1, width - 2)) {
                        lines.append(StyledLine("  " + piece))
                    }
                    continue
                }
                let head = [Span(" " + Columns.fit(field.name, nameWidth) + " ", .dim), raw]
                let headWidth = StyledLine(head).columns
                if field.decoded.isEmpty {
                    lines.append(StyledLine(head))
                } else if headWidth + 1 + TextWidth.columns(of: field.decoded) <= width {
                    lines.append(StyledLine(head + [Span(" " + field.decoded)]))
                } else {
                    lines.append(StyledLine(head))
                    let indent = String(repeating: " ", count: 2)
                    for piece in Columns.wrap(field.decoded, width: max(1, width - indent.count)) {
                        lines.append(StyledLine(indent + piece))
                    }
                }
            }
        }
        return lines
    }

    /// Draws the pane.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        let swap = state.keyMap.primaryKey(for: .swapSidePane).map { " [\($0): registers]" } ?? ""
        screen.drawTitle("VMCB12 (L1's view)" + (state.layout.isCompact ? swap : ""), in: rect, focused: state.focus == .vmcb, glyphs: state.glyphs)
        let body = rect.droppingTop(1)
        screen.draw(lines(for: state, width: state.lineWidth(body.width)), from: state.scroll[.vmcb] ?? 0, in: body, highlight: state.lastSearch?.query)
    }
}
