import CursesTerminal
import DebuggerSession
import DebuggerUI
import Foundation
import NestedSVM
import Replay
import TraceKit

/// Runs the interactive debugger: checks the terminal, starts loading and replaying the
/// trace in the background, shows it in curses, and restores the terminal on every way out.
@MainActor
enum TUIFrontend {
    /// Why the TUI could not start or the trace could not be used; printed as one line.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens `path` in the debugger; returns when the user quits. Throws `Failure` (to be
    /// printed, exit 2) when there is no usable terminal or the trace cannot be read.
    static func run(path: String, format: TraceFormat?, options: ReplayOptions,
                    given: ReplaySession.GivenOptions = .init(profile: true, host: true),
                    environment: [String: String]) throws {
        let timing = TUITiming.fromEnvironment(environment, start: TUITiming.now())
        let terminal = try openTerminal(
            for: path, environment: environment,
            stdinRefusal: "the debugger reads keys from stdin, so it cannot read the trace from stdin; save it to a file first",
            hint: ", or use `svmdbg check`", terminalHint: " (use `svmdbg check` for batch use)")
        defer { terminal.close() }
        let session = ReplaySession.loading(path: path, format: format, options: options, given: given)
        let app = DebuggerApp(
            session: session, terminal: LoadWatchingTerminal(terminal, session: session, timing: timing),
            host: host(initial: session, options: options, notes: notesStore(for: path, environment: environment)))
        app.run()
        terminal.close()
        if let failure = session.failure { throw Failure(description: failure) }
    }

    /// Opens the debugger on a trace still being written (`--follow` a file, `--pipe` a
    /// pipe): it reads in the background and shows new exits as they close.
    static func runLive(path: String, kind: LiveInput.Kind, format: TraceFormat?, options: ReplayOptions,
                        environment: [String: String], traceName: String? = nil) throws {
        let terminal = try openTerminal(
            for: path, environment: environment,
            stdinRefusal: "the debugger reads keys from stdin; give the pipe's path (a FIFO, /sys/kernel/tracing/trace_pipe) instead of '-'",
            hint: "", terminalHint: "")
        defer { terminal.close() }
        let session: LiveReplaySession
        do {
            session = try LiveReplaySession.start(path: path, kind: kind, format: format, options: options, traceName: traceName)
        } catch let error as LiveInputError {
            terminal.close()
            throw Failure(description: error.description)
        }
        defer { session.stop() }
        // Notes live next to a followed file; a pipe has no place to keep them.
        let notes = kind == .file ? notesStore(for: path, environment: environment) : nil
        let app = DebuggerApp(session: session, terminal: terminal, host: liveHost(session, notes: notes))
        app.run()
    }

    /// Effects for a live session: a profile switch replays what was read in place.
    static func liveHost(_ live: LiveReplaySession, notes: NotesStore? = nil) -> DebuggerHost {
        DebuggerHost(
            export: { request, session in export(request, from: session) },
            switchProfile: { name in
                guard let profile = KernelProfile(named: name) else {
                    throw Failure(description: "unknown profile '\(name)'")
                }
                var chosen = live.options
                chosen.profile = profile
                live.reconfigure(chosen)
                _ = live.waitUntilIdle(timeout: profileSwitchWait)
                return live
            }, notes: notes)
    }

    /// Where bookmarks, notes and breakpoints are kept: `TRACE.svmdbg.json`, unless
    /// `SVMDBG_NOTES=off` (then nothing is read or written).
    static func notesStore(for path: String, environment: [String: String]) -> NotesStore? {
        ["off", "0", "no", "false"].contains((environment["SVMDBG_NOTES"] ?? "").lowercased()) ? nil : NotesStore(tracePath: path)
    }

    /// Checks `path` and the terminal, then takes the screen over; every refusal is one line
    /// (`hint`, `terminalHint`: what to use instead, appended to the TERM and no-terminal lines).
    private static func openTerminal(for path: String, environment: [String: String], stdinRefusal: String,
                                     hint: String, terminalHint: String) throws -> CursesTerminal {
        if path == "-" { throw Failure(description: stdinRefusal) }
        try checkReadable(path)
        let term = environment["TERM"] ?? ""
        if term.isEmpty || term == "dumb" {
            throw Failure(description: "the debugger needs a terminal that can move the cursor (TERM is '\(term)'; try TERM=xterm-256color\(hint))")
        }
        do {
            return try CursesTerminal.open(environment: environment)
        } catch CursesTerminalError.notATerminal {
            throw Failure(description: "the debugger needs a terminal on stdin and stdout\(terminalHint)")
        } catch let error as CursesTerminalError {
            throw Failure(description: error.description)
        }
    }

