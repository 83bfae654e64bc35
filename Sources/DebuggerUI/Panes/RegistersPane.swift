/// Registers and other values known at the selected exit, each with its provenance;
/// unknown values say so.
public enum RegistersPane {
    /// The pane's content lines at `width`.
    public static func lines(for state: AppState, width: Int) -> [StyledLine] {
        guard let detail = state.view.detail else { return [] }
        // Names and values are never cut: the columns are as wide as their longest entry
        // (a name longer than a third of the pane gets its value on the next line).
        let nameWidth = min(max(1, width / 3), detail.registers.map { TextWidth.columns(of: $0.name) }.max() ?? 0)
        let valueWidth = max(7, detail.registers.compactMap { $0.value.map { TextWidth.columns(of: $0) } }.max() ?? 0)
        var lines: [StyledLine] = []
        for register in detail.registers {
            let longName = TextWidth.columns(of: register.name) > nameWidth
            let name = Span((longName ? register.name : Columns.fit(register.name, nameWidth)) + " ", .header)
            let value = register.value.map { Span(Columns.fit($0, valueWidth), .plain) }
                ?? Span(Columns.fit("unknown", valueWidth), .dim)
            if longName || StyledLine([name, value]).columns > width {
                // Name, then value and provenance under it, wrapped.
                lines.append(StyledLine([Span(register.name, .header)]))
                let text = (register.value ?? "unknown") + "  " + register.provenance
                for piece in Columns.wrap(text, width: max(1, width - 2)) { lines.append(StyledLine([Span("  "), Span(piece, register.value == nil ? .dim : .plain)])) }
                continue
            }
            let head = StyledLine([name, value])
            if head.columns + 1 + TextWidth.columns(of: register.provenance) <= width {
                lines.append(StyledLine([name, value, Span(" " + register.provenance, .dim)]))
            } else {
                // Provenance on its own line(s), indented under the value.
                lines.append(head)
                let indent = String(repeating: " ", count: min(nameWidth + 1, max(0, width / 3)))
                for piece in Columns.wrap(register.provenance, width: max(1, width - indent.count)) {
                    lines.append(StyledLine([Span(indent), Span(piece, .dim)]))
                }
            }
        }
        return lines
    }

    /// Draws the pane.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        let swap = state.keyMap.primaryKey(for: .swapSidePane).map { " [\($0): VMCB12]" } ?? ""
        screen.drawTitle("Registers" + (state.layout.isCompact ? swap : ""), in: rect, focused: state.focus == .registers, glyphs: state.glyphs)
        let body = rect.droppingTop(1)
        let content = lines(for: state, width: state.lineWidth(body.width))
        if content.isEmpty {
            screen.write("no exit selected", x: body.x, y: body.y, style: .dim, clip: body)
        }
        screen.draw(content, from: state.scroll[.registers] ?? 0, in: body, highlight: state.lastSearch?.query)
    }
}
