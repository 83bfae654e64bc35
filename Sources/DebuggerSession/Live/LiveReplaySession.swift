import Foundation
import Synchronization
import NestedSVM
import Replay
import TraceKit
import DebuggerUI

/// The debugger's session over a trace that is still being written: `svmdbg --follow FILE`,
/// `svmdbg --pipe PATH`, `svmdbg capture --open`.
///
/// A ``LiveInput`` reads complete lines on its thread; each batch is indexed on its own
/// (``LoadedTrace/appending(lines:format:)``) and stepped through by a ``LiveReplay`` that
/// keeps the model's state between batches, so an append costs the new lines, not the whole
/// trace. What the UI reads is a ready ``ReplaySession`` over the latest result, replaced
/// after every batch (building its index is linear in the exits so far); then the observer
/// is called, which wakes the terminal.
public final class LiveReplaySession: DebugSession, Sendable {
    /// What the status bar calls the trace.
    public let traceName: String
    /// Every profile the user may switch to.
    public let availableProfiles: [String]
    /// The path read.
    public let path: String
    /// How the path is read.
    public let kind: LiveInput.Kind

    /// What the UI reads, behind one mutex (held only to copy or set a field).
    private struct Shown {
        var session: ReplaySession?
        var status: LiveStatus
        /// Re-replays asked for and not done yet.
        var pendingReconfigures = 0
        /// The newest re-replay asked for (an older one that runs late is skipped).
        var latestReconfigure = 0
        var changeHandler: (@Sendable () -> Void)?
        var input: LiveInput?
    }

    private let state: Mutex<Shown>
    /// The replay, changed by one party at a time (the input thread's batches, a profile or
    /// fact change); held for a whole batch.
    private let replay: Mutex<LiveReplay>
    private let format: TraceFormat?
    /// Re-replays running (`waitUntilIdle` waits on it).
    private let reconfiguring = DispatchGroup()

    private init(path: String, kind: LiveInput.Kind, format: TraceFormat?, options: ReplayOptions,
                 traceName: String?, availableProfiles: [String]) {
        self.path = path
        self.kind = kind
        self.format = format
        self.traceName = traceName ?? (path.split(separator: "/").last.map(String.init) ?? path)
        self.availableProfiles = availableProfiles
        self.replay = Mutex(LiveReplay(trace: .empty(source: path, format: format ?? .tracefs), options: options))
        self.state = Mutex(Shown(status: LiveStatus(kind: kind)))
    }

    /// Opens `path` and starts reading it in the background; throws a one-line reason when
    /// it cannot be opened.
    public static func start(
        path: String, kind: LiveInput.Kind, format: TraceFormat? = nil, options: ReplayOptions,
        traceName: String? = nil, availableProfiles: [String] = KernelProfile.selectable.map(\.name)
    ) throws -> LiveReplaySession {
        let session = LiveReplaySession(path: path, kind: kind, format: format, options: options,
                                        traceName: traceName, availableProfiles: availableProfiles)
        let input = LiveInput(path: path, kind: kind) { [weak session] event in session?.take(event) }
        session.state.withLock { $0.input = input }
        try input.start()
        return session
    }

    /// Stops reading (the UI quit).
    public func stop() { state.withLock { $0.input }?.stop() }

    /// The replay options in use.
    public var options: ReplayOptions { replay.withLock { $0.options } }

    /// The latest result (exports, the facts pane), nil before the first batch.
    public var result: ReplayResult? { shown?.result }

    /// The session shown now.
    private var shown: ReplaySession? { state.withLock { $0.session } }
    /// The session shown now (for the extensions in other files).
    var shownSession: ReplaySession? { shown }

    /// Replays everything read so far again with other options (a profile or host fact
    /// changed), in a background task; reading continues after it. When several are asked
    /// for quickly, the newest wins.
    public func reconfigure(_ options: ReplayOptions) {
        let serial: Int = state.withLock { state in
            state.pendingReconfigures += 1
            state.latestReconfigure += 1
            return state.latestReconfigure
        }
        reconfiguring.enter()
        notifyChange()
        BackgroundTask.run("svmdbg live replay") { [self] in
            replay.withLock { replay in
                if state.withLock({ $0.latestReconfigure }) == serial {
                    replay = LiveReplay(trace: replay.trace, options: options)
                }
                publish(replay, notice: nil, following: nil, endsReconfigure: true)
            }
            reconfiguring.leave()
        }
    }

