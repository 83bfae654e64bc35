import CNCursesW
import DebuggerUI
import Dispatch
import Glibc

/// Why the curses terminal could not start.
public enum CursesTerminalError: Error, CustomStringConvertible {
    /// Standard input or output is not a terminal (e.g. redirected to a file).
    case notATerminal
    /// ncurses does not know the terminal type (`newterm` failed).
    case unknownTerminal(String)

    /// A message for the user.
    public var description: String {
        switch self {
        case .notATerminal: "svmdbg's interactive mode needs a terminal on stdin and stdout (use `svmdbg check` for batch use)"
        case .unknownTerminal(let term): "cannot open terminal type '\(term)' (check TERM; try TERM=xterm-256color)"
        }
    }
}

/// The real terminal: ncursesw on stdin/stdout. The only code that calls curses.
///
/// Start it with `open()`, hand it to `DebuggerApp`, and `close()` it when the app
/// returns or throws (`defer`): closing restores the terminal, and is idempotent.
/// SIGINT and SIGTERM are turned into `.interrupted` events so the app quits through
/// its normal path and the terminal is restored. Curses is not thread-safe, so all of
/// this runs on the main actor. A class: it owns the curses screen for its lifetime.
///
/// Wiring in the executable (on the main actor; print nothing while it is open):
/// ```swift
/// let terminal = try CursesTerminal.open(environment: ProcessInfo.processInfo.environment)
/// defer { terminal.close() }
/// let app = DebuggerApp(session: session, terminal: terminal, host: DebuggerHost(
///     export: { request, session in /* write, refusing to overwrite unless request.overwrite */ },
///     switchProfile: { profile in /* start a re-replay, return its session */ }))
/// app.run()
/// ```
@MainActor
public final class CursesTerminal: Terminal {
    /// The glyphs chosen from the locale's character set.
    public let glyphs: GlyphSet
    /// Whether colours are used (off with `NO_COLOR` or on monochrome terminals).
    public let usesColour: Bool
    /// Whether mouse clicks and the wheel are reported (off with `SVMDBG_MOUSE=off`, so the
    /// terminal's own text selection works).
    public let usesMouse: Bool
    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private let palette: CursesPalette
    private let signals: SignalWatch
    private let wakePipe: WakePipe?
    private var isOpen = true

    /// Makes a waiting `nextEvent` return nil at once; callable from any thread.
    public nonisolated var wakeUp: @Sendable () -> Void {
        guard let pipe = wakePipe else { return {} }
        return { pipe.wake() }
    }

    /// The longest one `poll` waits. Keys, wake-ups and SIGINT/SIGTERM end the wait at once;
    /// this bound is for SIGWINCH only, whose handler belongs to ncurses and may run on
    /// another thread: the resize key is then read within this time.
    static let resizeCheckMilliseconds: Int32 = 100
    /// How long ncurses waits after ESC for the rest of an escape sequence.
    static let escapeDelayMilliseconds: Int32 = 25

