@testable import DebuggerSession
import DebuggerUI
import Foundation
import Replay
import SnapshotTesting
import TestSupport
import Testing

/// Whole-screen snapshots of the debugger over real replays (no fixture session): the
/// main view, the help overlay, a real mismatch and an L2 exit's VMCB, at 80×24 and 120×40.
@MainActor
@Suite(.snapshots(record: .missing))
struct RealReplaySnapshotTests {
    nonisolated static let sizes = [Size(columns: 80, rows: 24), Size(columns: 120, rows: 40)]

    private func app(_ result: ReplayResult, size: Size, glyphs: GlyphSet = .unicode) -> DebuggerApp {
        let terminal = HeadlessTerminal(size: size, glyphs: glyphs)
        let host = DebuggerHost(
            export: { request, _ in .failed(path: request.path, reason: "not used in snapshots") },
            switchProfile: { profile in throw SnapshotHostError.noSwitch(profile) })
        return DebuggerApp(session: ReplaySession(result: result), terminal: terminal, host: host)
    }

    private func press(_ app: DebuggerApp, _ keys: Key...) { for key in keys { app.send(.keyPressed(key)) } }

    @Test("main view of msr-prot as replayed", arguments: sizes)
    func mainView(size: Size) throws {
        let app = app(try ReplayedTrace.msrProt.replay(), size: size)
        assertSnapshot(of: app.frame, as: .screen, named: "real-main-msr-prot-\(size)")
    }

    @Test("help overlay over a real replay", arguments: sizes)
    func help(size: Size) throws {
        let app = app(try ReplayedTrace.msrProt.replay(), size: size)
        press(app, .character("?"))
        assertSnapshot(of: app.frame, as: .screen, named: "real-help-\(size)")
    }

    @Test("a real mismatch: msr-prot with one reflected MSR exit recorded as hlt", arguments: sizes)
    func mismatch(size: Size) throws {
        let app = app(try ReplayedTrace.msrProtWithChangedInject(), size: size)
        press(app, .right)
        #expect(app.state.selected == ExitNumber(12))
        assertSnapshot(of: app.frame, as: .screen, named: "real-mismatch-msr-recorded-hlt-\(size)")
    }

    @Test("the VMCB pane of an L2 VMLOAD exit on Naples, ASCII glyphs", arguments: sizes)
    func naplesVMCB(size: Size) throws {
        let result = try ReplayedTrace.naplesBadRAX.replay()
        let app = app(result, size: size, glyphs: .ascii)
        let target = try #require(result.exits.first { $0.reasonName == "GP excp" && $0.level == .l2 })
        press(app, .character(":"))
        for c in "#\(target.index)" { press(app, .character(c)) }
        press(app, .enter, .tab, .tab, .tab)
        assertSnapshot(of: app.frame, as: .screen, named: "real-naples-gp-vmcb-ascii-\(size)")
    }
}

enum SnapshotHostError: Error { case noSwitch(String) }
