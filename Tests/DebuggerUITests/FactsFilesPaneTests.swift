@testable import DebuggerSession
@testable import DebuggerUI
import NestedSVM
@testable import Replay
import TestSupport
import Testing
import TraceKit

/// The host facts pane (`H`) lists the `--facts` files in effect: path, scopes, and how many
/// exits each applied to.
@Suite struct FactsFilesPaneTests {
    static func replay(_ files: [FactsFile]) throws -> ReplayResult {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("lab/6.12-no-npt/cpuid-toggle.trace").path)
        let options = ReplayOptions(profile: KernelProfile(named: "6.12")!, facts: files)
        return Replayer(trace: trace, options: options).run()
    }

    @Test("a scoped entry applies to the exits whose vmcb12 the replay tracked there; another address to none")
    func scopedCounts() throws {
        let shipped = try FactsFile.read(path: RepositoryPaths.trace("lab/6.12-no-npt/cpuid-toggle.facts.json").path)
        // The shipped file scopes its vmcb12 by VMRUN ordinal; the same entry scoped by the
        // vmcb12 address L1 builds (lab/src/l1.c: 0x31000) instead.
        var scoped = try #require(shipped.entries.first { $0.vmruns != nil })
        scoped.vmruns = nil
        scoped.rax = nil
        scoped.vmcb12Address = 0x31000
        let address: UInt64 = 0x31000
        var moved = scoped
        moved.vmcb12Address = address + 0x1000
        let files = [shipped, FactsFile(path: "scoped.json", entries: [scoped]), FactsFile(path: "moved.json", entries: [moved])]
        let result = try Self.replay(files)
        let uses = FactsFileUse.of(result)
        // The oracle: the state the replay re-derives for each exit (not the scan the pane uses).
        let tracked = result.exits.indices.filter { result.state(at: $0).vmcb12Address?.value == address }.count
        #expect(tracked > 0)
        #expect(uses.map(\.path) == [shipped.path, "scoped.json", "moved.json"])
        #expect(uses[0].exits == result.exits.count)  // its first entry has no scope
        #expect(uses[0].scopes == ["every exit", "vmrun 1-", "L2", "L2 rip 0x10264", "L2 rip 0x1026a", "L2 rip 0x10273", "L2 rip 0x10294"])
        #expect(uses[0].entries == shipped.entries.count)
        let scanned = FactsFileUse.vmcb12Addresses(result)
        let differing = result.exits.indices.filter { result.state(at: $0).vmcb12Address?.value != scanned[$0] }
        #expect(uses[1].exits == tracked, "differ at \(differing.map { "#\($0) \(result.exits[$0].reasonName) line \(result.exits[$0].lines) \(result.exits[$0].origin) state \(result.state(at: $0).vmcb12Address.map { "\($0.value)" } ?? "nil") scan \(scanned[$0].map { "\($0)" } ?? "nil")" })")
        #expect(uses[1].exits < result.exits.count)
        #expect(uses[2].exits == 0)
        // The session hands them to the pane, and nothing without --facts.
        #expect(ReplaySession(result: result).factsFiles() == uses)
        #expect(ReplaySession(result: try Self.replay([])).factsFiles().isEmpty)
    }

    @Test("the H pane lists each facts file as given facts with its scopes and exit count")
    func paneText() throws {
        let shipped = try FactsFile.read(path: RepositoryPaths.trace("lab/6.12-no-npt/cpuid-toggle.facts.json").path)
        let result = try Self.replay([shipped])
        let session = ReplaySession(result: result)
        var state = AppState(size: Size(columns: 120, rows: 40), glyphs: .unicode)
        _ = state.reduce(.indexProgressed(SessionInfo(session)))
        _ = state.reduce(.keyPressed(.character("H")))
        _ = state.reduce(.viewLoaded(ViewLoader.load(state, from: session)))
        let text = FactsOverlay.lines(state, width: 100).map(\.text)
        #expect(text.contains("facts files (given, --facts)"))
        #expect(text.contains { $0.contains(shipped.path.suffix(30)) })
        #expect(text.contains { $0.contains("\(shipped.entries.count) entries, scope every exit, vmrun 1-, L2, L2 rip 0x10264") })
        #expect(text.joined(separator: " ").contains("applied to \(result.exits.count) of \(result.exits.count) exits"))
        // Without --facts the pane says none was given.
        let plain = ReplaySession(result: try Self.replay([]))
        var other = AppState(size: Size(columns: 120, rows: 40), glyphs: .unicode)
        _ = other.reduce(.indexProgressed(SessionInfo(plain)))
        _ = other.reduce(.keyPressed(.character("H")))
        _ = other.reduce(.viewLoaded(ViewLoader.load(other, from: plain)))
        #expect(FactsOverlay.lines(other, width: 100).map(\.text).contains { $0.hasPrefix("facts files: none given") })
    }

    @Test("H lists the host keys a trace never proves, and at 80x24 the last fact scrolls the facts-file lines into view")
    func smallTerminal() throws {
        let shipped = try FactsFile.read(path: RepositoryPaths.trace("lab/6.12-no-npt/cpuid-toggle.facts.json").path)
        let session = ReplaySession(result: try Self.replay([shipped]))
        var state = AppState(size: Size(columns: 80, rows: 24), glyphs: .unicode)
        _ = state.reduce(.indexProgressed(SessionInfo(session)))
        _ = state.reduce(.keyPressed(.character("H")))
        _ = state.reduce(.viewLoaded(ViewLoader.load(state, from: session)))
        let keys = state.session.hostFacts.map(\.key)
        #expect(Array(keys.suffix(HostFacts.inputOnlyKeys.count)) == HostFacts.inputOnlyKeys)
        #expect(keys.contains("guest_debug_sw_bp") && keys.contains("force_emulation_prefix"))
        #expect(state.session.hostFacts.filter { !$0.isToggle }.map(\.key) == ["maxphyaddr", "pause_filter_count", "pause_filter_thresh"])
        func screenText() -> String {
            var screen = Screen(size: state.size)
            guard case .facts(let cursor) = state.overlay else { return "" }
            FactsOverlay.render(state, cursor: cursor, into: &screen)
            return (0..<state.size.rows).map { screen.text(ofRow: $0) }.joined(separator: "\n")
        }
        let first = screenText()
        #expect(first.contains("svme_addr_chk"))
        #expect(!first.contains("facts files (given, --facts)"), "24 rows hold the facts or the files, not both: \(first)")
        #expect(first.contains("more: move down"))
        for _ in keys { _ = state.reduce(.keyPressed(.down)) }
        let last = screenText()
        #expect(last.contains(HostFacts.inputOnlyKeys.last!))
        #expect(last.contains("facts files (given, --facts)"), "\(last)")
        #expect(!last.contains("more: move down"))
    }
}
