/// The characters used for marks, lines and bars: Unicode on UTF-8 terminals, ASCII otherwise.
///
/// Verdict marks carry meaning on their own (they survive `NO_COLOR` and monochrome
/// terminals); colour only reinforces them. Every glyph is one column wide.
public struct GlyphSet: Sendable, Hashable {
    /// Mark for a matching exit.
    public var match: Character
    /// Mark for an exit that matches only because the recorded outcome settled an input.
    public var consistent: Character
    /// Mark for a mismatching exit.
    public var mismatch: Character
    /// Mark for an undetermined exit.
    public var undetermined: Character
    /// Mark for an exit the model does not cover.
    public var notModelled: Character
    /// Vertical separator between panes.
    public var vertical: Character
    /// Horizontal rule in pane titles.
    public var horizontal: Character
    /// Filled part of a progress bar.
    public var barFull: Character
    /// Empty part of a progress bar.
    public var barEmpty: Character
    /// Rate strip levels from low to high (index 0 is an empty slice).
    public var levels: [Character]
    /// Marks a rate-strip slice containing a mismatch.
    public var stripMismatch: Character
    /// Marks a bookmarked exit in the list.
    public var bookmark: Character
    /// Marks a step in the decision path (not last / last).
    public var branch: Character
    /// Marks the last step in the decision path.
    public var lastBranch: Character
    /// Marks where the selected exit sits on the rate strip.
    public var cursor: Character
    /// Box corners: top left, top right, bottom left, bottom right.
    public var corners: [Character]

    /// Box-drawing, check marks and block elements, for UTF-8 terminals.
    public static let unicode = GlyphSet(
        match: "✔", consistent: "≈", mismatch: "✘", undetermined: "?", notModelled: "·", vertical: "│", horizontal: "─",
        barFull: "█", barEmpty: "░", levels: [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        stripMismatch: "✘", bookmark: "★", branch: "├", lastBranch: "└", cursor: "▲",
        corners: ["┌", "┐", "└", "┘"])

    /// Plain 7-bit ASCII, for terminals without UTF-8.
    public static let ascii = GlyphSet(
        match: "=", consistent: "~", mismatch: "X", undetermined: "?", notModelled: "-", vertical: "|", horizontal: "-",
        barFull: "#", barEmpty: ".", levels: [" ", ".", ":", "-", "=", "+", "*", "#", "@"],
        stripMismatch: "X", bookmark: "*", branch: "|", lastBranch: "`", cursor: "^",
        corners: ["+", "+", "+", "+"])

    /// The mark for a verdict.
    public func mark(for verdict: ExitVerdict) -> Character {
        switch verdict {
        case .match: match
        case .consistent: consistent
        case .mismatch: mismatch
        case .undetermined: undetermined
        case .notModelled: notModelled
        }
    }
}
