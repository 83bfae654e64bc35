@testable import DebuggerSession
import DebuggerUI
import TestSupport
import Replay
import NestedSVM
import TraceKit
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

/// Two vCPUs: msr-prot's exits with the odd ones moved to vCPU 1.
@Suite struct VCPUNavigationTests {
    @MainActor
    @Test("> and < step through the selected exit's vCPU; V shows only that vCPU and back")
    func vcpuKeys() throws {
        let url = RepositoryPaths.trace("6.12/msr-prot.trace")
        var text = try String(contentsOf: url, encoding: .utf8)
        // The 5th and 6th exits (#4, #5) happen on vCPU 1 (its own thread, as KVM runs one per vCPU).
        var exits = 0
        text = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.contains(" kvm_exit: vcpu 0 ") else { return String(line) }
            exits += 1
            return exits == 5 || exits == 6 ? line.replacingOccurrences(of: "kvm_exit: vcpu 0 ", with: "kvm_exit: vcpu 1 ") : String(line)
        }.joined(separator: "\n")
        let trace = try TraceLoader.load(bytes: Array(text.utf8), source: "two-vcpus.trace")
        let result = Replayer(trace: trace, options: ReplayOptions(profile: .v6_12)).run()
        let session = ReplaySession(result: result)
        let onOne = (0..<session.exitCount).filter { session.row(ExitNumber($0))?.vcpu == 1 }
        try #require(onOne.count >= 2)
        let terminal = HeadlessTerminal(size: Size(columns: 120, rows: 40))
        let app = DebuggerApp(session: session, terminal: terminal, host: SearchTests.host)
        app.send(.keyPressed(.character(":")))
        for c in "\(onOne[0])" { app.send(.keyPressed(.character(c))) }
        app.send(.keyPressed(.enter))
        #expect(app.state.selected == ExitNumber(onOne[0]))
        app.send(.keyPressed(.character(">")))
        #expect(app.state.selected == ExitNumber(onOne[1]))
        app.send(.keyPressed(.character("<")))
        #expect(app.state.selected == ExitNumber(onOne[0]))
        app.send(.keyPressed(.character("V")))
        #expect(app.state.filter.vcpu == 1)
        app.send(.keyPressed(.character("G")))
        #expect(app.state.selected == ExitNumber(onOne.last ?? -1))
        app.send(.keyPressed(.character("V")))
        #expect(app.state.filter.vcpu == nil)
        #expect(app.state.message?.text == "every vCPU shown")
    }
}

@MainActor
@Suite struct ZoomTests {
    @Test("z lets the focused pane fill the screen above the status bar, and back")
    func zoom() {
        let h = AppHarness(size: Size(columns: 80, rows: 24))
        h.press(.tab)  // the decision path
        h.press(.character("z"))
        #expect(h.state.isZoomed)
        let layout = h.state.layout
        #expect(layout.decision == Rect(x: 0, y: 0, width: 80, height: 22))
        #expect(layout.exitList.isEmpty && layout.rawLines.isEmpty && layout.registers.isEmpty)
        let frame = h.app.frame.lines
        #expect(frame[0].hasPrefix("─ Decision path #0"))
        #expect(frame[22].contains("profile 6.12"))
        h.press(.character("z"))
        #expect(!h.state.isZoomed)
        #expect(h.state.layout.exitList.height > 0)
    }
}

@MainActor
@Suite struct BackgroundContinueTests {
    @Test("a continue over ten million exits gives the keys back within 50 ms, shows progress, and Esc stops it")
    func continueOnTenMillionExits() {
        let session = CountingLargeSession()
        let app = DebuggerApp(session: session, terminal: HeadlessTerminal(size: Size(columns: 120, rows: 40)), host: SearchTests.host)
        app.send(.keyPressed(.character("b")))
        for c in "reason hlt" { app.send(.keyPressed(.character(c))) }
        app.send(.keyPressed(.enter))
        let clock = ContinuousClock()
        let press = clock.measure { app.send(.keyPressed(.character("c"))) }
        #expect(press < .milliseconds(50), "c took \(press)")
        #expect(app.state.continuing != nil)
        #expect(app.frame.lines.last?.contains("continuing forward to a breakpoint…") == true)
        let step = clock.measure { app.send(.keyPressed(.character("j"))) }
        #expect(step < .milliseconds(50), "j took \(step)")
        let stop = clock.measure { app.send(.keyPressed(.escape)) }
        #expect(stop < .milliseconds(50))
        #expect(app.state.continuing == nil)
        #expect(app.state.message?.text.hasPrefix("continue stopped at") == true)
        let wait = clock.measure { app.finishBackgroundWork() }
        #expect(wait < .seconds(2), "the stopped continue ran on for \(wait)")
    }

    @Test("a continue that finds a hit far away selects it and names the breakpoint")
    func continueFindsAFarHit() {
        let session = CountingLargeSession()
        session.textMatchEvery = 3_000_000
        let app = DebuggerApp(session: session, terminal: HeadlessTerminal(size: Size(columns: 120, rows: 40)), host: SearchTests.host)
        app.send(.keyPressed(.character("b")))
        for c in "reason hlt or verdict mismatch" { app.send(.keyPressed(.character(c))) }
        app.send(.keyPressed(.enter))
        app.send(.keyPressed(.character("c")))
        app.finishBackgroundWork()
        #expect(app.state.selected == ExitNumber(2_999_999))
        #expect(app.state.message?.text == "Breakpoint 1, exit #2999999 (reason hlt or verdict mismatch)")
        #expect(app.state.breakpoints.first?.hits == 1)
    }
}
