import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import Testing

/// A tmux server of its own (`tmux -L svmdbg-e2e-<pid>-<n>`) running one shell in a
/// 120×40 window: keys go in with `send-keys`, the screen comes back with `capture-pane`.
final class TmuxSession {
    /// Whether tmux can be run at all.
    static let isInstalled: Bool = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.contains { FileManager.default.isExecutableFile(atPath: "\($0)/tmux") }
    }()

    let socket: String
    private(set) var lastScreen = ""

    init(columns: Int = 120, rows: Int = 40, environment: [String: String]) throws {
        socket = "svmdbg-e2e-\(getpid())-\(UUID().uuidString.prefix(8))"
        let exports = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        _ = try tmux(["new-session", "-d", "-x", "\(columns)", "-y", "\(rows)", "env"] + exports + ["PS1=$ ", "sh"])
    }

    /// Stops the server (and with it the shell and anything still running in it) and
    /// removes its socket file.
    func kill() {
        _ = try? tmux(["kill-server"])
        let folder = ProcessInfo.processInfo.environment["TMUX_TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        unlink("\(folder)/tmux-\(getuid())/\(socket)")
    }

    /// Types `text` literally.
    func type(_ text: String) throws { _ = try tmux(["send-keys", "-l", text]) }

    /// Presses named keys (`Enter`, `Escape`).
    func press(_ keys: String...) throws { _ = try tmux(["send-keys"] + keys) }

    /// The visible screen.
    func screen() throws -> String { try tmux(["capture-pane", "-p"]) }

    /// The visible screen with its attributes as escape sequences (`capture-pane -e`).
    func screenWithAttributes() throws -> String { try tmux(["capture-pane", "-p", "-e"]) }

    /// A tmux format of the pane, e.g. `#{mouse_any_flag}` (whether the program asked for the mouse).
    func display(_ format: String) throws -> String {
        try tmux(["display-message", "-p", format]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls the screen until `condition` holds; fails with the last screen after `timeout`.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: (String) -> Bool) throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            lastScreen = try screen()
            if condition(lastScreen) { return lastScreen }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TmuxTimeout(description: "timed out waiting for \(what); screen was:\n\(lastScreen)")
    }

    /// Polls until the screen contains every one of `texts` (curses may be mid-redraw when
    /// only some of them are there).
    @discardableResult
    func waitFor(all texts: [String], timeout: Duration = .seconds(30)) throws -> String {
        try waitFor(texts.map { "'\($0)'" }.joined(separator: " and "), timeout: timeout) { screen in
            texts.allSatisfy { screen.contains($0) }
        }
    }

    /// Polls until the screen contains `text`.
    @discardableResult
    func waitFor(_ text: String, timeout: Duration = .seconds(30)) throws -> String {
        try waitFor("'\(text)'", timeout: timeout) { $0.contains(text) }
    }

    /// Runs one tmux client command and returns what it printed.
    ///
    /// Spawned with `posix_spawnp` and reaped with `waitpid`, not with Foundation's
    /// `Process`: `new-session` starts the tmux server, which keeps every descriptor it
    /// inherits, and `Process` would wait for its own status socket to close forever. The
    /// output goes to a file for the same reason.
    private func tmux(_ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-\(UUID().uuidString).out").path
        defer { unlink(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ["tmux", "-L", socket] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        // The test runner's threads block most signals and posix_spawn passes the mask on;
        // a tmux server started with it would ignore SIGTERM/SIGCHLD (and `kill-server`).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let spawned = posix_spawnp(&pid, "tmux", &actions, &attributes, &cArguments, environ)
        guard spawned == 0 else { throw TmuxTimeout(description: "cannot run tmux: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }
}

struct TmuxTimeout: Error, CustomStringConvertible {
    var description: String
}

/// Drives the real `svmdbg` binary in tmux on a shipped trace (with one recorded outcome
/// changed, so that a mismatch exists): open, step, jump to the mismatch, help, filter,
/// export, quit, and the shell gets control back with status 0.
@Suite(.serialized) struct TUIEndToEndTests {
    static let host = "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0"

    /// msr-prot with its first reflected MSR exit recorded as `hlt`, in a fresh folder.
    static func mutatedTrace() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
            .replacingOccurrences(
                of: "22.046753: kvm_nested_vmexit_inject: reason: msr", with: "22.046753: kvm_nested_vmexit_inject: reason: hlt")
        let trace = folder.appendingPathComponent("msr-prot-mutated.trace")
        try text.write(to: trace, atomically: true, encoding: .utf8)
        return trace
    }

    @Test("open, step, jump to the mismatch, help, filter, export and quit in a real terminal",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func session() throws {
        let trace = try Self.mutatedTrace()
        let folder = trace.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tmux = try TmuxSession(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        defer { tmux.kill() }
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }  // capture-pane trims the space
        let binary = RepositoryPaths.svmdbgExecutable.path
        try tmux.type("cd '\(folder.path)' && '\(binary)' \(trace.lastPathComponent) --host \(Self.host); echo \"svmdbg-status=$?\"")
        try tmux.press("Enter")

        // Open: the replay finishes in the background and the counts show one mismatch.
        try tmux.waitFor(all: ["✘1 ?0 ·0 ✔20 ≈10", "msr-prot-mutated.trace  #0/31  profile 6.12", "Decision path #0"])

        // Step.
        try tmux.type("j")
        try tmux.waitFor(all: ["#1/31", "Decision path #1", "rdmsr 0xc0000080"])

        // Jump to the mismatch.
        try tmux.type("]")
        try tmux.waitFor(all: ["#12/31", "Decision path #12", "✘ mismatch", "kvm_nested_vmexit_inject: reason: hlt"])

        // Help, then close it.
        try tmux.type("?")
        try tmux.waitFor(all: ["Help (Esc closes)", "next mismatch", "previous mismatch"])
        try tmux.press("Escape")
        try tmux.waitFor("help closed") { !$0.contains("Help (Esc closes)") }

        // Filter to IOIO exits.
        try tmux.type("f")
        try tmux.type("reason io")
        try tmux.press("Enter")
        // The prompt echoes the text too: wait for the list (msr-prot has 10 IOIO exits, all
        // on screen) and the status bar, not for the text.
        try tmux.waitFor("the list filtered to IOIO exits") { screen in
            let rows = screen.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().prefix(10)
            return rows.count == 10 && rows.allSatisfy { $0.contains(" io ") && $0.contains("out 0x51") }
                && screen.contains("filter: reason io")
        }

        // Export the mismatches.
        let output = folder.appendingPathComponent("mismatches.jsonl")
        try tmux.type("e")
        try tmux.type(output.path)
        try tmux.press("Enter")
        try tmux.waitFor("wrote 1 mismatch to")
        let exported = try String(contentsOf: output, encoding: .utf8)
        let lines = exported.split(separator: "\n")
        #expect(lines.count == 1)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(record["verdict"] as? String == "mismatch")
        #expect(record["exit"] as? Int == 12)

        // Export again: the file exists, so the UI asks before replacing it; say no.
        try tmux.type("e")
        try tmux.type(output.path)
        try tmux.press("Enter")
        try tmux.waitFor("overwrite") { $0.lowercased().contains("overwrite") || $0.lowercased().contains("exists") }
        try tmux.press("Escape")
        #expect(try String(contentsOf: output, encoding: .utf8) == exported)
        // … and once more, confirming with y: replaced atomically, same content.
        try tmux.type("e")
        try tmux.type(output.path)
        try tmux.press("Enter")
        try tmux.waitFor("overwrite") { $0.lowercased().contains("overwrite") || $0.lowercased().contains("exists") }
        try tmux.type("y")
        try tmux.press("Enter")
        try tmux.waitFor("wrote 1 mismatch to \(output.path)")
        #expect(try String(contentsOf: output, encoding: .utf8) == exported)

        // Switch the kernel profile: the loaded trace is replayed again under 6.1.
        try tmux.type("p")
        try tmux.type("6.1")
        try tmux.press("Enter")
        try tmux.waitFor("profile 6.1 ")
        #expect(tmux.lastScreen.contains("replayed with profile 6.1 (was 6.12)") || tmux.lastScreen.contains("replaying with profile 6.1"))

        // Quit: the terminal is restored and the shell prints the status.
        try tmux.type("q")
        let after = try tmux.waitFor("svmdbg-status=0")
        #expect(!after.contains("Decision path"))

        // Ctrl-C (SIGINT) also quits through the normal path: the tty is back in cooked mode.
        try tmux.type("'\(binary)' \(trace.lastPathComponent) --host \(Self.host); echo \"sigint-status=$?\"; stty -a")
        try tmux.press("Enter")
        try tmux.waitFor("✘1 ?0 ·0 ✔20 ≈10")
        try tmux.press("C-c")
        let restored = try tmux.waitFor("the status and stty's settings") {
            $0.contains("sigint-status=0") && $0.contains("icanon")
        }
        #expect(restored.contains(" icanon") && restored.contains(" echo "), "\(restored)")
        #expect(!restored.contains("-icanon"))
    }

    /// How many launches the loading-screen test makes (`scripts/tui-launch-loop.sh` makes 200).
    static let launches = Int(ProcessInfo.processInfo.environment["SVMDBG_E2E_LAUNCHES"] ?? "") ?? 20

    @Test("no launch stays on the loading screen: the finished replay wakes the UI loop",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func launchesNeverStayLoading() throws {
        let tmux = try TmuxSession(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        defer { tmux.kill() }
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }
        let binary = RepositoryPaths.svmdbgExecutable.path
        let trace = RepositoryPaths.trace("6.12/msr-prot.trace").path
        for launch in 1...Self.launches {
            try tmux.type("'\(binary)' '\(trace)'; echo \"launch-\(launch)-status=$?\"")
            try tmux.press("Enter")
            // 31 exits replay in milliseconds; a lost wake-up leaves "indexing… no exits yet"
            // on screen for ever (until a key), so 10 s is a generous bound.
            try tmux.waitFor("launch \(launch) showing the replayed trace", timeout: .seconds(10)) {
                $0.contains("msr-prot.trace  #0/31") && !$0.contains("no exits yet")
            }
            try tmux.type("q")
            try tmux.waitFor("launch-\(launch)-status=0")
            try tmux.type("clear")
            try tmux.press("Enter")
            try tmux.waitFor("a clear screen") { !$0.contains("launch-\(launch)-status") }
        }
    }

    @Test("a file with no trace events (README.md, a perf.data) is refused with one line and status 2, not opened empty",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func refusesFilesWithoutEvents() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // perf record's file starts with the PERFILE2 magic and is binary after it.
        var perf = Data("PERFILE2".utf8)
        perf.append(contentsOf: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
        try perf.write(to: folder.appendingPathComponent("perf.data"))
        try FileManager.default.copyItem(at: RepositoryPaths.root.appendingPathComponent("README.md"), to: folder.appendingPathComponent("README.md"))
        let tmux = try TmuxSession(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        defer { tmux.kill() }
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }
        let binary = RepositoryPaths.svmdbgExecutable.path
        for name in ["README.md", "perf.data"] {
            try tmux.type("clear; cd '\(folder.path)' && '\(binary)' \(name) 2>err.txt; echo \"\(name)-status=$?\"; cat err.txt")
            try tmux.press("Enter")
            // The typed command line holds "-status=$?" too: wait for a digit after it.
            let screen = try tmux.waitFor("\(name)'s status") { screen in
                (0...9).contains { screen.contains("\(name)-status=\($0)") }
            }
            #expect(screen.contains("\(name)-status=2"), "\(screen)")
            #expect(!screen.contains("Decision path"))
            let stderr = try String(contentsOf: folder.appendingPathComponent("err.txt"), encoding: .utf8)
            #expect(stderr.hasPrefix("svmdbg: "), "\(stderr)")
            #expect(stderr.contains(name), "\(stderr)")
            #expect(stderr.split(separator: "\n").count == 1, "\(stderr)")
        }
    }

    /// Starts a shell in tmux at `columns`×`rows` and opens `trace` (a path under traces/).
    /// Bookmarks made here are not saved next to the repository's traces (`SVMDBG_NOTES=off`).
    static func open(_ trace: String, _ arguments: String = "", columns: Int = 120, rows: Int = 40) throws -> TmuxSession {
        let tmux = try TmuxSession(columns: columns, rows: rows,
                                   environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "SVMDBG_NOTES": "off"])
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }
        try tmux.type("'\(RepositoryPaths.svmdbgExecutable.path)' '\(RepositoryPaths.trace(trace).path)' \(arguments); echo \"svmdbg-status=$?\"")
        try tmux.press("Enter")
        return tmux
    }

    static func rows(_ screen: String) -> [Substring] {
        screen.split(separator: "\n", omittingEmptySubsequences: false)
    }

    @Test("f/b name reasons in any spelling (vmmcall finds hypercall, GP excp with its space); the prompt opens empty and edits with C-w, C-u, Up and Tab",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func reasonNamesAndPromptEditing() throws {
        let tmux = try Self.open("6.12/vmmcall.trace")
        defer { tmux.kill() }
        try tmux.waitFor("vmmcall.trace  #0/")
        try tmux.type("f")
        try tmux.type("reason vmmcall")
        try tmux.press("Enter")
        try tmux.waitFor("the list filtered to hypercall exits") { screen in
            let listed = Self.rows(screen).dropFirst().prefix(8).filter { $0.contains(" #") }
            return screen.contains("filter: reason hypercall") && !listed.isEmpty && listed.allSatisfy { $0.contains("hypercall") }
        }
        // The prompt opens empty, not with the current filter.
        try tmux.type("f")
        let prompt = try tmux.waitFor("the filter prompt") { Self.rows($0).last { !$0.isEmpty }?.hasPrefix("filter: █") == true }
        #expect(!(Self.rows(prompt).last { !$0.isEmpty } ?? "").contains("hypercall"))
        // Typing, C-w (one word), C-u (all), Up (history: the filter in force), Tab (completion).
        try tmux.type("level l2 reason msr")
        try tmux.press("C-w")
        try tmux.waitFor("C-w deleted a word") { $0.contains("filter: level l2 reason █") }
        try tmux.press("C-u")
        try tmux.waitFor("C-u cleared the input") { $0.contains("filter: █") }
        try tmux.press("Up")
        try tmux.waitFor("Up recalled the last filter") { $0.contains("filter: reason vmmcall█") }
        try tmux.press("C-u")
        try tmux.type("verd")
        try tmux.press("Tab")
        try tmux.waitFor("Tab completed the field") { $0.contains("filter: verdict █") }
        try tmux.type("mis")
        try tmux.press("Tab")
        try tmux.waitFor("Tab completed the value") { $0.contains("filter: verdict mismatch █") }
        try tmux.press("Escape")
        // A breakpoint on the APM name is set under the kernel's name.
        try tmux.type("b")
        try tmux.type("reason VMEXIT_VMMCALL")
        try tmux.press("Enter")
        try tmux.waitFor("Breakpoint 1: reason hypercall")
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")

        // A reason with a space.
        let exceptions = try Self.open("6.12/exceptions.trace")
        defer { exceptions.kill() }
        try exceptions.waitFor("exceptions.trace  #0/")
        try exceptions.type("f")
        try exceptions.type("reason gp EXCP")
        try exceptions.press("Enter")
        try exceptions.waitFor("the list filtered to #GP exits") { screen in
            let listed = Self.rows(screen).dropFirst().prefix(8).filter { $0.contains(" #") }
            return screen.contains("filter: reason gp excp") && !listed.isEmpty && listed.allSatisfy { $0.contains("GP excp") }
        }
        try exceptions.type("q")
        try exceptions.waitFor("svmdbg-status=0")
    }

    @Test("the VMCB12 pane of a perf-script trace shows no NPT root after a nested_npt=n VMRUN, and L2's CR3 as such",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func vmcbAfterNestedNPTOff() throws {
        let tmux = try Self.open("6.12/msr-prot.perf", "--host npt=1", columns: 200, rows: 60)
        defer { tmux.kill() }
        try tmux.waitFor("msr-prot.perf  #0/")
        // The first L2 exit.
        try tmux.type("f")
        try tmux.type("level l2")
        try tmux.press("Enter")
        try tmux.waitFor("filter: level L2")
        let screen = try tmux.waitFor(all: ["nested_cr3", "not used (nested paging off)", "save.cr3", "L2's CR3"])
        #expect(!screen.contains("NPT root"))
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("at 80x24 the VMCB12 pane is named on screen and one key away, and the status line keeps 'profile upstream' whole",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func smallTerminal() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let long = folder.appendingPathComponent("a-rather-long-name-for-the-msr-protection-trace.trace")
        try FileManager.default.copyItem(at: RepositoryPaths.trace("6.12/msr-prot.trace"), to: long)
        let tmux = try TmuxSession(columns: 80, rows: 24, environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        defer { tmux.kill() }
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }
        try tmux.type("clear; '\(RepositoryPaths.svmdbgExecutable.path)' '\(long.path)' --profile upstream; echo \"svmdbg-status=$?\"")
        try tmux.press("Enter")
        try tmux.waitFor(all: ["#0/31  profile upstream ", "Registers [x: VMCB12]"])
        // A filter and a bookmark make the left side longer still: the profile stays whole.
        try tmux.type("f")
        try tmux.type("reason msr level l2")
        try tmux.press("Enter")
        try tmux.type("m")
        try tmux.waitFor(all: ["profile upstream  filter:", "bookmarked"])
        try tmux.type("x")
        try tmux.waitFor(all: ["VMCB12 (L1's view) [x: registers]", "vmcb12 intercepts"])
        try tmux.type("x")
        try tmux.waitFor("Registers [x: VMCB12]")
        // C-d / C-u: half a list page (6 rows at 80x24, so 3) down and back.
        try tmux.type("F")
        try tmux.type("g")
        try tmux.waitFor("#0/31")
        try tmux.press("C-d")
        try tmux.waitFor("#3/31")
        try tmux.press("C-u")
        try tmux.waitFor("#0/31")
        // V: only this exit's vCPU (msr-prot has one: every exit stays), and back.
        try tmux.type("V")
        try tmux.waitFor("only vCPU 0 shown")
        try tmux.type(">")
        try tmux.waitFor("#1/31")
        try tmux.type("V")
        try tmux.waitFor("every vCPU shown")
        // z: the focused pane (Tab: the decision path) fills the screen, and back.
        try tmux.press("Tab")
        try tmux.type("z")
        try tmux.waitFor("the zoomed decision path") { $0.hasPrefix("─ Decision path #1") }
        try tmux.type("z")
        try tmux.waitFor("every pane again") { $0.hasPrefix("   exit      time") }
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("a search runs in the background: it reports the match's rank and count, and wraps past the end with a message",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func searchWrapsAndCounts() throws {
        let tmux = try Self.open("6.12/msr-prot.trace")
        defer { tmux.kill() }
        try tmux.waitFor("msr-prot.trace  #0/31")
        try tmux.type("G")
        try tmux.waitFor("#30/31")
        try tmux.type("/")
        try tmux.type("vmmcall|msr_write")
        try tmux.press("Enter")
        try tmux.waitFor("the wrapped search's message") { screen in
            screen.contains("/vmmcall|msr_write: match 1 of ") && screen.contains("(search wrapped to the top)")
        }
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("an exported .trace names its profile and host facts, and opening it replays with them",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func exportReopensWithItsProfile() throws {
        let trace = try Self.mutatedTrace()
        let folder = trace.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tmux = try TmuxSession(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        defer { tmux.kill() }
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }
        let binary = RepositoryPaths.svmdbgExecutable.path
        try tmux.type("cd '\(folder.path)' && '\(binary)' \(trace.lastPathComponent) --profile 6.1 --host \(Self.host); echo \"svmdbg-status=$?\"")
        try tmux.press("Enter")
        try tmux.waitFor(all: ["profile 6.1 ", "✘1 ?0 ·0 ✔20 ≈10"])
        let output = folder.appendingPathComponent("mismatch.trace")
        try tmux.type("e")
        try tmux.type(output.path)
        try tmux.press("Enter")
        try tmux.waitFor("wrote 1 mismatch to")
        #expect(try String(contentsOf: output, encoding: .utf8).hasPrefix("# svmdbg-export: profile=6.1 host=svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0\n"))
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
        try tmux.type("clear; '\(binary)' mismatch.trace; echo \"reopened-status=$?\"")
        try tmux.press("Enter")
        // No --profile, no --host: the header's are used, so the verdict is the same mismatch.
        try tmux.waitFor(all: ["mismatch.trace  #", "profile 6.1 ", "✘1 "])
        try tmux.type("q")
        try tmux.waitFor("reopened-status=0")
    }

    @Test("with a wrong host fact the decision path says no host with these facts exits here, instead of an answer its evidence contradicts",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func impossibleHostFacts() throws {
        let tmux = try Self.open("lab/6.12-no-npt/cr-access.trace", "--host npt=1", columns: 200, rows: 60)
        defer { tmux.kill() }
        try tmux.waitFor("cr-access.trace  #0/41")
        try tmux.press("Right")
        let screen = try tmux.waitFor(all: ["svm.intercept.exception", "no host with these facts exits here", "check --host npt"])
        #expect(!screen.contains("svm.intercept.exception yes"))
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("without a terminal the debugger prints one line and exits with 2")
    func noTerminal() throws {
        let process = Process()
        process.executableURL = RepositoryPaths.svmdbgExecutable
        process.arguments = [RepositoryPaths.trace("6.12/msr-prot.trace").path]
        let err = Pipe()
        process.standardOutput = Pipe()
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(stderr.hasPrefix("svmdbg: the debugger needs a terminal"))
        #expect(stderr.split(separator: "\n").count == 1)
    }
}
