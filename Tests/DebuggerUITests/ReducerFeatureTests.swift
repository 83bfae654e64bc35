import DebuggerUI
import Replay
import TestSupport
import Testing

@MainActor
@Suite struct ReducerFeatureTests {
    @Test("a forward search finds the next exit whose raw lines match; n and N repeat it")
    func search() {
        let h = AppHarness()
        h.press(.character("/"))
        h.type("msr_read 1b")
        h.press(.enter)
        #expect(h.selected == 18)
        h.press(.character("g"), .character("/"))
        h.type("kvm_nested_vmexit_inject")
        h.press(.enter)
        #expect(h.selected == 12)
        h.press(.character("n"))
        #expect(h.selected == 15)
        h.press(.character("N"))
        #expect(h.selected == 12)
    }

    @Test("a backward search with \\ and a search over decoded fields")
    func backwardSearch() {
        let h = AppHarness()
        h.press(.end, .character("\\"))
        h.type("V_INTR_MASKING")
        h.press(.enter)
        #expect(h.selected == 26)
        h.press(.character("n"))
        #expect(h.selected == 25)
    }

    @Test("smart case: lower-case patterns ignore case, a capital makes it exact")
    func smartCase() {
        let h = AppHarness()
        h.press(.character("/"))
        h.type("reason: hlt")
        h.press(.enter)
        #expect(h.selected == 26)
        #expect(h.state.lastSearch?.query.caseSensitive == false)
        h.press(.character("g"), .character("/"))
        h.type("HLT")
        h.press(.enter)
        #expect(h.state.lastSearch?.query.caseSensitive == true)
    }

    @Test("a search that finds nothing says so and keeps the selection")
    func searchNotFound() {
        let h = AppHarness()
        h.press(.character("/"))
        h.type("no such text")
        h.press(.enter)
        #expect(h.selected == 0)
        #expect(h.state.message == Message("not found forward: no such text in 31 exits", isError: true))
    }

    @Test("a malformed regex is refused before it reaches the session")
    func badRegex() {
        let h = AppHarness()
        h.press(.character("/"))
        h.type("(unclosed")
        h.press(.enter)
        #expect(h.state.message?.isError == true)
        #expect(h.state.lastSearch == nil)
    }

    @Test("n without a previous search explains itself")
    func repeatWithoutSearch() {
        let h = AppHarness()
        h.press(.character("n"))
        #expect(h.state.message?.isError == true)
    }

    @Test("filtering by level moves the selection onto a matching exit and steps within the filter")
    func filterLevel() {
        let h = AppHarness()
        h.press(.character("f"))
        h.type("level L2")
        h.press(.enter)
        #expect(h.state.filter == ExitFilter(level: .l2))
        #expect(h.selected == 11)
        #expect(h.state.view.rows.allSatisfy { $0.level == .l2 })
        h.press(.down)
        #expect(h.selected == 12)
        h.press(.down)
        #expect(h.selected == 15)
        h.press(.character("F"))
        #expect(h.state.filter.isEmpty)
        #expect(h.selected == 15)
        h.press(.down)
        #expect(h.selected == 16)
    }

    @Test("filters combine; an exit number hidden by the filter lands on the next visible one")
    func filterCombinedAndGoTo() {
        let h = AppHarness()
        h.press(.character("f"))
        h.type("reason msr verdict undetermined")
        h.press(.enter)
        #expect(h.selected == 12)
        h.press(.character(":"))
        h.type("#13")
        h.press(.enter)
        #expect(h.selected == 15)
        #expect(h.state.message?.text == "#13 is hidden by the filter; showing #15")
    }

    @Test("a filter nothing passes empties the list and says so")
    func filterEmpty() {
        let h = AppHarness()
        h.press(.character("f"))
        h.type("vcpu 3")
        h.press(.enter)
        #expect(h.state.selected == nil)
        #expect(h.state.view.rows.isEmpty)
        #expect(h.state.message?.isError == true)
        h.press(.character("F"))
        #expect(h.selected == 0)
    }

