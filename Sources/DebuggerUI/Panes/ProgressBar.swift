/// The indexing progress bar: `indexing ████░░░░ 42% 1.2/2.9 MB · 1 234 exits`.
public enum ProgressBar {
    /// Draws the bar.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        let progress = state.session.progress
        let label = "indexing "
        var tail = " \(state.session.exitCount) exits"
        if let total = progress.bytesTotal { tail = " \(bytes(progress.bytesDone))/\(bytes(total))" + tail }
        let percent = progress.fraction.map { " \(Int(($0 * 100).rounded(.down)))%" } ?? ""
        screen.write(label, x: rect.x, y: rect.y, style: .dim, clip: rect)
        let barWidth = max(0, rect.width - label.count - percent.count - tail.count)
        let filled = progress.fraction.map { Int(Double(barWidth) * $0) } ?? 0
        let bar = String(repeating: state.glyphs.barFull, count: filled)
        let rest = String(repeating: state.glyphs.barEmpty, count: barWidth - filled)
        var x = screen.write(bar, x: rect.x + label.count, y: rect.y, style: .bar, clip: rect)
        x = screen.write(rest, x: x, y: rect.y, style: .dim, clip: rect)
        screen.write(percent + tail, x: x, y: rect.y, style: .plain, clip: rect)
    }

    /// `812 B`, `1.2 KB`, `3.4 MB`, `1.0 GB` (powers of 1024).
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(count) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
