import Foundation
import DebuggerUI

/// What the host program provides for effects the UI cannot perform itself.
public struct DebuggerHost: Sendable {
    /// Writes the mismatches of `session` as the request says; must refuse (return
    /// `.fileExists`) when the file exists and `overwrite` is false.
    public var export: @Sendable (ExportRequest, any DebugSession) -> ExportResult
    /// Starts replaying the same trace with another profile and returns the new session
    /// (which may still be replaying; its progress shows in the UI).
    public var switchProfile: @Sendable (String) throws -> any DebugSession
    /// Where bookmarks, notes and breakpoints are saved (`TRACE.svmdbg.json`); nil: not saved.
    public var notes: NotesStore?

    /// Creates a host.
    public init(
        export: @escaping @Sendable (ExportRequest, any DebugSession) -> ExportResult,
        switchProfile: @escaping @Sendable (String) throws -> any DebugSession,
        notes: NotesStore? = nil
    ) {
        self.export = export
        self.switchProfile = switchProfile
        self.notes = notes
    }
}

/// The runtime: reads events, runs the reducer, performs effects, loads the visible data
/// and presents frames. The svmdbg executable creates one with a session and a terminal
/// and calls `run()`.
///
/// A class because it owns the live session and the terminal for the app's lifetime;
/// all state changes still go through `AppState.reduce(_:)`.
@MainActor
public final class DebuggerApp {
    /// The current UI state.
    public private(set) var state: AppState
    /// The session being shown (replaced on a profile switch).
    public private(set) var session: any DebugSession
    private let terminal: any Terminal
    private let host: DebuggerHost
    private var lastPresented: Screen?
    private var searchJob: SearchJob?
    private var diffJob: ProfileDiffJob?
    private var continueJob: ContinueJob?
    /// What was last read from or written to the notes file.
    private var savedNotes = SavedNotes()
    /// Whether the notes file may be written (false when it is not ours or has a bad entry).
    private var savesNotes = false

    /// Creates the app for a session shown on a terminal.
    public init(session: any DebugSession, terminal: any Terminal, host: DebuggerHost) {
        self.session = session
        self.terminal = terminal
        self.host = host
        self.state = AppState(size: terminal.size, glyphs: terminal.glyphs)
        // Observe first, read second: a change between the two still wakes the loop.
        session.observeChanges(terminal.wakeUp)
        send(.indexProgressed(SessionInfo(session)))
        loadNotes()
    }

    /// Reads the notes file next to the trace, if the host has one.
    private func loadNotes() {
        guard let store = host.notes else { return }
        let loaded = store.load()
        savesNotes = loaded.allowsSaving
        switch loaded {
        case .absent:
            break
        case .loaded(let saved, let problem):
            let name = (store.path as NSString).lastPathComponent
            let summary = "from \(name): \(saved.bookmarks.count) bookmark(s), \(saved.notes.count) note(s), \(saved.breakpoints.count) breakpoint(s)"
            send(.notesLoaded(saved, problem.map { Message($0, isError: true) } ?? Message(summary)))
        case .refused(let reason):
            send(.notesNotSaved(reason))
        }
        savedNotes = state.savedNotes
    }

    /// Writes the notes file when bookmarks, notes or breakpoints changed.
    private func saveNotesIfChanged() {
        guard savesNotes, let store = host.notes else { return }
        let now = state.savedNotes
        guard now != savedNotes else { return }
        savedNotes = now
        if let problem = store.save(now) {
            savesNotes = false
            _ = state.reduce(.notesNotSaved(problem))
        }
    }

    /// Runs until the user quits or a signal arrives.
    public func run() {
        presentIfChanged()
        while !state.isQuitting {
            // No timeout: the session wakes the terminal when its data changes.
            let event = terminal.nextEvent(timeout: nil)
            // The session's facts first, so a key acts on what the session has now.
            refreshSessionInfo()
            takeSearchUpdate()
            takeDiffResult()
            takeContinueUpdate()
            switch event {
            case .key(let key)?: send(.keyPressed(key))
            case .mouse(let mouse)?: send(.mouse(mouse))
            case .resized(let size)?: send(.resized(size))
            case .interrupted?: send(.interrupted)
            case nil:
                // A wake-up with the session's facts unchanged: data the view waits for
                // (the per-reason summary) may be ready.
                if case .summary = state.overlay, state.view.summary == nil {
                    _ = state.reduce(.viewLoaded(ViewLoader.load(state, from: session)))
                }
            }
            if !state.isQuitting { presentIfChanged() }
        }
    }

