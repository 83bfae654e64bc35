import DebuggerUI
import TestSupport
import Testing

@MainActor
@Suite struct ReducerNavigationTests {
    @Test("the first exit is selected as soon as the session has exits")
    func initialSelection() {
        let h = AppHarness()
        #expect(h.selected == 0)
        #expect(h.state.view.rows.first?.number == ExitNumber(0))
        #expect(h.state.view.detail?.number == ExitNumber(0))
    }

    @Test("stepping moves one exit and clamps at both ends")
    func stepping() {
        let h = AppHarness()
        h.press(.up)
        #expect(h.selected == 0)
        h.press(.down, .character("j"))
        #expect(h.selected == 2)
        h.press(.character("k"))
        #expect(h.selected == 1)
        h.press(.end)
        #expect(h.selected == 30)
        h.press(.down)
        #expect(h.selected == 30)
        h.press(.character("g"))
        #expect(h.selected == 0)
    }

    @Test("page down moves by the list height minus one and clamps at the last exit")
    func paging() {
        let h = AppHarness(size: Size(columns: 80, rows: 24))
        let page = h.state.layout.listRows - 1
        h.press(.pageDown)
        #expect(h.selected == page)
        for _ in 0..<10 { h.press(.pageDown) }
        #expect(h.selected == 30)
        h.press(.pageUp)
        #expect(h.selected == 30 - page)
    }

    @Test("the selected exit always stays inside the list window")
    func selectionVisible() {
        let h = AppHarness(size: Size(columns: 80, rows: 24))
        for _ in 0..<12 {
            h.press(.down)
            #expect(h.state.view.rows.contains { $0.number == h.state.selected })
        }
        h.press(.end)
        #expect(h.state.view.rows.last?.number == ExitNumber(30))
        #expect(h.state.view.rows.count == h.state.layout.listRows)
        for _ in 0..<20 {
            h.press(.up)
            #expect(h.state.view.rows.contains { $0.number == h.state.selected })
        }
    }

    @Test("] and [ go to the next and previous mismatch")
    func mismatches() {
        let h = AppHarness(session: UIFixtureSession(scriptedMismatches: [18, 25]))
        h.press(.character("]"))
        #expect(h.selected == 18)
        h.press(.right)
        #expect(h.selected == 25)
        h.press(.right)
        #expect(h.selected == 25)
        #expect(h.state.message?.text == "no mismatch forward of #25")
        h.press(.character("["))
        #expect(h.selected == 18)
    }

    @Test("go to accepts an exit number, a timestamp, and clamps past the end", arguments: [
        ("#12", 12), ("12", 12), ("22.046641", 12), ("22.0466", 12), ("#99", 30), ("22.0", 0), ("22", 22),
    ])
    func goTo(input: String, expected: Int) {
        let h = AppHarness()
        h.press(.character(":"))
        h.type(input)
        h.press(.enter)
        #expect(h.selected == expected)
        #expect(h.state.prompt == nil)
    }

    @Test("go to rejects text that is neither an exit number nor a timestamp")
    func goToRejects() {
        let h = AppHarness()
        h.press(.character(":"))
        h.type("abc")
        h.press(.enter)
        #expect(h.selected == 0)
        #expect(h.state.message?.isError == true)
    }

    @Test("a timestamp after the last exit selects the last exit")
    func timeAfterEnd() {
        let h = AppHarness()
        h.press(.character(":"))
        h.type("99.5")
        h.press(.enter)
        #expect(h.selected == 30)
    }

    @Test("resizing keeps the selection visible and clamps detail scrolling")
    func resize() {
        let h = AppHarness(size: Size(columns: 120, rows: 40))
        h.press(.character(":"))
        h.type("#18")
        h.press(.enter, .character("v"), .tab)
        for _ in 0..<40 { h.press(.down) }
        let scrolled = h.state.scroll[.decision] ?? 0
        #expect(scrolled > 0)
        #expect(scrolled == h.state.maxScroll(of: .decision))
        h.app.send(.resized(Size(columns: 80, rows: 24)))
        #expect(h.state.view.rows.contains { $0.number == ExitNumber(18) })
        #expect((h.state.scroll[.decision] ?? 0) <= h.state.maxScroll(of: .decision))
        h.app.send(.resized(Size(columns: 200, rows: 60)))
        #expect((h.state.scroll[.decision] ?? 0) <= h.state.maxScroll(of: .decision))
        #expect(h.state.selected == ExitNumber(18))
    }

    @Test("v switches the decision path between one line per step and the full explanation")
    func fullDecisionPath() {
        let h = AppHarness()
        h.press(.right)
        let width = h.state.layout.decision.width
        let compact = DecisionPathPane.lines(for: h.state, width: width).count
        h.press(.character("v"))
        #expect(h.state.showsFullDecisionPath)
        #expect(DecisionPathPane.lines(for: h.state, width: width).count > compact)
        h.press(.character("v"))
        #expect(!h.state.showsFullDecisionPath)
    }

    @Test("Tab cycles the focus; in a detail pane arrows scroll instead of moving the selection")
    func focus() {
        let h = AppHarness()
        h.press(.tab)
        #expect(h.state.focus == .decision)
        #expect(h.state.keyScope == .detail)
        h.press(.down)
        #expect(h.selected == 0)
        h.press(.character("]"))
        #expect(h.state.keyScope == .detail)
        h.press(.escape)
        #expect(h.state.focus == .exitList)
        h.press(.backTab)
        #expect(h.state.focus == .rawLines)
    }

    @Test("the compact layout shows the VMCB pane once it is focused")
    func compactSide() {
        let h = AppHarness(size: Size(columns: 80, rows: 24))
        #expect(h.state.layout.vmcb.isEmpty)
        h.press(.tab, .tab, .tab)
        #expect(h.state.focus == .vmcb)
        #expect(!h.state.layout.vmcb.isEmpty)
        #expect(h.state.layout.registers.isEmpty)
    }

    @Test("q quits with a quit effect; a signal does the same")
    func quit() {
        var state = AppState(size: Size(columns: 80, rows: 24), glyphs: .ascii)
        #expect(state.reduce(.keyPressed(.character("q"))) == [.quit])
        #expect(state.isQuitting)
        var other = AppState(size: Size(columns: 80, rows: 24), glyphs: .ascii)
        #expect(other.reduce(.interrupted) == [.quit])
    }

    @Test("the run loop presents frames and returns when the script ends")
    func runLoop() {
        let h = AppHarness(size: Size(columns: 80, rows: 24))
        h.terminal.enqueue([.key(.down), .resized(Size(columns: 100, rows: 30)), .key(.down), .key(.character("q"))])
        h.app.run()
        #expect(h.state.isQuitting)
        #expect(h.selected == 2)
        #expect(h.terminal.lastFrame?.size == Size(columns: 100, rows: 30))
        #expect(h.terminal.frames.count >= 3)
    }
}