    @Test("bad filters are refused", arguments: ["level L3", "vcpu", "colour red", "verdict maybe"])
    func badFilter(text: String) {
        let h = AppHarness()
        h.press(.character("f"))
        h.type(text)
        h.press(.enter)
        #expect(h.state.filter.isEmpty)
        #expect(h.state.message?.isError == true)
    }

    @Test("breakpoints on MSR, port, reason, code, vcpu and verdict; c and C continue", arguments: [
        ("msr 0x1b", 18), ("port 0x511", 30), ("reason hlt", 26), ("code 0x80", 10), ("verdict undetermined", 12),
        ("vcpu 0", 1),
    ])
    func breakpoints(text: String, firstHit: Int) {
        let h = AppHarness()
        h.press(.character("b"))
        h.type(text)
        h.press(.enter)
        #expect(h.state.breakpoints.count == 1)
        h.press(.character("c"))
        #expect(h.selected == firstHit)
    }

    @Test("several breakpoints: continue stops at whichever hits first, in both directions")
    func severalBreakpoints() {
        let h = AppHarness()
        for text in ["msr 0xc0010117", "reason hlt"] {
            h.press(.character("b"))
            h.type(text)
            h.press(.enter)
        }
        h.press(.character("c"))
        #expect(h.selected == 3)
        h.press(.character("c"), .character("c"))
        #expect(h.selected == 25)
        h.press(.character("c"))
        #expect(h.selected == 26)
        h.press(.character("c"))
        #expect(h.selected == 26)
        #expect(h.state.message?.text == "no breakpoint hit forward")
        h.press(.character("C"))
        #expect(h.selected == 25)
        h.press(.character("B"), .character("D"))
        #expect(h.state.breakpoints.isEmpty)
        h.press(.character("c"))
        #expect(h.state.message?.isError == true)
    }

    @Test("bookmarks: set, list, move, jump and delete")
    func bookmarks() {
        let h = AppHarness()
        h.press(.character(":"))
        h.type("#5")
        h.press(.enter, .character("m"))
        h.press(.character(":"))
        h.type("#20")
        h.press(.enter, .character("m"))
        #expect(h.state.bookmarks == [ExitNumber(5), ExitNumber(20)])
        h.press(.character("g"), .character("'"))
        #expect(h.state.overlay == .bookmarks(cursor: 0))
        #expect(h.state.view.bookmarkRows.map(\.number) == [ExitNumber(5), ExitNumber(20)])
        h.press(.down, .enter)
        #expect(h.state.overlay == .none)
        #expect(h.selected == 20)
        h.press(.character("m"))
        #expect(h.state.bookmarks == [ExitNumber(5)])
        h.press(.character("'"), .character("d"))
        #expect(h.state.bookmarks.isEmpty)
        #expect(h.state.overlay == .none)
        h.press(.character("'"))
        #expect(h.state.overlay == .none)
    }

    @Test("the prompt takes text, backspace and Esc; keys do not dispatch while it is open")
    func promptEditing() {
        let h = AppHarness()
        h.press(.character("/"))
        h.type("qx")
        h.press(.backspace)
        #expect(h.state.prompt == Prompt(kind: .search(.forward), text: "q"))
        #expect(!h.state.isQuitting)
        h.press(.escape)
        #expect(h.state.prompt == nil)
        #expect(h.selected == 0)
    }

    @Test("help opens with ? and closes with ?, Esc or q; its scroll is clamped")
    func help() {
        let h = AppHarness(size: Size(columns: 80, rows: 24))
        h.press(.character("?"))
        #expect(h.state.overlay == .help(scroll: 0))
        for _ in 0..<200 { h.press(.down) }
        guard case .help(let scroll) = h.state.overlay else {
            Issue.record("help closed")
            return
        }
        #expect(scroll == HelpOverlay.maxScroll(h.state))
        #expect(scroll > 0)
        h.press(.character("q"))
        #expect(h.state.overlay == .none)
        #expect(!h.state.isQuitting)
    }
}