    /// Blocks until background work (a search) ends and applies its results; for tests and
    /// scripted runs that want each key's whole effect before the next.
    public func finishBackgroundWork() {
        searchJob?.wait()
        takeSearchUpdate()
        diffJob?.wait()
        takeDiffResult()
        continueJob?.wait()
        takeContinueUpdate()
    }

    private func takeDiffResult() {
        guard let job = diffJob, let result = job.take() else { return }
        diffJob = nil
        send(.profileDiffFinished(result.list, against: job.profile))
    }

    private func takeContinueUpdate() {
        guard let job = continueJob, let update = job.takeUpdate() else { return }
        if update.isFinished { continueJob = nil }
        send(.continueUpdated(update))
    }

    private func takeSearchUpdate() {
        guard let job = searchJob, let update = job.takeUpdate() else { return }
        if update.isFinished { searchJob = nil }
        send(.searchUpdated(update))
    }

    private func refreshSessionInfo() {
        let info = SessionInfo(session)
        if info != state.session { send(.indexProgressed(info)) }
    }

    /// Applies an action and everything it leads to, then reloads the visible data.
    public func send(_ action: Action) {
        var queue = [action]
        while !queue.isEmpty {
            let effects = state.reduce(queue.removeFirst())
            for effect in effects { queue.append(contentsOf: perform(effect)) }
        }
        _ = state.reduce(.viewLoaded(ViewLoader.load(state, from: session)))
        saveNotesIfChanged()
    }

    /// The frame for the current state.
    public var frame: Screen { AppView.render(state) }

    private func perform(_ effect: Effect) -> [Action] {
        switch effect {
        case .quit:
            return []
        case .locate(let request):
            return [.located(request, ViewLoader.locate(request, in: session))]
        case .search(let request):
            searchJob?.cancel()
            searchJob = SearchJob(request, count: session.exitCount, matches: session.matcher(for: request.predicate), wake: terminal.wakeUp)
            return []
        case .cancelSearch:
            searchJob?.cancel()
            searchJob = nil
            return []
        case .continueTo(let request):
            continueJob?.cancel()
            continueJob = ContinueJob(
                request, count: session.exitCount, matchers: request.breakpoints.map { session.matcher(for: $0.predicate) },
                wake: terminal.wakeUp)
            return []
        case .cancelContinue:
            continueJob?.cancel()
            continueJob = nil
            return []
        case .locateTime(let timestamp):
            return [.timeLocated(timestamp, session.exit(atOrAfter: timestamp))]
        case .export(let request):
            return [.exportFinished(host.export(request, session))]
        case .setHostFact(let key, let value):
            searchJob?.cancel()
            searchJob = nil
            guard let replaced = session.replaying(hostFact: key, value: value) else {
                return [.hostFactFailed("cannot replay yet: the trace is still loading")]
            }
            session = replaced
            session.observeChanges(terminal.wakeUp)
            return [.hostFactChanged(SessionInfo(session), key: key, value: value)]
        case .profileDiff(let profile):
            diffJob = ProfileDiffJob(session: session, against: profile, wake: terminal.wakeUp)
            return []
        case .switchProfile(let profile):
            do {
                searchJob?.cancel()
                searchJob = nil
                continueJob?.cancel()
                continueJob = nil
                session = try host.switchProfile(profile)
                session.observeChanges(terminal.wakeUp)
                return [.sessionReplaced(SessionInfo(session))]
            } catch {
                return [.profileSwitchFailed(profile: profile, reason: "\(error)")]
            }
        }
    }

    private func presentIfChanged() {
        let screen = frame
        guard screen != lastPresented else { return }
        terminal.present(screen)
        lastPresented = screen
    }
}
