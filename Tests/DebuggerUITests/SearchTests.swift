import DebuggerUI
import TestSupport
import Testing

@MainActor
@Suite struct SearchTests {
    static let host = DebuggerHost(
        export: { r, _ in .failed(path: r.path, reason: "not used") },
        switchProfile: { p in throw FixtureError.unknownProfile(p) })

    @Test("a search over ten million exits gives the keys back within 50 ms, shows progress, and Esc cancels it")
    func backgroundSearchOnTenMillionExits() {
        let session = CountingLargeSession()
        let app = DebuggerApp(session: session, terminal: HeadlessTerminal(size: Size(columns: 120, rows: 40)), host: Self.host)
        let clock = ContinuousClock()
        app.send(.keyPressed(.character("/")))
        for c in "nothing matches this" { app.send(.keyPressed(.character(c))) }
        let enter = clock.measure { app.send(.keyPressed(.enter)) }
        #expect(enter < .milliseconds(50), "Enter took \(enter)")
        #expect(app.state.search != nil)
        let step = clock.measure { app.send(.keyPressed(.character("j"))) }
        #expect(step < .milliseconds(50), "j took \(step)")
        #expect(app.state.selected == ExitNumber(1))
        #expect(app.frame.lines.last?.contains("searching…") == true)
        #expect(app.frame.lines.last?.contains("Esc cancels") == true)
        let cancel = clock.measure { app.send(.keyPressed(.escape)) }
        #expect(cancel < .milliseconds(50))
        #expect(app.state.search == nil)
        #expect(app.state.message?.text.hasPrefix("search cancelled at") == true)
        // The scan stops: waiting for it returns long before ten million exits are scanned.
        let stop = clock.measure { app.finishBackgroundWork() }
        #expect(stop < .seconds(2), "the cancelled search ran on for \(stop)")
        #expect(app.state.selected == ExitNumber(1))
    }

    @Test("a search that finishes reports the match count and the match's rank; past the end it wraps with a message")
    func countAndWrap() {
        let session = CountingLargeSession()
        session.textMatchEvery = 2_500_000  // exits 2 499 999, 4 999 999, 7 499 999, 9 999 999
        let app = DebuggerApp(session: session, terminal: HeadlessTerminal(size: Size(columns: 120, rows: 40)), host: Self.host)
        app.send(.keyPressed(.character(":")))
        for c in "5000000" { app.send(.keyPressed(.character(c))) }
        app.send(.keyPressed(.enter))
        #expect(app.state.selected == ExitNumber(5_000_000))
        app.send(.keyPressed(.character("/")))
        for c in "x" { app.send(.keyPressed(.character(c))) }
        app.send(.keyPressed(.enter))
        app.finishBackgroundWork()
        #expect(app.state.selected == ExitNumber(7_499_999))
        #expect(app.state.message?.text == "/x: match 3 of 4 at #7499999")
        app.send(.keyPressed(.character("n")))
        app.finishBackgroundWork()
        app.send(.keyPressed(.character("n")))
        app.finishBackgroundWork()
        #expect(app.state.selected == ExitNumber(2_499_999))
        #expect(app.state.message?.text == "/x: match 1 of 4 at #2499999 (search wrapped to the top)")
        app.send(.keyPressed(.character("N")))
        app.finishBackgroundWork()
        #expect(app.state.selected == ExitNumber(9_999_999))
        #expect(app.state.message?.text == "/x: match 4 of 4 at #9999999 (search wrapped to the bottom)")
    }
}

@MainActor
@Suite struct HalfPageTests {
    @Test("C-d and C-u move the selection half a list page; in a detail pane they scroll half a page")
    func halfPages() {
        let h = AppHarness()
        let half = max(1, h.state.layout.listRows / 2)
        h.press(.control("d"))
        #expect(h.selected == half)
        h.press(.control("d"), .control("u"))
        #expect(h.selected == half)
        h.press(.control("u"))
        #expect(h.selected == 0)
        h.press(.tab)  // the decision path
        h.press(.control("d"))
        #expect((h.state.scroll[.decision] ?? 0) > 0 || h.state.maxScroll(of: .decision) == 0)
        #expect(h.selected == 0)
    }
}
