import TraceKit
@testable import DebuggerSession
import DebuggerUI
import Replay
import TestSupport
import Testing

/// A synthetic session with ten million exits whose fields are arithmetic in the exit
/// number, counting every call the UI makes. It checks that a keypress costs work in
/// proportion to the screen, not to the trace.
final class CountingLargeSession: DebugSession, @unchecked Sendable {
    // A class with counters: tests read how often the UI called it (single-threaded use).
    static let count = 10_000_000
    static let mismatchEvery = 1_000_003
    var rowCalls = 0
    var nextCalls = 0
    var detailCalls = 0

    let traceName = "synthetic"
    let profile = "6.12"
    let availableProfiles = ["6.12"]
    var exitCount: Int { Self.count }
    var progress: IndexingProgress { IndexingProgress(bytesDone: 1, bytesTotal: 1, isFinished: true) }
    var counts: VerdictCounts {
        let mismatches = (Self.count + Self.mismatchEvery - 1) / Self.mismatchEvery
        return VerdictCounts(match: Self.count - mismatches, mismatch: mismatches, undetermined: 0, notModelled: 0)
    }

    private func verdict(_ n: Int) -> ExitVerdict { n % Self.mismatchEvery == 0 ? .mismatch : .match }

    func row(_ exit: ExitNumber) -> ExitRow? {
        rowCalls += 1
        let n = exit.rawValue
        guard (0..<Self.count).contains(n) else { return nil }
        return ExitRow(
            number: exit, timestamp: .nanoseconds(Int64(n) * 1_000), vcpu: n % 4, level: n % 2 == 0 ? .l1 : .l2,
            reason: "msr", exitCode: 0x7c, rip: 0x1000, summary: "", modelOutcome: "L0", recordedOutcome: "L0",
            verdict: verdict(n))
    }

    func detail(_ exit: ExitNumber) -> ExitDetail? {
        detailCalls += 1
        return ExitDetail(
            number: exit, registers: [], vmcb: [], decisionSteps: [], modelOutcome: "L0", recordedOutcome: "L0",
            recordedEvidence: [], notes: [], rawLines: (exit.rawValue * 3 + 1)...(exit.rawValue * 3 + 3))
    }

    func rawLines(_ range: ClosedRange<Int>) -> [RawLine] { range.map { RawLine(number: $0, text: "line \($0)") } }

    func nextExit(matching predicate: ExitPredicate, after exit: ExitNumber?, direction: Direction) -> ExitNumber? {
        nextCalls += 1
        let step = direction == .forward ? 1 : -1
        var n = exit.map { $0.rawValue + step } ?? (direction == .forward ? 0 : Self.count - 1)
        switch predicate {
        case .any:
            return (0..<Self.count).contains(n) ? ExitNumber(n) : nil
        case .verdict(.mismatch):
            // Arithmetic, as an index would answer it.
            let m = Self.mismatchEvery
            n = direction == .forward ? ((n + m - 1) / m) * m : (n / m) * m
            return n >= 0 && n < Self.count ? ExitNumber(n) : nil
        default:
            Issue.record("unexpected predicate \(predicate)")
            return nil
        }
    }

    /// A text search matches every `textMatchEvery`-th exit (the last of each run; none when
    /// nil), after a little arithmetic per exit, as a regex over real lines costs time.
    var textMatchEvery: Int? = nil
    func matcher(for predicate: ExitPredicate) -> @Sendable (ExitNumber) -> Bool {
        let every = textMatchEvery
        return { exit in
            var spin = exit.rawValue
            for _ in 0..<20 { spin = spin &* 6364136223846793005 &+ 1 }
            withExtendedLifetime(spin) {}
            guard let every else { return false }
            return exit.rawValue % every == every - 1
        }
    }

    func exit(atOrAfter timestamp: TraceTimestamp) -> ExitNumber? {
        ExitNumber(min(Self.count - 1, max(0, Int((timestamp.value + 999) / 1_000))))
    }

    func rateBuckets(count: Int) -> [RateBucket] {
        (0..<count).map { RateBucket(exits: Self.count / max(1, count), mismatches: 0, firstExit: ExitNumber($0 * Self.count / max(1, count))) }
    }
}

@MainActor
@Suite struct LargeSessionTests {
    private func app(_ session: CountingLargeSession) -> DebuggerApp {
        let host = DebuggerHost(
            export: { r, _ in .failed(path: r.path, reason: "not used") },
            switchProfile: { p in throw FixtureError.unknownProfile(p) })
        return DebuggerApp(session: session, terminal: HeadlessTerminal(size: Size(columns: 120, rows: 40)), host: host)
    }

    @Test("each keypress touches rows in proportion to the screen, not the trace", arguments: [
        Key.down, .pageDown, .end, .home, .right, .left, .pageUp,
    ])
    func boundedWork(key: Key) {
        let session = CountingLargeSession()
        let app = app(session)
        app.send(.keyPressed(.character(":")))
        for c in "5000000" { app.send(.keyPressed(.character(c))) }
        app.send(.keyPressed(.enter))
        session.rowCalls = 0
        session.nextCalls = 0
        session.detailCalls = 0
        app.send(.keyPressed(key))
        _ = app.frame
        let height = app.state.layout.listRows
        #expect(session.rowCalls <= 3 * height)
        #expect(session.nextCalls <= 4 * height)
        #expect(session.detailCalls == 1)
    }

    @Test("mismatch navigation and last-exit jump land where the index says on ten million exits")
    func navigation() {
        let session = CountingLargeSession()
        let app = app(session)
        app.send(.keyPressed(.right))
        #expect(app.state.selected == ExitNumber(CountingLargeSession.mismatchEvery))
        app.send(.keyPressed(.end))
        #expect(app.state.selected == ExitNumber(CountingLargeSession.count - 1))
        #expect(app.state.view.rows.last?.number == ExitNumber(CountingLargeSession.count - 1))
        app.send(.keyPressed(.left))
        #expect(app.state.selected == ExitNumber(9 * CountingLargeSession.mismatchEvery))
    }

    @Test("a keypress and frame take well under the 10 ms budget on ten million exits")
    func timing() {
        let session = CountingLargeSession()
        let app = app(session)
        let clock = ContinuousClock()
        var worst = Duration.zero
        for key in [Key.pageDown, .right, .end, .up, .home] {
            let elapsed = clock.measure {
                app.send(.keyPressed(key))
                _ = app.frame
            }
            worst = max(worst, elapsed)
        }
        // Debug build on a shared 2-core machine: the budget is checked with a wide margin.
        #expect(worst < .milliseconds(100), "worst keypress took \(worst)")
    }
}