    /// Fails early, before the screen is taken over, for a path that cannot be opened.
    private static func checkReadable(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Failure(description: "\(path): no such file or directory")
        }
        if isDirectory.boolValue { throw Failure(description: "\(path): is a directory") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw Failure(description: "\(path): permission denied")
        }
    }

    /// How long a profile switch waits for the re-replay before the UI shows its progress.
    nonisolated static let profileSwitchWait: Duration = .milliseconds(300)

    /// The effects the UI asks of the program: exports and profile switches.
    static func host(initial: ReplaySession, options: ReplayOptions, notes: NotesStore? = nil) -> DebuggerHost {
        DebuggerHost(
            export: { request, session in export(request, from: session) },
            switchProfile: { name in
                guard let profile = KernelProfile(named: name) else {
                    throw Failure(description: "unknown profile '\(name)'")
                }
                guard let loaded = initial.result else {
                    throw Failure(description: "the trace is still loading; switch profiles when it is ready")
                }
                let trace = loaded.trace
                var chosen = loaded.options  // with the host facts an export's header gave
                chosen.profile = profile
                let session = ReplaySession.replaying(trace, options: chosen, traceName: initial.traceName)
                // A small trace replays in milliseconds: wait that long so the selection and
                // the message see the result; a big one shows its progress instead.
                _ = session.waitUntilFinished(timeout: profileSwitchWait)
                return session
            }, notes: notes)
    }

    /// Writes the session's mismatches atomically; refuses to replace a file unless the
    /// request says the user confirmed; reports the absolute path written.
    nonisolated static func export(_ request: ExportRequest, from session: any DebugSession) -> ExportResult {
        guard let result = (session as? ReplaySession)?.result ?? (session as? LiveReplaySession)?.result else {
            return .failed(path: request.path, reason: "the replay is not finished yet")
        }
        let path = expandingTilde(request.path)
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        if let selected = request.exit { return exportScenario(of: selected, from: result, to: absolute) }
        if !request.overwrite, FileManager.default.fileExists(atPath: absolute) {
            return .fileExists(path: absolute)
        }
        let exits = result.mismatches
        let text = ExportRenderer.render(exits, of: result, as: request.format)
        do {
            let written = try AtomicFile.write(text, to: absolute, overwrite: request.overwrite)
            return .written(path: written, count: exits.count)
        } catch let error as AtomicFile.Failure {
            if !request.overwrite, FileManager.default.fileExists(atPath: absolute) { return .fileExists(path: absolute) }
            return .failed(path: absolute, reason: error.description)
        } catch {
            return .failed(path: absolute, reason: "\(error)")
        }
    }

    /// The `E` key: `exit` as one pretty `decide` scenario (``ScenarioExport/document(for:in:)``)
    /// at `path`, or at `NAME-2.scenario`, `NAME-3.scenario`, … when that exists (never replaced).
    nonisolated static func exportScenario(of exit: ExitNumber, from result: ReplayResult, to path: String) -> ExportResult {
        guard result.exits.indices.contains(exit.rawValue) else { return .failed(path: path, reason: "no exit \(exit)") }
        guard let document = ScenarioExport.document(for: result.exits[exit.rawValue], in: result) else {
            return .failed(path: path, reason: "exit \(exit) has no event the model decides (a #VMEXIT no pending event explains)")
        }
        let text = ScenarioExport.text(document, pretty: true) + "\n"
        let stem = path.hasSuffix(".scenario") ? String(path.dropLast(".scenario".count)) : path
        for attempt in 1...1000 {
            let candidate = attempt == 1 ? path : "\(stem)-\(attempt).scenario"
            if FileManager.default.fileExists(atPath: candidate) { continue }
            do {
                return .wroteExit(path: try AtomicFile.write(text, to: candidate, overwrite: false), exit: exit)
            } catch let error as AtomicFile.Failure {
                if FileManager.default.fileExists(atPath: candidate) { continue }
                return .failed(path: candidate, reason: error.description)
            } catch {
                return .failed(path: candidate, reason: "\(error)")
            }
        }
        return .failed(path: path, reason: "1000 files named like it exist already")
    }

    nonisolated private static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + path.dropFirst()
    }
}

/// The curses terminal, plus a way out when loading fails: the debugger then quits through
/// its normal path (terminal restored) and the frontend prints the error.
///
/// A class because `Terminal` is a class protocol; it only forwards.
@MainActor
final class LoadWatchingTerminal: Terminal {
    private let terminal: CursesTerminal
    private let session: ReplaySession
    /// `SVMDBG_TIMING`'s log (``TUITiming``), if asked for.
    private let timing: TUITiming?

    /// The curses terminal's wake-up, which a failing load also fires.
    nonisolated let wakeUp: @Sendable () -> Void

    init(_ terminal: CursesTerminal, session: ReplaySession, timing: TUITiming? = nil) {
        self.terminal = terminal
        self.session = session
        self.timing = timing
        self.wakeUp = terminal.wakeUp
    }

    var size: Size { terminal.size }
    var glyphs: GlyphSet { terminal.glyphs }
    func present(_ screen: Screen) {
        guard let timing else { return terminal.present(screen) }
        timing.present(exits: session.exitCount, finished: session.progress.isFinished) { terminal.present(screen) }
    }

    func nextEvent(timeout: Duration?) -> TerminalEvent? {
        timing?.eventRequested(exits: session.exitCount, finished: session.progress.isFinished)
        if session.failure != nil { return .interrupted }
        let event = terminal.nextEvent(timeout: timeout)
        timing?.eventReturned(event)
        return event
    }
}
