#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import TraceKit

/// One progress line on standard error while `check`, `export`, `stats`, `diff` and
/// `lab check` work: what is being done, percent, events per second and the time left,
/// redrawn in place with `\r` at most ``minimumInterval`` apart and erased when the work ends.
///
/// Drawn only when standard error is a terminal; otherwise nothing is ever written, so
/// redirected or piped stdout and stderr stay byte for byte what they were.
///
/// Safe from any thread (all state in one `Mutex`). Cancel-safe: ``finish()`` may be called
/// any number of times (commands call it in a `defer`, so a thrown error erases the line
/// too), updates after it are ignored, every other message on stderr erases the line first
/// (``StandardError/write(_:)``), and SIGINT/SIGTERM while a line is shown erase it before
/// the default action ends the process.
final class ProgressLine: Sendable {
    /// What is being measured.
    enum Phase: String, Sendable {
        case indexing, replaying, checking
    }

    /// Redraws are at least this far apart (10 per second at most).
    static let minimumInterval: Duration = .milliseconds(100)
    /// Work that ends sooner than this draws nothing (no flash on small traces).
    static let firstDrawDelay: Duration = .milliseconds(200)

    private struct State {
        var phase: Phase = .indexing
        let started: ContinuousClock.Instant
        var phaseStart: ContinuousClock.Instant
        var lastDraw: ContinuousClock.Instant?
        var drawn = false
        var finished = false
    }

    private let state: Mutex<State>
    private let enabled: Bool
    private let clock = ContinuousClock()
    private let output: @Sendable (String) -> Void
    private let columns: Int

    /// The line on screen now, which other stderr output erases first.
    private static let active = Mutex<ProgressLine?>(nil)

    /// A progress line on stderr, drawn only if stderr is a terminal (or `force`, for tests).
    init(enabled: Bool = isatty(STDERR_FILENO) == 1, columns: Int? = nil,
         output: @escaping @Sendable (String) -> Void = { ProgressLine.writeRaw($0) }) {
        self.enabled = enabled
        self.output = output
        self.columns = columns ?? Self.terminalColumns()
        let now = ContinuousClock().now
        state = Mutex(State(started: now, phaseStart: now))
        if enabled {
            Self.active.withLock { $0 = self }
            Self.installSignalEraser()
        }
    }

    /// Index progress from ``TraceLoader``.
    func indexing(_ progress: IndexProgress) {
        update(.indexing, fraction: progress.fraction, events: progress.events, unit: "events")
    }

    /// Replay progress (share done) of a trace of `events` events.
    func replaying(_ fraction: Double, events: Int) {
        update(.replaying, fraction: fraction, events: Int(Double(events) * min(max(fraction, 0), 1)), unit: "events")
    }

    /// `lab check` progress: `done` of `total` traces checked, `exits` replayed so far.
    func checking(done: Int, total: Int, exits: Int) {
        update(.checking, fraction: total == 0 ? 1 : Double(done) / Double(total), events: exits, unit: "exits",
               detail: "\(done)/\(total) traces")
    }

    /// Erases the line for good; later updates draw nothing.
    func finish() {
        guard enabled else { return }
        let erase = state.withLock { state -> Bool in
            defer { state.finished = true; state.drawn = false }
            return state.drawn && !state.finished
        }
        Self.active.withLock { if $0 === self { $0 = nil } }
        if erase { output(Self.eraseSequence) }
    }

    deinit {
        // A line left on screen by a path that forgot finish() is erased here.
        if enabled, state.withLock({ $0.drawn && !$0.finished }) { output(Self.eraseSequence) }
    }

    /// Erases the active line, if any (before other stderr output); the next update redraws it.
    static func eraseActive() {
        guard let line = active.withLock({ $0 }) else { return }
        let erase = line.state.withLock { state -> Bool in
            defer { state.drawn = false }
            return state.drawn
        }
        if erase { line.output(eraseSequence) }
    }

    // MARK: drawing

    private func update(_ phase: Phase, fraction: Double, events: Int, unit: String, detail: String? = nil) {
        guard enabled else { return }
        let now = clock.now
        let text: String? = state.withLock { state in
            guard !state.finished else { return nil }
            if state.phase != phase {
                state.phase = phase
                state.phaseStart = now
            }
            if now - state.started < Self.firstDrawDelay { return nil }
            if let last = state.lastDraw, now - last < Self.minimumInterval { return nil }
            state.lastDraw = now
            state.drawn = true
            let elapsed = Self.seconds(now - state.phaseStart)
            return Self.render(phase: phase, fraction: fraction, events: events, unit: unit, detail: detail,
                               elapsed: elapsed, columns: columns)
        }
        if let text { output(text) }
    }

    /// `\r` + `svmdbg: indexing  42%  3.10 M events/s  1:07 left` + erase to end of line,
    /// cut to the terminal's width so it never wraps.
    static func render(phase: Phase, fraction: Double, events: Int, unit: String, detail: String?,
                       elapsed: Double, columns: Int) -> String {
        let share = min(max(fraction, 0), 1)
        var parts = ["svmdbg: \(phase.rawValue)", "\(Int(share * 100))%"]
        if let detail { parts.append(detail) }
        if elapsed > 0, events > 0 { parts.append("\(rate(Double(events) / elapsed)) \(unit)/s") }
        if share > 0.01, share < 1, elapsed > 0 {
            parts.append("\(clockText(elapsed * (1 - share) / share)) left")
        }
        var line = parts.joined(separator: "  ")
        if line.count > columns - 1 { line = String(line.prefix(max(0, columns - 1))) }
        return "\r" + line + "\u{1B}[K"
    }

    /// `\r` and erase the line.
    static let eraseSequence = "\r\u{1B}[K"

    static func rate(_ value: Double) -> String {
        if value >= 1e6 { return String(format: "%.2f M", value / 1e6) }
        if value >= 1e3 { return String(format: "%.0f k", value / 1e3) }
        return String(format: "%.0f", value)
    }

    static func clockText(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func terminalColumns() -> Int {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), $0) }
        if status == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    /// Writes `text` to fd 2 as is (the line is built from numbers and fixed words only).
    static func writeRaw(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(STDERR_FILENO, base + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    // MARK: signals

    /// SIGINT/SIGTERM while a line may be shown: erase it (`write` is async-signal-safe; the
    /// bytes are static), restore the default action and raise the signal again.
    private static func installSignalEraser() {
        let installed = signalEraserInstalled.withLock { installed -> Bool in
            defer { installed = true }
            return installed
        }
        guard !installed else { return }
        for signalNumber in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                _ = eraseBytes.withUTF8Buffer { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
                signal(signalNumber, SIG_DFL)
                raise(signalNumber)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // the handler restores SIG_DFL itself
            sigaction(signalNumber, &action, nil)
        }
    }

    private static let signalEraserInstalled = Mutex(false)
}

/// The erase sequence as static bytes for the signal handler (no allocation there).
private let eraseBytes: StaticString = "\r\u{1B}[K"