    /// Initialises curses on the controlling terminal.
    ///
    /// - Parameter environment: the process environment (`TERM`, `NO_COLOR`, `SVMDBG_MOUSE`:
    ///   `off`, `0` or `no` leaves the mouse to the terminal).
    public static func open(environment: [String: String]) throws -> CursesTerminal {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw CursesTerminalError.notATerminal }
        // The locale decides how wide characters are encoded; it must be set before curses starts.
        setlocale(LC_ALL, "")
        let utf8 = String(cString: cn_codeset()).uppercased().filter { $0 != "-" } == "UTF8"
        // newterm (unlike initscr) returns NULL instead of exiting on an unknown TERM.
        guard let screen = newterm(nil, cn_stdout(), cn_stdin()) else {
            throw CursesTerminalError.unknownTerminal(environment["TERM"] ?? "")
        }
        set_term(screen)
        guard let window = cn_stdscr() else {
            endwin()
            delscreen(screen)
            throw CursesTerminalError.unknownTerminal(environment["TERM"] ?? "")
        }
        cbreak()
        noecho()
        nonl()
        keypad(window, true)
        set_escdelay(escapeDelayMilliseconds)
        curs_set(0)
        let noColour = !(environment["NO_COLOR"] ?? "").isEmpty
        var colour = false
        if !noColour, has_colors() {
            start_color()
            use_default_colors()
            colour = true
        }
        let mouseSetting = (environment["SVMDBG_MOUSE"] ?? "").lowercased()
        let mouse = !["off", "0", "no", "false"].contains(mouseSetting) && cn_mouse_enable(1) != 0
        return CursesTerminal(
            screen: screen, window: window, glyphs: utf8 ? .unicode : .ascii,
            palette: CursesPalette(colour: colour), mouse: mouse)
    }

    private init(screen: OpaquePointer, window: UnsafeMutablePointer<WINDOW>, glyphs: GlyphSet, palette: CursesPalette,
                 mouse: Bool) {
        self.usesMouse = mouse
        self.screen = screen
        self.window = window
        self.glyphs = glyphs
        self.palette = palette
        self.usesColour = palette.colour
        let wakePipe = WakePipe()
        self.wakePipe = wakePipe
        self.signals = SignalWatch(signals: [SIGINT, SIGTERM]) { wakePipe?.wake() }
        palette.install()
    }

    /// Restores the terminal (leaves curses mode). Safe to call more than once.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        curs_set(1)
        if usesMouse { _ = cn_mouse_enable(0) }
        endwin()
        delscreen(screen)
        signals.stop()
    }

    /// The current size in cells.
    public var size: Size {
        var rows: Int32 = 0, columns: Int32 = 0
        cn_getmaxyx(window, &rows, &columns)
        return Size(columns: Int(columns), rows: Int(rows))
    }

    /// Copies the grid to the terminal; curses sends only what changed.
    public func present(_ grid: Screen) {
        guard isOpen else { return }
        werase(window)
        let limit = size
        var text: [wchar_t] = []
        text.reserveCapacity(grid.size.columns)
        for y in 0..<min(grid.size.rows, limit.rows) {
            var x = 0
            while x < min(grid.size.columns, limit.columns) {
                let style = grid[x, y].style
                let start = x
                text.removeAll(keepingCapacity: true)
                while x < min(grid.size.columns, limit.columns), grid[x, y].style == style {
                    let cell = grid[x, y]
                    if !cell.isContinuation {
                        for scalar in cell.character.unicodeScalars { text.append(wchar_t(bitPattern: scalar.value)) }
                    }
                    x += 1
                }
                let (attributes, pair) = palette.attributes(for: style)
                cn_set_attributes(window, attributes, pair)
                text.withUnsafeBufferPointer { buffer in
                    _ = cn_put_wide(window, Int32(y), Int32(start), buffer.baseAddress, Int32(buffer.count))
                }
            }
        }
        cn_set_attributes(window, cn_a_normal(), 0)
        wrefresh(window)
    }

    /// The next key, resize or signal, waiting at most `timeout` (forever when nil); nil at
    /// the timeout or after `wakeUp`.
    public func nextEvent(timeout: Duration?) -> TerminalEvent? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        // Never block inside curses: keys it already buffered come out at once, and the wait
        // happens in poll(2), where the wake-up pipe can end it.
        wtimeout(window, 0)
        while isOpen {
            if signals.takePending() { return .interrupted }
            var character: wint_t = 0
            let status = wget_wch(window, &character)
            if status == KEY_CODE_YES {
                if Int32(character) == KEY_RESIZE { return .resized(size) }
                if Int32(character) == cn_key_mouse() {
                    var x: Int32 = 0, y: Int32 = 0
                    switch cn_get_mouse(&x, &y) {
                    case 1: return .mouse(MouseEvent(.click, x: Int(x), y: Int(y)))
                    case 2: return .mouse(MouseEvent(.wheelUp, x: Int(x), y: Int(y)))
                    case 3: return .mouse(MouseEvent(.wheelDown, x: Int(x), y: Int(y)))
                    default: continue
                    }
                }
                if let key = CursesKeys.key(forCode: Int32(character)) { return .key(key) }
                continue
            } else if status == OK {
                if let key = CursesKeys.key(forCharacter: UInt32(character)) { return .key(key) }
                continue
            }
            if wakePipe?.drain() == true { return nil }
            var wait = Self.resizeCheckMilliseconds
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { return nil }
                let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
                wait = Int32(clamping: min(Int64(wait), max(1, milliseconds)))
            }
            var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)]
            if let wakePipe { fds.append(pollfd(fd: wakePipe.readEnd, events: Int16(POLLIN), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), wait)  // EINTR: loop and look again
            if fds.count > 1, fds[1].revents != 0, wakePipe?.drain() == true {
                if signals.takePending() { return .interrupted }
                return nil
            }
        }
        return .interrupted
    }
}
