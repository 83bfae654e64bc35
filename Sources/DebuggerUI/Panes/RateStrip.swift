/// One row showing exits per time slice over the whole trace, mismatches marked, the
/// selected exit's slice highlighted; while indexing, the progress bar takes its place.
public enum RateStrip {
    /// The label in front of the strip.
    static let label = "rate "

    /// Slices the strip has room for in `rect`.
    public static func bucketCount(for rect: Rect) -> Int { max(0, rect.width - label.count) }

    /// Draws the strip or, while indexing, the progress bar.
    public static func render(_ state: AppState, in rect: Rect, into screen: inout Screen) {
        guard !rect.isEmpty else { return }
        if !state.session.progress.isFinished {
            ProgressBar.render(state, in: rect, into: &screen)
            return
        }
        screen.write(label, x: rect.x, y: rect.y, style: .dim, clip: rect)
        let buckets = state.view.rate
        let peak = buckets.map(\.exits).max() ?? 0
        let levels = state.glyphs.levels
        let selectedSlice = state.selected.flatMap { s in buckets.lastIndex { ($0.firstExit ?? ExitNumber(Int.max)) <= s } }
        for (i, bucket) in buckets.prefix(bucketCount(for: rect)).enumerated() {
            let x = rect.x + label.count + i
            var character = levels[0]
            var style = Style.bar
            if bucket.mismatches > 0 {
                character = state.glyphs.stripMismatch
                style = .mismatch
            } else if bucket.exits > 0, bucket.consistent == bucket.exits {
                // Every exit of the slice matched only by an input the trace settled.
                character = state.glyphs.consistent
            } else if bucket.exits > 0, peak > 0 {
                let level = max(1, (bucket.exits * (levels.count - 1) + peak - 1) / peak)
                character = levels[min(levels.count - 1, level)]
            }
            if i == selectedSlice { style = bucket.mismatches > 0 ? .selectedMismatch : .selected }
            screen.write(String(character), x: x, y: rect.y, style: style, clip: rect)
        }
    }
}
