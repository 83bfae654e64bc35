@testable import DebuggerSession
import DebuggerUI
import Foundation
import TestSupport
import TraceKit
import Testing

/// A session that is loading until `finish()`, which makes it the whole msr-prot fixture and
/// tells its observer, as `ReplaySession`'s background task does.
final class FinishingSession: DebugSession, @unchecked Sendable {
    // A class with a lock: the test flips it while the app holds it.
    private let lock = NSLock()
    private var current = UIFixtureSession(indexed: 0)
    private var handler: (@Sendable () -> Void)?

    func finish() {
        lock.withLock { current = UIFixtureSession() }
        lock.withLock { handler }?()
    }
    private var session: UIFixtureSession { lock.withLock { current } }

    var traceName: String { session.traceName }
    var profile: String { session.profile }
    var availableProfiles: [String] { session.availableProfiles }
    var exitCount: Int { session.exitCount }
    var progress: IndexingProgress {
        let p = session.progress
        return session.indexed == 0 ? IndexingProgress(bytesDone: 0, bytesTotal: 100, isFinished: false) : p
    }
    var counts: VerdictCounts { session.counts }
    func row(_ exit: ExitNumber) -> ExitRow? { session.row(exit) }
    func detail(_ exit: ExitNumber) -> ExitDetail? { session.detail(exit) }
    func rawLines(_ range: ClosedRange<Int>) -> [RawLine] { session.rawLines(range) }
    func nextExit(matching predicate: ExitPredicate, after exit: ExitNumber?, direction: Direction) -> ExitNumber? {
        session.nextExit(matching: predicate, after: exit, direction: direction)
    }
    func exit(atOrAfter timestamp: TraceTimestamp) -> ExitNumber? { session.exit(atOrAfter: timestamp) }
    func rateBuckets(count: Int) -> [RateBucket] { session.rateBuckets(count: count) }
    func observeChanges(_ handler: @escaping @Sendable () -> Void) { lock.withLock { self.handler = handler } }
}

/// A terminal that finishes the session while the first frame is being presented (the
/// window of the lost wake-up) and, asked to wait forever with no wake-up pending, records
/// that the loop would have hung and ends the run instead.
@MainActor
final class RacingTerminal: Terminal {
    let size = Size(columns: 120, rows: 40)
    let glyphs = GlyphSet.unicode
    private(set) var frames: [Screen] = []
    private(set) var wouldHang = false
    private var keys: [Key]
    private let session: FinishingSession
    private let woken = WakeFlag()
    private let honoursWakeUp: Bool

    init(session: FinishingSession, keys: [Key], honoursWakeUp: Bool = true) {
        self.session = session
        self.keys = keys
        self.honoursWakeUp = honoursWakeUp
    }

    nonisolated var wakeUp: @Sendable () -> Void { { [woken] in woken.set() } }

    func present(_ screen: Screen) {
        frames.append(screen)
        if frames.count == 1 { session.finish() }
    }

    func nextEvent(timeout: Duration?) -> TerminalEvent? {
        if honoursWakeUp, woken.take() { return nil }
        if !keys.isEmpty { return .key(keys.removeFirst()) }
        if timeout == nil { wouldHang = true }
        return .interrupted
    }
}

final class WakeFlag: @unchecked Sendable {
    // A class with a lock: set from the session's thread, taken on the main actor.
    private let lock = NSLock()
    private var isSet = false
    func set() { lock.withLock { isSet = true } }
    func take() -> Bool { lock.withLock { defer { isSet = false }; return isSet } }
}

@MainActor
@Suite struct WakeUpTests {
    static let host = DebuggerHost(
        export: { request, _ in .failed(path: request.path, reason: "not in this test") },
        switchProfile: { profile in throw FixtureError.unknownProfile(profile) })

    @Test("a replay that finishes while the first frame is drawn wakes the loop, and the next frame shows it")
    func replayFinishingDuringFirstFrame() {
        let session = FinishingSession()
        let terminal = RacingTerminal(session: session, keys: [])
        DebuggerApp(session: session, terminal: terminal, host: Self.host).run()
        let first = terminal.frames.first.map { $0.lines.joined(separator: "\n") } ?? ""
        let last = terminal.frames.last.map { $0.lines.joined(separator: "\n") } ?? ""
        #expect(first.contains("no exits yet"))
        #expect(!last.contains("no exits yet"), "the last frame is still the loading screen:\n\(last)")
        #expect(last.contains("#0/31"))
    }

    @Test("the first key after the replay finished acts on the finished replay")
    func firstKeyActsOnFreshState() {
        let session = FinishingSession()
        // The key is already waiting when the replay finishes, ahead of the wake-up.
        let terminal = RacingTerminal(session: session, keys: [.character("j")], honoursWakeUp: false)
        let app = DebuggerApp(session: session, terminal: terminal, host: Self.host)
        app.run()
        #expect(app.state.selected == ExitNumber(1))
    }
}
