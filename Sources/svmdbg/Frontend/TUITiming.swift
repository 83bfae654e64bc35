#if canImport(Glibc)
import Glibc
#endif
import DebuggerUI
import Foundation

/// `SVMDBG_TIMING=FILE`: the debugger appends one line per frame and per input event to
/// FILE, for measuring the TUI with the real curses terminal (docs/performance.md, issue 13):
///
///     present t=12.345 ms=0.812 cpu=0.790 exits=1806 finished=0
///     key j t=2000.100 work=1.234 cpu=1.101 present=0.611 exits=2019988 finished=1
///     first-screen t=84.2 cpu=60.1 exits=1806
///
/// `t` is milliseconds since the debugger started (before the terminal was opened); `work`
/// is the session work one input caused — from the moment the terminal handed the event over
/// to the moment the app asks for the next one: the reducer, the view loading from the
/// session, rendering and drawing (curses `refresh`); `present` is the drawing part of it.
/// `cpu` is the CPU time the UI thread spent on it (`CLOCK_THREAD_CPUTIME_ID`): on a shared
/// machine the wall figures include waiting for a core, the CPU figures do not. The first
/// screen's `cpu` is the whole process's CPU time by then (background loading included).
/// `first-screen` is written once, at the first frame drawn with exits in it. Nothing is
/// written (and nothing measured) without the variable.
@MainActor
final class TUITiming {
    private let file: UnsafeMutablePointer<FILE>
    private let start: Double
    /// The input being handled and when the terminal returned it.
    private var pending: (label: String, since: Double, cpu: Double)?
    /// Drawing time since `pending` began.
    private var presentTime = 0.0
    private var sawFirstScreen = false

    /// A log appending to `environment["SVMDBG_TIMING"]`, or nil when it is unset or cannot be opened.
    static func fromEnvironment(_ environment: [String: String], start: Double) -> TUITiming? {
        guard let path = environment["SVMDBG_TIMING"], !path.isEmpty, let file = fopen(path, "a") else { return nil }
        return TUITiming(file: file, start: start)
    }

    private init(file: UnsafeMutablePointer<FILE>, start: Double) {
        self.file = file
        self.start = start
    }

    /// Monotonic milliseconds.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) * 1e3 + Double(spec.tv_nsec) / 1e6
    }

    /// CPU milliseconds of the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
    static func threadCPU() -> Double { cpu(CLOCK_THREAD_CPUTIME_ID) }

    /// CPU milliseconds of the whole process.
    static func processCPU() -> Double { cpu(CLOCK_PROCESS_CPUTIME_ID) }

    private static func cpu(_ clock: clockid_t) -> Double {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Double(spec.tv_sec) * 1e3 + Double(spec.tv_nsec) / 1e6
    }

    /// Draws `screen` through `draw`, timing it.
    func present(exits: Int, finished: Bool, _ draw: () -> Void) {
        let before = Self.now()
        let cpuBefore = Self.threadCPU()
        draw()
        let after = Self.now()
        let cpu = Self.threadCPU() - cpuBefore
        presentTime += after - before
        write("present t=\(Self.ms(before - start)) ms=\(Self.ms(after - before)) cpu=\(Self.ms(cpu)) exits=\(exits) finished=\(finished ? 1 : 0)")
        if !sawFirstScreen, exits > 0 {
            sawFirstScreen = true
            write("first-screen t=\(Self.ms(after - start)) cpu=\(Self.ms(Self.processCPU())) exits=\(exits)")
        }
    }

    /// The app asks for the next event: the previous one's work is done.
    func eventRequested(exits: Int, finished: Bool) {
        guard let pending else { return }
        let now = Self.now()
        write("\(pending.label) t=\(Self.ms(pending.since - start)) work=\(Self.ms(now - pending.since)) "
            + "cpu=\(Self.ms(Self.threadCPU() - pending.cpu)) present=\(Self.ms(presentTime)) exits=\(exits) finished=\(finished ? 1 : 0)")
        self.pending = nil
    }

    /// The terminal returned `event` (nil: a wake-up from the session).
    func eventReturned(_ event: TerminalEvent?) {
        let label: String
        switch event {
        case .key(let key)?: label = "key \(key.description.replacingOccurrences(of: " ", with: "_"))"
        case .mouse?: label = "mouse"
        case .resized?: label = "resize"
        case .interrupted?: label = "interrupt"
        case nil: label = "wake"
        }
        pending = (label, Self.now(), Self.threadCPU())
        presentTime = 0
    }

    private func write(_ line: String) {
        fputs(line + "\n", file)
        fflush(file)
    }

    private static func ms(_ value: Double) -> String { String(format: "%.3f", value) }
}
