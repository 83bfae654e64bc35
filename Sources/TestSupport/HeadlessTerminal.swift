import DebuggerUI

/// A terminal without a TTY: plays a script of events and keeps every presented frame.
///
/// When the script runs out it reports `.interrupted`, the way a closed input ends a real
/// session, so `DebuggerApp.run()` always returns.
@MainActor
package final class HeadlessTerminal: Terminal {
    /// The current size (changed by scripted resizes).
    package private(set) var size: Size
    /// The glyph set the test chose.
    package let glyphs: GlyphSet
    /// Every frame presented, oldest first.
    package private(set) var frames: [Screen] = []
    private var script: [TerminalEvent]

    /// A terminal of `size` that will deliver `script` in order.
    package init(size: Size, glyphs: GlyphSet = .unicode, script: [TerminalEvent] = []) {
        self.size = size
        self.glyphs = glyphs
        self.script = script
    }

    /// Appends events to the script.
    package func enqueue(_ events: [TerminalEvent]) { script.append(contentsOf: events) }

    /// Records the frame.
    package func present(_ screen: Screen) { frames.append(screen) }

    /// The next scripted event (a resize also changes `size`), or `.interrupted` at the end.
    package func nextEvent(timeout: Duration?) -> TerminalEvent? {
        guard !script.isEmpty else { return .interrupted }
        let event = script.removeFirst()
        if case .resized(let newSize) = event { size = newSize }
        return event
    }

    /// The last frame presented.
    package var lastFrame: Screen? { frames.last }
}
