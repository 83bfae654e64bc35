@testable import DebuggerSession
import DebuggerUI
import Foundation
import TestSupport

/// Builds a `DebuggerApp` over the msr-prot fixture on a headless terminal, with a host
/// whose export writer records requests and refuses to overwrite `existingFiles`.
@MainActor
final class AppHarness {
    let terminal: HeadlessTerminal
    let app: DebuggerApp
    let exports = ExportLog()

    init(
        size: Size = Size(columns: 120, rows: 40), glyphs: GlyphSet = .unicode,
        session: UIFixtureSession = UIFixtureSession(scriptedMismatches: [18]),
        existingFiles: Set<String> = [], notes: NotesStore? = nil
    ) {
        terminal = HeadlessTerminal(size: size, glyphs: glyphs)
        let log = exports
        let host = DebuggerHost(
            export: { request, session in
                log.append(request)
                if existingFiles.contains(request.path), !request.overwrite { return .fileExists(path: request.path) }
                if let exit = request.exit { return .wroteExit(path: request.path, exit: exit) }
                return .written(path: request.path, count: session.counts.mismatch)
            },
            switchProfile: { profile in
                guard profile == "6.1" else { throw FixtureError.unknownProfile(profile) }
                return UIFixtureSession(profile: profile)
            }, notes: notes)
        app = DebuggerApp(session: session, terminal: terminal, host: host)
    }

    /// Presses keys in order; each key's background work (a search) ends before the next.
    func press(_ keys: Key...) {
        for key in keys {
            app.send(.keyPressed(key))
            app.finishBackgroundWork()
        }
    }

    /// Types text into the prompt, one character per key.
    func type(_ text: String) { for c in text { app.send(.keyPressed(.character(c))) } }

    var state: AppState { app.state }
    var selected: Int? { app.state.selected?.rawValue }
}

enum FixtureError: Error { case unknownProfile(String) }

/// Records export requests (the host closure is `@Sendable`).
final class ExportLog: @unchecked Sendable {
    // A class with a lock: the host's export closure must be @Sendable and still record calls.
    private let lock = NSLock()
    private var storage: [ExportRequest] = []
    func append(_ r: ExportRequest) { lock.withLock { storage.append(r) } }
    var requests: [ExportRequest] { lock.withLock { storage } }
}

