import Foundation
import TestSupport
import Testing

/// The host facts pane (`H`) and the profile diff list (`D`) in a real terminal.
@Suite(.serialized) struct FactsAndDiffEndToEndTests {
    @Test("H shows each host fact with its source line; changing npt replays in place: a wrong npt=1 gives the mismatch, back to the trace's value gives none",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed"))
    func hostFactsPane() throws {
        let tmux = try TUIEndToEndTests.open("lab/6.12-no-npt/cr-access.trace")
        defer { tmux.kill() }
        try tmux.waitFor(all: ["cr-access.trace  #0/41  profile 6.12", "✘0 "])
        try tmux.type("H")
        // npt was inferred from a #PF exit of L1 (shadow paging), with its line.
        let screen = try tmux.waitFor(all: ["Host facts and profile", "profile 6.12", "npt", "PF excp exit while L1 ran (line"])
        let npt = screen.split(separator: "\n").first { $0.contains("│npt ") }
        #expect(npt?.contains(" 0 ") == true && npt?.contains("trace") == true, "npt row: \(npt ?? "none")")
        // Cursor to npt (third fact), set it to 1: the replay runs again and finds the exit no host with npt=1 makes.
        try tmux.type("jj")
        try tmux.press("Enter")
        try tmux.waitFor(all: ["npt=1: replayed, 1 mismatches", "✘1 "])
        try tmux.waitFor("the npt row says given, and what the trace shows") { screen in
            screen.split(separator: "\n").contains { $0.contains("│npt ") && $0.contains("given") && $0.contains("the trace shows 0") }
        }
        // 0 agrees with the trace; a third press goes back to the trace's own value.
        try tmux.press("Enter")
        try tmux.waitFor(all: ["npt=0: replayed, 0 mismatches", "✘0 "])
        try tmux.press("Enter")
        try tmux.waitFor(all: ["npt=as the trace shows (0): replayed, 0 mismatches"])
        // p in the pane switches the profile; the pane shows the new one.
        try tmux.type("p")
        try tmux.type("6.1")
        try tmux.press("Enter")
        try tmux.waitFor(all: ["│profile 6.1 ", "profile 6.1  "])
        try tmux.press("Escape")
        try tmux.waitFor("pane closed") { !$0.contains("Host facts and profile") }
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("D lists the exits another profile decides differently (as svmdbg diff does); Enter jumps to the exit",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed"))
    func profileDiffView() throws {
        let tmux = try TUIEndToEndTests.open("6.12/cr-access.trace")
        defer { tmux.kill() }
        try tmux.waitFor("cr-access.trace  #0/24  profile 6.12")
        // The same profile is refused.
        try tmux.type("D")
        try tmux.type("6.12")
        try tmux.press("Enter")
        try tmux.waitFor("6.12 is the profile replayed")
        try tmux.type("D")
        try tmux.type("up")
        try tmux.press("Tab")
        try tmux.press("Enter")
        // `svmdbg diff traces/6.12/cr-access.trace --profile 6.12 --profile upstream`: exits #10, #14, #17.
        try tmux.waitFor(all: ["Profile diff 6.12 vs upstream: 3 of 24 exits", "#10  line 62  L1  vmrun", "#14  line 81", "#17  line 96",
                               "depends on rax.legal-page"])
        try tmux.type("j")
        try tmux.press("Enter")
        try tmux.waitFor(all: ["cr-access.trace  #14/24  profile 6.12", "Decision path #14"])
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("H lists the --facts files as given facts (path, scopes, exits applied to); f and b take an outcome key",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed"))
    func factsFilesAndOutcomeKey() throws {
        let facts = RepositoryPaths.trace("lab/6.12-no-npt/cpuid-toggle.facts.json").path
        let tmux = try TUIEndToEndTests.open("lab/6.12-no-npt/cpuid-toggle.trace", "--facts '\(facts)'")
        defer { tmux.kill() }
        try tmux.waitFor("cpuid-toggle.trace  #0/")
        try tmux.type("H")
        try tmux.waitFor(all: ["facts files (given, --facts)", "cpuid-toggle.facts.json",
                               "entries, scope every exit, vmrun 1-, L2, L2 rip 0x10264", "applied to"])
        try tmux.press("Escape")
        try tmux.waitFor("pane closed") { !$0.contains("Host facts and profile") }
        // The recorded or predicted outcome, in check --json's words or short.
        try tmux.type("f")
        try tmux.type("outcome vmrun-succeeds")
        try tmux.press("Enter")
        try tmux.waitFor("the list filtered to VMRUNs that entered L2") { screen in
            let listed = TUIEndToEndTests.rows(screen).dropFirst().prefix(8).filter { $0.contains(" #") }
            return screen.contains("filter: outcome vmrun_succeeds") && !listed.isEmpty && listed.allSatisfy { $0.contains("vmrun") }
        }
        try tmux.type("f")
        try tmux.type("outcome inject")
        try tmux.press("Enter")
        try tmux.waitFor("ambiguous outcome 'inject'")
        try tmux.press("Escape")
        try tmux.type("b")
        try tmux.type("outcome reflect and not reason vmrun")
        try tmux.press("Enter")
        try tmux.waitFor("Breakpoint 1: outcome reflect_to_l1 and not reason vmrun")
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }
}
