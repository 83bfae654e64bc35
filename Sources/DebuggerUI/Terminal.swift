/// Something that happened at the terminal.
public enum TerminalEvent: Sendable, Hashable {
    /// A key press.
    case key(Key)
    /// The terminal changed size.
    case resized(Size)
    /// A mouse click or wheel turn (when the terminal reports the mouse).
    case mouse(MouseEvent)
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
    /// Waits up to `timeout` (forever when nil) for the next event; nil when none came or
    /// when `wakeUp` was called (since the last return) from any thread.
    func nextEvent(timeout: Duration?) -> TerminalEvent?
    /// Makes the current or the next `nextEvent` return at once, from any thread. The session
    /// calls it when its data changes, so the loop never sleeps on stale data: a call that
    /// comes while the loop is busy is kept (level-triggered) until `nextEvent` returns.
    nonisolated var wakeUp: @Sendable () -> Void { get }
}

extension Terminal {
    /// A terminal whose `nextEvent` never blocks needs no wake-up (test terminals).
    public nonisolated var wakeUp: @Sendable () -> Void { {} }
}
