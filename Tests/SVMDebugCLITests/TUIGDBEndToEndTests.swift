import Foundation
import TestSupport
import Testing

/// The debugger's gdb-like features in a real terminal (tmux, capture-pane): breakpoints,
/// notes saved next to the trace, mouse, wrap, the latency column, the per-reason summary
/// and other vCPUs' lines dimmed.
@Suite(.serialized) struct TUIGDBEndToEndTests {
    /// A copy of msr-prot in a fresh folder (the notes file goes next to it), edited by `edit`.
    static func copiedTrace(_ edit: (String) -> String = { $0 }) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = try String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)
        let trace = folder.appendingPathComponent("msr-prot.trace")
        try edit(text).write(to: trace, atomically: true, encoding: .utf8)
        return trace
    }

    /// Opens `trace` in tmux at the given size with `arguments`.
    static func open(_ trace: URL, _ arguments: String = "", columns: Int = 120, rows: Int = 40,
                     environment: [String: String] = [:]) throws -> TmuxSession {
        let tmux = try TmuxSession(columns: columns, rows: rows,
                                   environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"].merging(environment) { $1 })
        try tmux.waitFor("the shell prompt") { $0.hasPrefix("$") }
        let binary = RepositoryPaths.svmdbgExecutable.path
        try tmux.type("clear; cd '\(trace.deletingLastPathComponent().path)' && '\(binary)' \(trace.lastPathComponent) \(arguments); echo \"svmdbg-status=$?\"")
        try tmux.press("Enter")
        return tmux
    }

    @Test("breakpoints: and/or/not conditions, 'Breakpoint 1, exit #3 (…)', the list with hits, disable by number",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func breakpoints() throws {
        let trace = try Self.copiedTrace()
        defer { try? FileManager.default.removeItem(at: trace.deletingLastPathComponent()) }
        let tmux = try Self.open(trace)
        defer { tmux.kill() }
        try tmux.waitFor("msr-prot.trace  #0/31")
        try tmux.type("b")
        try tmux.type("reason msr and not (msr 0xc0000080 or msr 0x1b)")
        try tmux.press("Enter")
        try tmux.waitFor("Breakpoint 1: reason msr and not (msr 0xc0000080 or msr 0x1b)")
        try tmux.type("c")
        try tmux.waitFor(all: ["Breakpoint 1, exit #3 (reason msr and not (msr 0xc0000080 or msr 0x1b))", "#3/31"])
        try tmux.type("c")
        try tmux.waitFor(all: ["Breakpoint 1, exit #4 (", "#4/31"])
        try tmux.type("b")
        try tmux.type("reason hlt")
        try tmux.press("Enter")
        try tmux.type("B")
        try tmux.waitFor(all: ["Num Enb Hits  Condition", "1   y      2  reason msr and not", "2   y      0  reason hlt"])
        try tmux.type(" ")
        try tmux.waitFor("1   n      2  reason msr and not")
        try tmux.press("Escape")
        try tmux.type("c")
        try tmux.waitFor(all: ["Breakpoint 2, exit #26 (reason hlt)", "#26/31"])
        try tmux.type("b")
        try tmux.type("disable 2")
        try tmux.press("Enter")
        try tmux.type("c")
        try tmux.waitFor("every breakpoint is disabled (B lists them)")
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("notes and bookmarks are saved to TRACE.svmdbg.json and come back; a bad file names file and line and the trace opens",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func notesFile() throws {
        let trace = try Self.copiedTrace()
        defer { try? FileManager.default.removeItem(at: trace.deletingLastPathComponent()) }
        let notes = trace.path + ".svmdbg.json"
        do {
            let tmux = try Self.open(trace)
            defer { tmux.kill() }
            try tmux.waitFor("msr-prot.trace  #0/31")
            try tmux.type(":")
            try tmux.type("#18")
            try tmux.press("Enter")
            try tmux.type("a")
            try tmux.type("L2 reads APIC base")
            try tmux.press("Enter")
            try tmux.waitFor("note on #18: L2 reads APIC base")
            try tmux.type("b")
            try tmux.type("port 0x511")
            try tmux.press("Enter")
            try tmux.type("q")
            try tmux.waitFor("svmdbg-status=0")
        }
        let saved = try String(contentsOfFile: notes, encoding: .utf8)
        #expect(saved.contains("{ \"exit\": 18, \"note\": \"L2 reads APIC base\" }"))
        #expect(saved.contains("\"condition\": \"port 0x511\""))
        do {
            let tmux = try Self.open(trace)
            defer { tmux.kill() }
            try tmux.waitFor("from msr-prot.trace.svmdbg.json: 1 bookmark(s), 1 note(s), 1 breakpoint(s)")
            try tmux.type("'")
            try tmux.waitFor(all: ["#18", "L2 reads APIC base"])
            try tmux.press("Escape")
            try tmux.type("c")
            try tmux.waitFor("Breakpoint 1, exit #30 (port 0x511)")
            try tmux.type("q")
            try tmux.waitFor("svmdbg-status=0")
        }
        // A broken file: the error names it and its line; the trace opens all the same and the file stays.
        let broken = saved.replacingOccurrences(of: "\"condition\": \"port 0x511\"", with: "\"condition\": port 0x511")
        try broken.write(toFile: notes, atomically: true, encoding: .utf8)
        do {
            let tmux = try Self.open(trace)
            defer { tmux.kill() }
            try tmux.waitFor(all: ["msr-prot.trace.svmdbg.json:", "not an svmdbg notes file (not JSON", "#0/31"])
            try tmux.type("m")
            try tmux.type("q")
            try tmux.waitFor("svmdbg-status=0")
        }
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == broken)
    }

    @Test("mouse: a click selects the exit under it, the wheel scrolls; --no-mouse leaves the mouse to the terminal",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func mouse() throws {
        let trace = try Self.copiedTrace()
        defer { try? FileManager.default.removeItem(at: trace.deletingLastPathComponent()) }
        do {
            let tmux = try Self.open(trace)
            defer { tmux.kill() }
            try tmux.waitFor("msr-prot.trace  #0/31")
            try tmux.waitFor("mouse reporting on") { _ in (try? tmux.display("#{mouse_any_flag}")) == "1" }
            // X10 mouse reports, as a terminal sends them: ESC [ M, button+32, column+33,
            // row+33; a press (button 0) and its release (button 3). Row 5 is list row 4 (#4).
            // (No ';' in them: tmux reads a trailing ';' as its command separator.)
            try tmux.type("\u{1b}[M &&")
            try tmux.type("\u{1b}[M#&&")
            try tmux.waitFor(all: ["#4/31", "Decision path #4"])
            try tmux.type("\u{1b}[Ma&(")  // wheel down over the list: three exits on
            try tmux.waitFor("#7/31")
            try tmux.type("\u{1b}[M &9")  // a click in the decision path (row 24) focuses it:
            try tmux.type("\u{1b}[M#&9")
            try tmux.type("j")  // j then scrolls that pane instead of moving the selection
            Thread.sleep(forTimeInterval: 0.3)
            try tmux.waitFor("#7/31")
            try tmux.press("Escape")
            try tmux.type("j")
            try tmux.waitFor("#8/31")
            try tmux.type("q")
            try tmux.waitFor("svmdbg-status=0")
        }
        do {
            let tmux = try Self.open(trace, "--no-mouse")
            defer { tmux.kill() }
            try tmux.waitFor("msr-prot.trace  #0/31")
            #expect(try tmux.display("#{mouse_any_flag}") == "0")
            try tmux.type("q")
            try tmux.waitFor("svmdbg-status=0")
        }
    }

    @Test("w cuts the trace pane's long lines at the edge and wraps them again",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func wrap() throws {
        let trace = try Self.copiedTrace()
        defer { try? FileManager.default.removeItem(at: trace.deletingLastPathComponent()) }
        let tmux = try Self.open(trace)
        defer { tmux.kill() }
        // Line 20's kvm_exit is longer than the pane: wrapped, its intr_info is on the next row.
        try tmux.waitFor(all: ["msr-prot.trace  #0/31", "  20 svmlab-473", "intr_info 0x00000000"])
        try tmux.type("w")
        try tmux.waitFor("long lines cut at the pane's edge (w wraps them)") { screen in
            screen.contains("long lines cut at the pane's edge") && !screen.contains("intr_info 0x00000000")
        }
        try tmux.type("w")
        try tmux.waitFor(all: ["long lines wrap (w cuts them)", "intr_info 0x00000000"])
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("the latency column and the per-reason summary: sort by a column, Enter filters to the row's exits",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func latencyAndSummary() throws {
        let trace = try Self.copiedTrace()
        defer { try? FileManager.default.removeItem(at: trace.deletingLastPathComponent()) }
        let tmux = try Self.open(trace)
        defer { tmux.kill() }
        // #0's kvm_exit at 22.044222, its kvm_entry at 22.044330: 108us; the last exit has no entry.
        try tmux.waitFor(all: ["code  latency detail", "#0 22.044222    0 L1 npf        0x400   108us"])
        try tmux.type("G")
        try tmux.waitFor("#30 22.049022    0 L1 io         0x07b       ?")
        try tmux.type("s")
        try tmux.waitFor(all: ["Exits by reason", "count▼", "L1      io                   10", "(1 untimed)"])
        try tmux.type("s")
        try tmux.waitFor("Time%▼")
        let screen = try tmux.waitFor("L1      io                   10  30.56%")
        let rows = screen.split(separator: "\n").filter { $0.contains("L1      ") || $0.contains("L2      ") }
        #expect(rows.first?.contains("L1      io") == true, "io has the largest Time%:\n\(screen)")
        try tmux.press("Enter")
        try tmux.waitFor(all: ["filter: level L1 reason io (10 exits; F clears it)", "#6/31"])
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }

    @Test("the trace pane dims the lines of other vCPUs' threads",
          .enabled(if: TmuxSession.isInstalled, "tmux is not installed: the end-to-end TUI test is skipped"))
    func otherVCPUsDimmed() throws {
        // Another thread's event between #0's kvm_exit and its kvm_entry.
        let trace = try Self.copiedTrace { text in
            text.replacingOccurrences(
                of: "svmlab-473     [000] .....    22.044254: kvm_page_fault:",
                with: "svmlab-474     [001] .....    22.044250: kvm_fpu: load\n svmlab-473     [000] .....    22.044254: kvm_page_fault:")
        }
        defer { try? FileManager.default.removeItem(at: trace.deletingLastPathComponent()) }
        let tmux = try Self.open(trace)
        defer { tmux.kill() }
        try tmux.waitFor(all: ["msr-prot.trace  #0/31", "kvm_fpu: load"])
        let screen = try tmux.screenWithAttributes()
        let fpu = try #require(screen.split(separator: "\n").first { $0.contains("kvm_fpu: load") })
        let fault = try #require(screen.split(separator: "\n").first { $0.contains("kvm_page_fault:") })
        #expect(fpu.contains("\u{1b}[2m"), "the other thread's line is dim: \(fpu.debugDescription)")
        #expect(!fault.contains("kvm_page_fault") || !fault.replacingOccurrences(of: "\u{1b}[2m", with: "DIM").contains("DIMsvmlab-473"),
                "the exit's own line is not: \(fault.debugDescription)")
        try tmux.type("q")
        try tmux.waitFor("svmdbg-status=0")
    }
}
