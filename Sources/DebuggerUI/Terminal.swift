/// Something that happened at the terminal.
public enum TerminalEvent: Sendable, Hashable {
    /// A key press.
    case key(Key)
    /// The terminal changed size.
    case resized(Size)
    /// SIGINT or SIGTERM arrived (or, for a scripted terminal, the script ran out).
    case interrupted
}

/// A place to show frames and read keys from: curses in the product, a script in tests.
///
/// Terminals are driven from one thread (curses is not thread-safe), hence `@MainActor`.
@MainActor
public protocol Terminal: AnyObject {
    /// The current size in cells.
    var size: Size { get }
    /// The glyphs this terminal can show (chosen from its locale).
    var glyphs: GlyphSet { get }
    /// Shows `screen`, replacing what was shown before.
    func present(_ screen: Screen)
    /// Waits up to `timeout` (forever when nil) for the next event; nil when none came.
    func nextEvent(timeout: Duration?) -> TerminalEvent?
}