    /// Waits until every `reconfigure` is done (tests; a profile switch waits briefly); no polling.
    public func waitUntilIdle(timeout: Duration) -> Bool {
        reconfiguring.wait(timeout: .now() + .nanoseconds(BackgroundTask.nanoseconds(timeout))) == .success
    }

    // MARK: Input

    private func take(_ event: LiveInput.Event) {
        replay.withLock { replay in
            switch event {
            case .lines(let bytes):
                let longer = replay.trace.appending(lines: bytes, format: format)
                let step = replay.extend(to: longer)
                if case .replayedAgain(let reason) = step {
                    let hadExits = (shown?.exitCount ?? 0) > 0
                    publish(replay, notice: hadExits ? "\(reason): replayed from the start" : nil, following: nil)
                } else {
                    publish(replay, notice: nil, following: nil, carriedOn: true)
                }
            case .restarted(let reason):
                replay = LiveReplay(trace: .empty(source: path, format: format ?? replay.trace.format), options: replay.options)
                publish(replay, notice: reason, following: nil)
            case .ended(let reason):
                publish(replay, notice: reason, following: false, carriedOn: true)
            }
        }
    }

    /// Shows `replay`'s current result (called with the replay's mutex held).
    /// `carriedOn`: the replay went on from the shown one (its exits are the first exits of
    /// the new result, unchanged), so only the new exits are indexed.
    /// `endsReconfigure`: a re-replay is done (counted in the same step that shows its result,
    /// so the UI woken next sees both).
    private func publish(_ replay: LiveReplay, notice: String?, following: Bool?, carriedOn: Bool = false,
                         endsReconfigure: Bool = false) {
        let ended = following == false || !state.withLock({ $0.status.isFollowing })
        let result = ended ? replay.finishedResult : replay.result
        let previous = carriedOn ? shown : nil
        let session = previous.map {
            ReplaySession(result: result, extending: $0, traceName: traceName, availableProfiles: availableProfiles)
        } ?? ReplaySession(result: result, traceName: traceName, availableProfiles: availableProfiles)
        state.withLock { state in
            state.session = session
            if endsReconfigure { state.pendingReconfigures -= 1 }
            state.status.lines = replay.trace.lineAccounting.read
            if let following { state.status.isFollowing = following }
            if let notice {
                state.status.notice = notice
                state.status.noticeSerial += 1
            }
        }
        notifyChange()
    }

    private func notifyChange() {
        state.withLock { $0.changeHandler }?()
    }

    // MARK: DebugSession

    /// The profile of the replay.
    public var profile: String { options.profile.name }
    /// Exits whose span has closed so far.
    public var exitCount: Int { shown?.exitCount ?? 0 }
    /// Finished whenever no re-replay runs: there is no end to wait for.
    public var progress: IndexingProgress {
        let working: Bool = state.withLock { $0.pendingReconfigures > 0 }
        let bytes: Int = result?.trace.textByteCount ?? 0
        return IndexingProgress(bytesDone: bytes, bytesTotal: working ? nil : bytes, isFinished: !working)
    }
    /// Verdict counts so far.
    public var counts: VerdictCounts {
        shown?.counts ?? VerdictCounts(match: 0, mismatch: 0, undetermined: 0, notModelled: 0)
    }
    /// Following, lines read, last notice.
    public var live: LiveStatus? { state.withLock { $0.status } }

    public func row(_ exit: ExitNumber) -> ExitRow? { shown?.row(exit) }
    public func detail(_ exit: ExitNumber) -> ExitDetail? { shown?.detail(exit) }
    public func rawLines(_ range: ClosedRange<Int>) -> [RawLine] { shown?.rawLines(range) ?? [] }
    public func nextExit(matching predicate: ExitPredicate, after exit: ExitNumber?, direction: Direction) -> ExitNumber? {
        shown?.nextExit(matching: predicate, after: exit, direction: direction)
    }
    public func exit(atOrAfter timestamp: TraceTimestamp) -> ExitNumber? { shown?.exit(atOrAfter: timestamp) }
    public func rateBuckets(count: Int) -> [RateBucket] { shown?.rateBuckets(count: count) ?? [] }
    public func observeChanges(_ handler: @escaping @Sendable () -> Void) { state.withLock { $0.changeHandler = handler } }
    public func matcher(for predicate: ExitPredicate) -> @Sendable (ExitNumber) -> Bool {
        // The search scans the exits there are when it starts, on the result of that moment.
        guard let shown else { return { _ in false } }
        return shown.matcher(for: predicate)
    }
}
