import Foundation
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
public final class LiveReplaySession: DebugSession, @unchecked Sendable {
    /// What the status bar calls the trace.
    public let traceName: String
    /// Every profile the user may switch to.
    public let availableProfiles: [String]
    /// The path read.
    public let path: String
    /// How the path is read.
    public let kind: LiveInput.Kind

    private let lock = NSLock()
    /// Serialises changes of `replay` (the input thread's batches, a profile or fact change).
    private let work = NSLock()
    private var replay: LiveReplay
    private let format: TraceFormat?
    private var shown: ReplaySession?
    private var status: LiveStatus
    private var busy = false
    private var changeHandler: (@Sendable () -> Void)?
    private var input: LiveInput?

    private init(path: String, kind: LiveInput.Kind, format: TraceFormat?, options: ReplayOptions,
                 traceName: String?, availableProfiles: [String]) {
        self.path = path
        self.kind = kind
        self.format = format
        self.traceName = traceName ?? (path.split(separator: "/").last.map(String.init) ?? path)
        self.availableProfiles = availableProfiles
        self.replay = LiveReplay(trace: .empty(source: path, format: format ?? .tracefs), options: options)
        self.status = LiveStatus(kind: kind)
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
        session.input = input
        try input.start()
        return session
    }

    /// Stops reading (the UI quit).
    public func stop() { input?.stop() }

    /// The replay options in use.
    public var options: ReplayOptions { work.withLock { replay.options } }

    /// The latest result (exports, the facts pane), nil before the first batch.
    public var result: ReplayResult? { lock.withLock { shown }?.result }

    /// Replays everything read so far again with other options (a profile or host fact
    /// changed), on a thread of its own; reading continues after it.
    public func reconfigure(_ options: ReplayOptions) {
        lock.withLock { busy = true }
        notifyChange()
        let thread = Thread { [self] in
            work.withLock {
                replay = LiveReplay(trace: replay.trace, options: options)
                publish(notice: nil, following: nil)
            }
        }
        thread.name = "svmdbg live replay"
        thread.start()
    }

    /// Waits until a `reconfigure` is done (tests; a profile switch waits briefly).
    public func waitUntilIdle(timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if !lock.withLock({ busy }) { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }

    // MARK: Input

    private func take(_ event: LiveInput.Event) {
        work.withLock {
            switch event {
            case .lines(let bytes):
                let longer = replay.trace.appending(lines: bytes, format: format)
                let step = replay.extend(to: longer)
                if case .replayedAgain(let reason) = step {
                    let hadExits = lock.withLock({ shown?.exitCount ?? 0 }) > 0
                    publish(notice: hadExits ? "\(reason): replayed from the start" : nil, following: nil)
                } else {
                    publish(notice: nil, following: nil, carriedOn: true)
                }
            case .restarted(let reason):
                replay = LiveReplay(trace: .empty(source: path, format: format ?? replay.trace.format), options: replay.options)
                publish(notice: reason, following: nil)
            case .ended(let reason):
                publish(notice: reason, following: false, carriedOn: true)
            }
        }
    }

    /// Shows the replay's current result (called with `work` held).
    /// `carriedOn`: the replay went on from the shown one (its exits are the first exits of
    /// the new result, unchanged), so only the new exits are indexed.
    private func publish(notice: String?, following: Bool?, carriedOn: Bool = false) {
        let ended = following == false || !lock.withLock({ status.isFollowing })
        let result = ended ? replay.finishedResult : replay.result
        let previous = carriedOn ? lock.withLock({ shown }) : nil
        let session = previous.map {
            ReplaySession(result: result, extending: $0, traceName: traceName, availableProfiles: availableProfiles)
        } ?? ReplaySession(result: result, traceName: traceName, availableProfiles: availableProfiles)
        lock.withLock {
            shown = session
            busy = false
            status.lines = replay.trace.lineAccounting.read
            if let following { status.isFollowing = following }
            if let notice {
                status.notice = notice
                status.noticeSerial += 1
            }
        }
        notifyChange()
    }

    private func notifyChange() {
        lock.withLock { changeHandler }?()
    }

    // MARK: DebugSession

    /// The profile of the replay.
    public var profile: String { options.profile.name }
    /// Exits whose span has closed so far.
    public var exitCount: Int { lock.withLock { shown }?.exitCount ?? 0 }
    /// Finished whenever no re-replay runs: there is no end to wait for.
    public var progress: IndexingProgress {
        let working: Bool = lock.withLock { busy }
        let bytes: Int = result?.trace.textByteCount ?? 0
        return IndexingProgress(bytesDone: bytes, bytesTotal: working ? nil : bytes, isFinished: !working)
    }
    /// Verdict counts so far.
    public var counts: VerdictCounts {
        lock.withLock { shown }?.counts ?? VerdictCounts(match: 0, mismatch: 0, undetermined: 0, notModelled: 0)
    }
    /// Following, lines read, last notice.
    public var live: LiveStatus? { lock.withLock { status } }

    public func row(_ exit: ExitNumber) -> ExitRow? { lock.withLock { shown }?.row(exit) }
    public func detail(_ exit: ExitNumber) -> ExitDetail? { lock.withLock { shown }?.detail(exit) }
    public func rawLines(_ range: ClosedRange<Int>) -> [RawLine] { lock.withLock { shown }?.rawLines(range) ?? [] }
    public func nextExit(matching predicate: ExitPredicate, after exit: ExitNumber?, direction: Direction) -> ExitNumber? {
        lock.withLock { shown }?.nextExit(matching: predicate, after: exit, direction: direction)
    }
    public func exit(atOrAfter timestamp: TraceTimestamp) -> ExitNumber? { lock.withLock { shown }?.exit(atOrAfter: timestamp) }
    public func rateBuckets(count: Int) -> [RateBucket] { lock.withLock { shown }?.rateBuckets(count: count) ?? [] }
    public func observeChanges(_ handler: @escaping @Sendable () -> Void) { lock.withLock { changeHandler = handler } }
    public func matcher(for predicate: ExitPredicate) -> @Sendable (ExitNumber) -> Bool {
        // The search scans the exits there are when it starts, on the result of that moment.
        guard let shown = lock.withLock({ shown }) else { return { _ in false } }
        return shown.matcher(for: predicate)
    }
}
