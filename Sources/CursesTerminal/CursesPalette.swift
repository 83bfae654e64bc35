import CNCursesW
import DebuggerUI

/// Maps `Style` roles to curses attributes and colour pairs.
///
/// Without colour (`NO_COLOR`, monochrome terminals) roles still differ by attribute
/// (reverse, bold, dim, underline); verdicts also carry their marks in the text.
struct CursesPalette: Sendable {
    /// Whether colour pairs are used.
    let colour: Bool

    /// Colour pair numbers, one per coloured role; 0 is the terminal's default.
    private enum Pair: Int16, CaseIterable {
        case red = 1, green, yellow, cyan, highlight, selectedRed
    }

    /// Defines the colour pairs (after `start_color`).
    func install() {
        guard colour else { return }
        let background = Int16(-1)  // the terminal's own background (use_default_colors)
        for pair in Pair.allCases {
            switch pair {
            case .red: init_pair(pair.rawValue, Int16(COLOR_RED), background)
            case .green: init_pair(pair.rawValue, Int16(COLOR_GREEN), background)
            case .yellow: init_pair(pair.rawValue, Int16(COLOR_YELLOW), background)
            case .cyan: init_pair(pair.rawValue, Int16(COLOR_CYAN), background)
            case .highlight: init_pair(pair.rawValue, Int16(COLOR_BLACK), Int16(COLOR_YELLOW))
            case .selectedRed: init_pair(pair.rawValue, Int16(COLOR_WHITE), Int16(COLOR_RED))
            }
        }
    }

    /// The attribute bits and colour pair for a role.
    func attributes(for style: Style) -> (Int32, Int16) {
        let bold = cn_a_bold(), reverse = cn_a_reverse(), dim = cn_a_dim(), underline = cn_a_underline()
        let normal = cn_a_normal()
        guard colour else {
            switch style {
            case .plain, .match: return (normal, 0)
            case .header, .key, .prompt: return (bold, 0)
            case .focusedHeader: return (bold | underline, 0)
            case .selected, .status, .highlight: return (reverse, 0)
            case .mismatch, .error: return (bold | underline, 0)
            case .selectedMismatch: return (reverse | bold | underline, 0)
            case .undetermined: return (underline, 0)
            case .notModelled, .dim: return (dim, 0)
            case .bar: return (bold, 0)
            }
        }
        switch style {
        case .plain: return (normal, 0)
        case .header: return (bold, 0)
        case .focusedHeader: return (bold, Pair.cyan.rawValue)
        case .selected, .status: return (reverse, 0)
        case .mismatch, .error: return (bold, Pair.red.rawValue)
        case .selectedMismatch: return (bold, Pair.selectedRed.rawValue)
        case .undetermined: return (normal, Pair.yellow.rawValue)
        case .notModelled, .dim: return (dim, 0)
        case .match: return (normal, Pair.green.rawValue)
        case .key: return (bold, Pair.cyan.rawValue)
        case .prompt: return (bold, 0)
        case .bar: return (normal, Pair.cyan.rawValue)
        case .highlight: return (normal, Pair.highlight.rawValue)
        }
    }
}
