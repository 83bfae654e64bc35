/// The status bar: file, position, profile, filter, breakpoints, bookmarks and counts.
public enum StatusBar {
    /// Draws the bar.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        screen.fill(rect, style: .status)
        let info = state.session
        let position = state.selected.map { "\($0)/\(info.exitCount)" } ?? "-/\(info.exitCount)"
        // The position and the profile are never cut: the file name gives way first (down to
        // 8 columns), then the filter, breakpoints and marks.
        var fixed = "  \(position)  profile \(info.profile)"
        // A live trace: `following` while more may come (`ended` once the input closed).
        if let live = info.live { fixed += live.isFollowing ? "  following" : "  ended" }
        var extras = ""
        if !state.filter.isEmpty { extras += "  filter: \(state.filter)" }
        if !state.breakpoints.isEmpty {
            let list = state.breakpoints.map(\.text).joined(separator: ", ")
            let room = rect.width - TextWidth.columns(of: fixed) - 40
            extras += TextWidth.columns(of: list) + 4 <= room ? "  bp \(list)" : "  bp \(state.breakpoints.count)"
        }
        if !state.bookmarks.isEmpty { extras += "  marks \(state.bookmarks.count)" }
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
        let room = leftWidth - 1 - TextWidth.columns(of: fixed)
        let left: String
        if room >= 8 {
            let nameWidth = min(TextWidth.columns(of: info.traceName), max(8, room - TextWidth.columns(of: extras)))
            left = " " + Self.shortened(info.traceName, nameWidth, mark: state.glyphs == .ascii ? "~" : "…") + fixed + Columns.fit(extras, room - nameWidth).trimmingTrailingSpaces
        } else {
            left = " \(info.traceName)\(fixed)\(extras)"
        }
        screen.write(Columns.fit(left, leftWidth), x: rect.x, y: rect.y, style: .status, clip: rect)
        var x = rect.maxX - rightWidth
        guard x > rect.x else { return }
        for (i, part) in parts.enumerated() {
            x = screen.write(part.0, x: x, y: rect.y, style: part.1, clip: rect)
            if i < parts.count - 1 { x = screen.write(" ", x: x, y: rect.y, style: .status, clip: rect) }
        }
        screen.write(helpKey, x: x, y: rect.y, style: .status, clip: rect)
    }

    /// `text` in at most `width` columns, its end kept (`…t-mutated.trace`): file names differ
    /// at their end more often than at their start.
    static func shortened(_ text: String, _ width: Int, mark: String = "…") -> String {
        guard TextWidth.columns(of: text) > width else { return text }
        guard width > 1 else { return Columns.fit(text, width) }
        var tail = ""
        var used = 1
        for c in text.reversed() {
            let w = TextWidth.columns(of: c)
            if used + w > width { break }
            tail.insert(c, at: tail.startIndex)
            used += w
        }
        return mark + tail
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
