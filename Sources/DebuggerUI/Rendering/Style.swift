/// What a cell means, not how it looks; the terminal maps roles to colours and attributes.
///
/// Each role has a one-letter mask code used in screen snapshots.
public enum Style: Sendable, Hashable, CaseIterable {
    /// Ordinary text.
    case plain
    /// Column headers and pane titles.
    case header
    /// The title of the focused pane.
    case focusedHeader
    /// The selected exit row.
    case selected
    /// A mismatching exit (or the mismatch part of a row, strip or outcome).
    case mismatch
    /// The selected row when it is also a mismatch: both must stay visible.
    case selectedMismatch
    /// An undetermined exit.
    case undetermined
    /// An exit the model does not cover.
    case notModelled
    /// A matching outcome.
    case match
    /// Secondary text: provenance, line numbers, unknown values.
    case dim
    /// A key name in the help overlay or hint.
    case key
    /// The status bar.
    case status
    /// The prompt line's input text.
    case prompt
    /// An error message.
    case error
    /// The filled part of a progress bar or a strip bar.
    case bar
    /// A text-search hit.
    case highlight

    /// The letter for this role in a snapshot's style mask.
    public var maskLetter: Character {
        switch self {
        case .plain: "."
        case .header: "H"
        case .focusedHeader: "F"
        case .selected: "S"
        case .mismatch: "M"
        case .selectedMismatch: "X"
        case .undetermined: "U"
        case .notModelled: "N"
        case .match: "m"
        case .dim: "d"
        case .key: "K"
        case .status: "s"
        case .prompt: "P"
        case .error: "E"
        case .bar: "B"
        case .highlight: "h"
        }
    }

    /// Name of the role, used in the snapshot legend.
    public var name: String {
        switch self {
        case .plain: "plain"
        case .header: "header"
        case .focusedHeader: "focused header"
        case .selected: "selected"
        case .mismatch: "mismatch"
        case .selectedMismatch: "selected mismatch"
        case .undetermined: "undetermined"
        case .notModelled: "not modelled"
        case .match: "match"
        case .dim: "dim"
        case .key: "key"
        case .status: "status"
        case .prompt: "prompt"
        case .error: "error"
        case .bar: "bar"
        case .highlight: "highlight"
        }
    }
}
