import DebuggerUI
import SnapshotTesting
import TestSupport
import Testing

/// Whole-screen snapshots of each pane and overlay at the minimum (80×24) and a roomy
/// (120×40) size, rendered headless from the msr-prot fixture.
@MainActor
@Suite(.snapshots(record: .missing))
struct ScreenSnapshotTests {
    nonisolated static let sizes = [Size(columns: 80, rows: 24), Size(columns: 120, rows: 40)]

    private func snapshot(_ h: AppHarness, _ name: String, _ size: Size, line: UInt = #line) {
        assertSnapshot(of: h.app.frame, as: .screen, named: "\(name)-\(size)", line: line)
    }

    private func goTo(_ h: AppHarness, _ exit: String) {
        h.press(.character(":"))
        h.type(exit)
        h.press(.enter)
    }

    @Test("exit list, decision path, registers and raw lines with a mismatch selected", arguments: sizes)
    func mainMismatch(size: Size) {
        let h = AppHarness(size: size)
        h.press(.right)
        snapshot(h, "main-mismatch-msr-0x1b", size)
    }

    @Test("an L2 MSR exit whose ECX the trace lacks is undetermined", arguments: sizes)
    func undetermined(size: Size) {
        let h = AppHarness(size: size)
        goTo(h, "#12")
        snapshot(h, "undetermined-msr-unknown-ecx", size)
    }

    @Test("VMCB pane focused on an L2 HLT exit reflected to L1", arguments: sizes)
    func vmcbFocused(size: Size) {
        let h = AppHarness(size: size)
        goTo(h, "#26")
        h.press(.tab, .tab, .tab)
        snapshot(h, "vmcb-focused-hlt-reflected", size)
    }

    @Test("VMCB pane decodes an IOIO exit of L1", arguments: sizes)
    func vmcbIOIO(size: Size) {
        let h = AppHarness(size: size)
        goTo(h, "#6")
        h.press(.tab, .tab, .tab)
        snapshot(h, "vmcb-ioio-port-0x510", size)
    }

    @Test("full decision path, and scrolled to its end", arguments: sizes)
    func decisionScrolled(size: Size) {
        let h = AppHarness(size: size)
        h.press(.right, .character("v"))
        snapshot(h, "decision-full", size)
        h.press(.tab)
        for _ in 0..<30 { h.press(.down) }
        snapshot(h, "decision-scrolled-end", size)
    }

    @Test("raw lines with search hits highlighted", arguments: sizes)
    func searchHighlight(size: Size) {
        let h = AppHarness(size: size)
        h.press(.character("/"))
        h.type("kvm_nested_vmexit_inject")
        h.press(.enter)
        snapshot(h, "raw-lines-search-highlight", size)
    }

    @Test("search hits highlighted in decoded fields", arguments: sizes)
    func searchHighlightDecoded(size: Size) {
        let h = AppHarness(size: size)
        h.press(.character("/"))
        h.type("msrpm|MSR_PROT")
        h.press(.enter, .character("v"))
        snapshot(h, "decoded-fields-search-highlight", size)
    }

    @Test("help overlay, drawn from the key table", arguments: sizes)
    func help(size: Size) {
        let h = AppHarness(size: size)
        h.press(.character("?"))
        snapshot(h, "help-overlay", size)
        for _ in 0..<100 { h.press(.down) }
        snapshot(h, "help-overlay-scrolled-end", size)
    }

    @Test("bookmark list overlay", arguments: sizes)
    func bookmarks(size: Size) {
        let h = AppHarness(size: size)
        for exit in ["#6", "#18", "#26"] {
            goTo(h, exit)
            h.press(.character("m"))
        }
        h.press(.character("'"))
        snapshot(h, "bookmarks-overlay", size)
    }

    @Test("prompt line while typing a filter, with its hint", arguments: sizes)
    func filterPrompt(size: Size) {
        let h = AppHarness(size: size)
        h.press(.character("f"))
        h.type("level L2")
        snapshot(h, "prompt-filter-typing", size)
    }

    @Test("filtered list with the filter in the status bar", arguments: sizes)
    func filtered(size: Size) {
        let h = AppHarness(size: size)
        h.press(.character("f"))
        h.type("level L2")
        h.press(.enter)
        h.press(.down, .down)
        snapshot(h, "filtered-level-l2", size)
    }

    @Test("a filter nothing passes", arguments: sizes)
    func filteredEmpty(size: Size) {
        let h = AppHarness(size: size)
        h.press(.character("f"))
        h.type("vcpu 7")
        h.press(.enter)
        snapshot(h, "filtered-empty", size)
    }

    @Test("overwrite confirmation prompt", arguments: sizes)
    func confirmOverwrite(size: Size) {
        let h = AppHarness(size: size, existingFiles: ["mismatches.md"])
        h.press(.character("e"))
        h.type("mismatches.md")
        h.press(.enter)
        snapshot(h, "prompt-confirm-overwrite", size)
    }

    @Test("error message on the prompt line", arguments: sizes)
    func errorMessage(size: Size) {
        let h = AppHarness(size: size)
        h.press(.character("/"))
        h.type("(unclosed")
        h.press(.enter)
        snapshot(h, "message-bad-regex", size)
    }

    @Test("progress bar while the trace is still indexing", arguments: sizes)
    func indexing(size: Size) {
        let h = AppHarness(size: size, session: UIFixtureSession(indexed: 12))
        snapshot(h, "indexing-progress", size)
    }

    @Test("breakpoint hit with breakpoints and bookmarks in the status bar", arguments: sizes)
    func breakpointHit(size: Size) {
        let h = AppHarness(size: size)
        h.press(.character("b"))
        h.type("port 0x511")
        h.press(.enter, .character("m"), .character("c"))
        snapshot(h, "breakpoint-hit-port-0x511", size)
    }

    @Test("plain ASCII glyphs for terminals without UTF-8", arguments: sizes)
    func ascii(size: Size) {
        let h = AppHarness(size: size, glyphs: .ascii)
        h.press(.right)
        snapshot(h, "ascii-main-mismatch", size)
        h.press(.character("?"))
        snapshot(h, "ascii-help-overlay", size)
    }

    @Test("a terminal smaller than 80x24 still draws without overlap")
    func tiny() {
        let size = Size(columns: 60, rows: 16)
        let h = AppHarness(size: size)
        h.press(.right)
        snapshot(h, "tiny-main", size)
    }
}
