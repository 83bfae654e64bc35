/// The status bar: file, position, profile, filter, breakpoints, bookmarks and counts.
public enum StatusBar {
    /// Draws the bar.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        screen.fill(rect, style: .status)
        let info = state.session
        let position = state.selected.map { "\($0)/\(info.exitCount)" } ?? "-/\(info.exitCount)"
        var left = " \(info.traceName)  \(position)  profile \(info.profile)"
        if !state.filter.isEmpty { left += "  filter: \(state.filter)" }
        if !state.breakpoints.isEmpty {
            let list = state.breakpoints.map(\.text).joined(separator: ", ")
            let room = rect.width - TextWidth.columns(of: left) - 40
            left += TextWidth.columns(of: list) + 4 <= room ? "  bp \(list)" : "  bp \(state.breakpoints.count)"
        }
        if !state.bookmarks.isEmpty { left += "  marks \(state.bookmarks.count)" }
        let glyphs = state.glyphs
        let counts = info.counts
        var parts: [(String, Style)] = [
            ("\(glyphs.mismatch)\(counts.mismatch)", counts.mismatch > 0 ? .mismatch : .status),
            ("\(glyphs.undetermined)\(counts.undetermined)", .status),
            ("\(glyphs.notModelled)\(counts.notModelled)", .status),
            ("\(glyphs.match)\(counts.match)", .status),
        ]
        // Matches only consistent with the trace (an input settled by the recorded outcome).
        if counts.consistent > 0 { parts.append(("\(glyphs.consistent)\(counts.consistent)", .status)) }
        let helpKey = state.keyMap.primaryKey(for: .help).map { "  \($0) help " } ?? " "
        let right = parts.map(\.0).joined(separator: " ") + helpKey
        let rightWidth = TextWidth.columns(of: right)
        let leftWidth = max(0, rect.width - rightWidth - 1)
        screen.write(Columns.fit(left, leftWidth), x: rect.x, y: rect.y, style: .status, clip: rect)
        var x = rect.maxX - rightWidth
        guard x > rect.x else { return }
        for (i, part) in parts.enumerated() {
            x = screen.write(part.0, x: x, y: rect.y, style: part.1, clip: rect)
            if i < parts.count - 1 { x = screen.write(" ", x: x, y: rect.y, style: .status, clip: rect) }
        }
        screen.write(helpKey, x: x, y: rect.y, style: .status, clip: rect)
    }
}
