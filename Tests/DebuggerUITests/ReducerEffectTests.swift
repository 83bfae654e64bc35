import DebuggerUI
import Replay
import TestSupport
import Testing

@MainActor
@Suite struct ReducerEffectTests {
    @Test("export writes to the named file without overwriting")
    func exportNewFile() {
        let h = AppHarness()
        h.press(.character("e"))
        h.type("out.jsonl")
        h.press(.enter)
        #expect(h.exports.requests == [ExportRequest(path: "out.jsonl", format: .jsonl, overwrite: false)])
        #expect(h.state.message?.text == "wrote 1 mismatch to out.jsonl")
    }

    @Test("E exports the selected exit as a scenario named after the trace and the exit")
    func exportSelectedExit() throws {
        let h = AppHarness()
        h.press(.character("j"))
        let selected = try #require(h.state.selected)
        h.press(.character("E"))
        let request = try #require(h.exports.requests.last)
        #expect(request.exit == selected && request.format == .scenario && !request.overwrite)
        #expect(request.path.hasSuffix(".exit-\(selected.rawValue).scenario"))
        #expect(h.state.message?.text.hasPrefix("wrote exit \(selected) as a decide scenario to ") == true)
    }

    @Test("export to an existing file asks first and overwrites only after y")
    func exportConfirm() {
        let h = AppHarness(existingFiles: ["report.md"])
        h.press(.character("e"))
        h.type("report.md")
        h.press(.enter)
        #expect(h.state.prompt == Prompt(kind: .confirmOverwrite(path: "report.md")))
        h.type("y")
        h.press(.enter)
        #expect(h.exports.requests == [
            ExportRequest(path: "report.md", format: .md, overwrite: false),
            ExportRequest(path: "report.md", format: .md, overwrite: true),
        ])
        #expect(h.state.message?.text == "wrote 1 mismatch to report.md")
    }

    @Test("declining the overwrite leaves the file alone", arguments: ["", "n", "no", "x"])
    func exportDecline(answer: String) {
        let h = AppHarness(existingFiles: ["report.md"])
        h.press(.character("e"))
        h.type("report.md")
        h.press(.enter)
        h.type(answer)
        h.press(.enter)
        #expect(h.exports.requests.count == 1)
        #expect(h.state.message?.text == "export cancelled; report.md left as it was")
    }

    @Test("Esc at the overwrite question cancels the export too")
    func exportEscape() {
        let h = AppHarness(existingFiles: ["report.md"])
        h.press(.character("e"))
        h.type("report.md")
        h.press(.enter, .escape)
        #expect(h.exports.requests.count == 1)
        #expect(h.state.prompt == nil)
    }

    @Test("the reducer asks for an export as an effect; a failure is reported")
    func exportEffect() {
        var state = AppState(size: Size(columns: 80, rows: 24), glyphs: .unicode)
        _ = state.reduce(.keyPressed(.character("e")))
        for c in "x.csv" { _ = state.reduce(.keyPressed(.character(c))) }
        #expect(state.reduce(.keyPressed(.enter)) == [.export(ExportRequest(path: "x.csv", format: .csv, overwrite: false))])
        _ = state.reduce(.exportFinished(.failed(path: "x.csv", reason: "Permission denied")))
        #expect(state.message == Message("export to x.csv failed: Permission denied", isError: true))
    }

    @Test("an export file name without a known extension is refused before any effect")
    func exportUnknownExtension() {
        var state = AppState(size: Size(columns: 80, rows: 24), glyphs: .unicode)
        _ = state.reduce(.keyPressed(.character("e")))
        for c in "mismatches.txt" { _ = state.reduce(.keyPressed(.character(c))) }
        #expect(state.reduce(.keyPressed(.enter)) == [])
        #expect(state.message?.isError == true)
    }

    @Test("switching profile replaces the session and updates the verdicts, keeping the selection")
    func switchProfile() {
        let h = AppHarness()
        h.press(.character("]"))
        #expect(h.selected == 18)
        #expect(h.state.session.counts.mismatch == 1)
        h.press(.character("p"))
        h.type("6.1")
        h.press(.enter)
        #expect(h.state.session.profile == "6.1")
        #expect(h.state.session.counts.mismatch == 0)
        #expect(h.selected == 18)
        #expect(h.state.view.selectedRow?.verdict == .match)
        #expect(h.state.message?.text == "replayed with profile 6.1 (was 6.12): 0 mismatches")
    }

    @Test("a verdict filter follows the new verdicts after a profile switch")
    func switchProfileWithFilter() {
        let h = AppHarness()
        h.press(.character("f"))
        h.type("verdict mismatch")
        h.press(.enter)
        #expect(h.selected == 18)
        h.press(.character("p"))
        h.type("6.1")
        h.press(.enter)
        #expect(h.state.selected == nil)
        #expect(h.state.view.rows.isEmpty)
    }

    @Test("unknown profiles are refused without an effect", arguments: ["5.10", "6.12"])
    func unknownProfile(name: String) {
        var state = AppState(
            size: Size(columns: 80, rows: 24), glyphs: .unicode,
            session: SessionInfo(UIFixtureSession()))
        _ = state.reduce(.keyPressed(.character("p")))
        for c in name { _ = state.reduce(.keyPressed(.character(c))) }
        #expect(state.reduce(.keyPressed(.enter)) == [])
        #expect(state.message != nil)
    }

    @Test("a failing profile switch keeps the old session")
    func failedSwitch() {
        var state = AppState(size: Size(columns: 80, rows: 24), glyphs: .unicode, session: SessionInfo(UIFixtureSession()))
        _ = state.reduce(.profileSwitchFailed(profile: "6.1", reason: "profile file missing"))
        #expect(state.session.profile == "6.12")
        #expect(state.message?.isError == true)
    }

    @Test("while indexing, the list is usable and grows as the session indexes more")
    func indexing() {
        let h = AppHarness(session: UIFixtureSession(scriptedMismatches: [18], indexed: 12))
        #expect(h.selected == 0)
        #expect(!h.state.session.progress.isFinished)
        h.press(.end)
        #expect(h.selected == 11)
        h.app.send(.indexProgressed(SessionInfo(UIFixtureSession(scriptedMismatches: [18]))))
        #expect(h.state.session.progress.isFinished)
    }

    @Test("an empty session selects nothing until exits arrive")
    func emptySession() {
        var state = AppState(size: Size(columns: 80, rows: 24), glyphs: .unicode)
        #expect(state.reduce(.keyPressed(.down)) == [])
        let effects = state.reduce(.indexProgressed(SessionInfo(UIFixtureSession(indexed: 3))))
        #expect(effects.count == 1)
        guard case .locate(let request) = effects.first else {
            Issue.record("expected a locate effect")
            return
        }
        _ = state.reduce(.located(request, ExitNumber(0)))
        #expect(state.selected == ExitNumber(0))
    }
}

@MainActor
@Suite struct IndexingTickTests {
    @Test("progress ticks without new exits do not repeat the empty-filter search or its message")
    func quietTicks() {
        var state = AppState(size: Size(columns: 80, rows: 24), glyphs: .unicode)
        let partial = SessionInfo(UIFixtureSession(indexed: 5))
        let effects = state.reduce(.indexProgressed(partial))
        #expect(effects.count == 1)
        state.message = Message("kept")
        #expect(state.reduce(.indexProgressed(partial)) == [])
        #expect(state.message == Message("kept"))
    }
}
