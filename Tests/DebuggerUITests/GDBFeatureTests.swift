@testable import DebuggerSession
import DebuggerUI
import Foundation
import Replay
import TestSupport
import TraceKit
import Testing

/// Breakpoints as gdb has them, notes saved next to the trace, mouse, wrap, the latency
/// column, the per-reason summary and vCPU dimming (issue #18, second part).
@MainActor
@Suite struct GDBFeatureTests {
    private func addBreakpoint(_ h: AppHarness, _ text: String) {
        h.press(.character("b"))
        h.type(text)
        h.press(.enter)
    }

    // MARK: Conditions

    @Test("conditions combine with and/or/not and parentheses; the text is normalised", arguments: [
        ("reason msr and not vcpu 1", ExitPredicate.all([.reason("msr"), .not(.vcpu(1))]), "reason msr and not vcpu 1"),
        ("msr 0x1b || port 0x510", .either([.msr(0x1b), .port(0x510)]), "msr 0x1b or port 0x510"),
        ("level L2 (reason io or reason hlt)", .all([.level(.l2), .either([.reason("io"), .reason("hlt")])]),
         "level L2 and (reason io or reason hlt)"),
        ("!(verdict match) && reason GP excp", .all([.not(.verdict(.match)), .reason("gp excp")]), "not verdict match and reason gp excp"),
        ("not (msr 0x1b or msr 0xc0000080) and code 0x7c", .all([.not(.either([.msr(0x1b), .msr(0xc000_0080)])), .exitCode(0x7c)]),
         "not (msr 0x1b or msr 0xc0000080) and code 0x7c"),
        ("reason VMEXIT_VMMCALL or reason 0x78", .either([.reason("hypercall"), .reason("hlt")]), "reason hypercall or reason hlt"),
    ])
    func conditions(text: String, predicate: ExitPredicate, normalised: String) throws {
        let parsed = try PredicateParser.breakpoint(text).get()
        #expect(parsed.predicate == predicate)
        #expect(parsed.text == normalised)
        // The normal text parses back to the same predicate.
        #expect(try PredicateParser.breakpoint(parsed.text).get().predicate == predicate)
    }

    @Test("malformed conditions are refused with a reason", arguments: [
        "reason msr and", "(msr 0x1b", "msr 0x1b)", "not", "msr 0x1b or or port 1", "rip 0x10 and msr 1", "()",
    ])
    func badConditions(text: String) {
        #expect(throws: PredicateParser.Failure.self) { try PredicateParser.breakpoint(text).get() }
    }

    // MARK: Breakpoints

    @Test("breakpoints are numbered; a hit says which and where, and counts")
    func numberedHits() {
        let h = AppHarness()
        addBreakpoint(h, "msr 0xc0010117")
        addBreakpoint(h, "reason hlt")
        #expect(h.state.breakpoints.map(\.number) == [1, 2])
        #expect(h.state.message?.text.hasPrefix("Breakpoint 2: reason hlt") == true)
        h.press(.character("c"))
        #expect(h.selected == 3)
        #expect(h.state.message?.text == "Breakpoint 1, exit #3 (msr 0xc0010117)")
        #expect(h.state.breakpoints[0].hits == 1)
        h.press(.character("c"), .character("c"))
        #expect(h.selected == 25)
        h.press(.character("c"))
        #expect(h.selected == 26)
        #expect(h.state.message?.text == "Breakpoint 2, exit #26 (reason hlt)")
        #expect(h.state.breakpoints.map(\.hits) == [3, 1])
        h.press(.character("c"))
        #expect(h.selected == 26)
        #expect(h.state.message?.text == "no breakpoint hit forward")
    }

    @Test("disable, enable and delete by number at the b prompt, as in gdb; numbers are not reused")
    func promptCommands() {
        let h = AppHarness()
        addBreakpoint(h, "msr 0xc0010117")
        addBreakpoint(h, "reason hlt")
        addBreakpoint(h, "disable 1")
        #expect(h.state.breakpoints.map(\.isEnabled) == [false, true])
        h.press(.character("c"))
        #expect(h.selected == 26)  // breakpoint 1 (#3) skipped
        addBreakpoint(h, "enable 1")
        h.press(.character("g"), .character("c"))
        #expect(h.selected == 3)
        addBreakpoint(h, "delete 1")
        #expect(h.state.breakpoints.map(\.number) == [2])
        addBreakpoint(h, "port 0x511")
        #expect(h.state.breakpoints.map(\.number) == [2, 3])
        addBreakpoint(h, "disable 7")
        #expect(h.state.message?.isError == true)
        #expect(h.state.message?.text == "no breakpoint number 7")
        addBreakpoint(h, "disable 2")
        addBreakpoint(h, "disable 3")
        h.press(.character("c"))
        #expect(h.state.message?.text == "every breakpoint is disabled (B lists them)")
        addBreakpoint(h, "delete")
        #expect(h.state.breakpoints.isEmpty)
    }

    @Test("the breakpoint list shows Num, Enb, Hits and the condition; Space toggles, d deletes")
    func breakpointList() {
        let h = AppHarness()
        addBreakpoint(h, "reason msr and not msr 0x1b")
        addBreakpoint(h, "reason hlt")
        h.press(.character("c"))
        h.press(.character("B"))
        #expect(h.state.overlay == .breakpoints(cursor: 0))
        let text = h.app.frame.lines.joined(separator: "\n")
        #expect(text.contains("Num Enb Hits  Condition"))
        #expect(text.contains("1   y      1  reason msr and not msr 0x1b"))
        #expect(text.contains("2   y      0  reason hlt"))
        h.press(.character(" "))
        #expect(h.state.breakpoints[0].isEnabled == false)
        #expect(h.app.frame.lines.joined(separator: "\n").contains("1   n      1"))
        h.press(.down, .character("d"))
        #expect(h.state.breakpoints.map(\.number) == [1])
        h.press(.escape)
        #expect(h.state.overlay == .none)
    }

    @Test("a compound condition stops exactly where the predicate holds")
    func compoundCondition() throws {
        let session = UIFixtureSession(scriptedMismatches: [18])
        let h = AppHarness(session: session)
        addBreakpoint(h, "level L2 and not (reason msr or reason io)")
        let predicate = h.state.breakpoints[0].predicate
        var expected: [Int] = []
        var at: ExitNumber? = ExitNumber(0)
        while let next = session.nextExit(matching: predicate, after: at, direction: .forward) {
            expected.append(next.rawValue)
            at = next
        }
        #expect(!expected.isEmpty)
        var stops: [Int] = []
        for _ in expected {
            h.press(.character("c"))
            stops.append(h.selected ?? -1)
        }
        #expect(stops == expected)
    }

    // MARK: Notes file

    private func temporaryTrace() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svmdbg-notes-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("t.trace").path
    }

    @Test("bookmarks, notes and breakpoints are saved next to the trace and come back on the next open")
    func notesRoundTrip() throws {
        let trace = temporaryTrace()
        let store = NotesStore(tracePath: trace)
        do {
            let h = AppHarness(notes: store)
            h.press(.character(":"))
            h.type("#5")
            h.press(.enter, .character("a"))
            h.type("EFER write, \"quoted\"")
            h.press(.enter)
            h.press(.character(":"))
            h.type("#20")
            h.press(.enter, .character("m"))
            addBreakpoint(h, "reason hlt or msr 0x1b")
            addBreakpoint(h, "port 0x510")
            addBreakpoint(h, "disable 2")
        }
        let text = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(text.contains("\"format\": \"svmdbg-notes\""))
        #expect(text.contains("\"note\": \"EFER write, \\\"quoted\\\"\""))
        let h = AppHarness(notes: store)
        #expect(h.state.bookmarks == [ExitNumber(5), ExitNumber(20)])
        #expect(h.state.notes == [ExitNumber(5): "EFER write, \"quoted\""])
        #expect(h.state.breakpoints.map(\.text) == ["reason hlt or msr 0x1b", "port 0x510"])
        #expect(h.state.breakpoints.map(\.isEnabled) == [true, false])
        #expect(h.state.message?.text == "from t.trace.svmdbg.json: 2 bookmark(s), 1 note(s), 2 breakpoint(s)")
        addBreakpoint(h, "vcpu 0")
        #expect(h.state.breakpoints.last?.number == 3)
        h.press(.character("'"))
        #expect(h.app.frame.lines.joined().contains("EFER write"))
    }

    @Test("a file that is not ours is never written; the trace still opens")
    func foreignFile() throws {
        let trace = temporaryTrace()
        let store = NotesStore(tracePath: trace)
        let foreign = "{\n  \"something\": \"else\"\n}\n"
        try foreign.write(toFile: store.path, atomically: true, encoding: .utf8)
        let h = AppHarness(notes: store)
        #expect(h.state.message?.isError == true)
        #expect(h.state.message?.text.contains("t.trace.svmdbg.json:1: not an svmdbg notes file") == true)
        h.press(.character("m"))
        #expect(h.state.bookmarks == [ExitNumber(0)])
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == foreign)
        #expect(store.save(h.state.savedNotes)?.contains("not an svmdbg notes file") == true)
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == foreign)
    }

    @Test("bad JSON and bad entries are named with file and line; good entries still load", arguments: [
        ("{\n  \"format\": \"svmdbg-notes\",\n  \"bookmarks\": [ { \"exit\": 4 }, ]x\n}\n", 3, false),
        ("{\n  \"format\": \"svmdbg-notes\",\n  \"bookmarks\": [\n    { \"exit\": 4 }\n  ],\n  \"breakpoints\": [\n    { \"number\": 1, \"condition\": \"reason hlt\" },\n    { \"number\": 2, \"condition\": \"rip 0x10\" }\n  ]\n}\n", 8, true),
        ("{\n  \"format\": \"svmdbg-notes\",\n  \"bookmarks\": [\n    { \"exit\": 4 },\n    { \"note\": \"lost\" }\n  ]\n}\n", 5, true),
    ])
    func badFile(text: String, line: Int, loadsRest: Bool) throws {
        let trace = temporaryTrace()
        let store = NotesStore(tracePath: trace)
        try text.write(toFile: store.path, atomically: true, encoding: .utf8)
        let h = AppHarness(notes: store)
        #expect(h.state.message?.isError == true)
        #expect(h.state.message?.text.contains("t.trace.svmdbg.json:\(line):") == true, "\(h.state.message?.text ?? "")")
        #expect(h.state.bookmarks.contains(ExitNumber(4)) == loadsRest)
        // The file is left as it was, even after changes.
        h.press(.character("m"))
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == text)
        #expect(h.state.session.exitCount > 0)
    }

    // MARK: Wrap, mouse, summary

    @Test("w cuts long lines at the pane's edge and back; the decision path needs fewer rows cut")
    func wrapToggle() {
        let h = AppHarness(size: Size(columns: 80, rows: 24))
        h.press(.character("]"))
        h.press(.tab, .tab)
        let wrapped = h.state.maxScroll(of: .decision)
        h.press(.character("w"))
        #expect(h.state.wrapsLines == false)
        #expect(h.state.maxScroll(of: .decision) <= wrapped)
        #expect(h.state.message?.text == "long lines cut at the pane's edge (w wraps them)")
        h.press(.character("w"))
        #expect(h.state.wrapsLines)
    }

    @Test("a click selects the exit under it or focuses a pane; the wheel scrolls the pane under the pointer")
    func mouse() {
        let h = AppHarness()
        let list = h.state.layout.exitList
        h.app.send(.mouse(MouseEvent(.click, x: list.x + 5, y: list.y + 1 + 4)))
        #expect(h.selected == 4)
        h.app.send(.mouse(MouseEvent(.wheelDown, x: list.x + 5, y: list.y + 3)))
        #expect(h.selected == 7)
        let raw = h.state.layout.rawLines
        h.app.send(.mouse(MouseEvent(.click, x: raw.x + 2, y: raw.y + 1)))
        #expect(h.state.focus == .rawLines)
        #expect(h.selected == 7)
        let decision = h.state.layout.decision
        h.app.send(.mouse(MouseEvent(.click, x: decision.x + 2, y: decision.y + 1)))
        #expect(h.state.focus == .decision)
    }

    @Test("the summary lists reasons with counts; s sorts, r reverses, Enter filters to the row's exits")
    func summary() throws {
        let h = AppHarness()
        h.press(.character("s"))
        let summary = try #require(h.state.view.summary)
        #expect(summary.rows.reduce(0) { $0 + $1.count } == h.state.session.exitCount)
        let counts = summary.sorted(h.state.summarySort).map(\.count)
        #expect(counts == counts.sorted(by: >))
        h.press(.character("r"))
        #expect(summary.sorted(h.state.summarySort).map(\.count) == counts.sorted())
        let text = h.app.frame.lines.joined(separator: "\n")
        #expect(text.contains("count") && text.contains("Time%") && text.contains("stddev"))
        h.press(.character("r"), .down)
        let row = summary.sorted(h.state.summarySort)[1]
        h.press(.enter)
        #expect(h.state.overlay == .none)
        #expect(h.state.filter.reason == row.reason)
        let selected = try #require(h.state.view.selectedRow)
        #expect(selected.reason.lowercased() == row.reason)
    }

    @Test("sorting by each column orders the rows by it")
    func summarySorts() {
        let rows = [
            ReasonSummary.Row(level: "L1", reason: "msr", code: 0x7c, count: 5, timed: 5, total: 500, minimum: 10, maximum: 300,
                              mean: 100, standardDeviation: 50),
            ReasonSummary.Row(level: "L2", reason: "hlt", code: 0x78, count: 2, timed: 2, total: 2000, minimum: 900, maximum: 1100,
                              mean: 1000, standardDeviation: 10),
            ReasonSummary.Row(level: "L2", reason: "io", code: 0x7b, count: 9, timed: 0, total: 0, minimum: nil, maximum: nil,
                              mean: nil, standardDeviation: nil),
        ]
        let s = ReasonSummary(rows: rows, isNanoseconds: true, totalExits: 16)
        #expect(s.sorted(SummarySort(column: .count)).map(\.reason) == ["io", "msr", "hlt"])
        #expect(s.sorted(SummarySort(column: .time)).map(\.reason) == ["hlt", "msr", "io"])
        #expect(s.sorted(SummarySort(column: .stddev)).map(\.reason) == ["msr", "hlt", "io"])
        #expect(s.sorted(SummarySort(column: .minimum, descending: false)).map(\.reason) == ["io", "msr", "hlt"])
        #expect(s.sorted(SummarySort(column: .reason, descending: false)).map(\.reason) == ["hlt", "io", "msr"])
        #expect(s.timePercent(rows[1]) == 80)
        #expect(s.format(rows[0].mean) == "100ns")
        #expect(s.format(12_345) == "12.3us")
        #expect(ExitLatency.untimed.short == "?")
    }
}

/// The latency column and the summary on real traces.
@Suite struct LatencyAndSummaryTests {
    @Test("each exit's latency is its kvm_entry's time minus its kvm_exit's; the summary is the stats table")
    func latencyOnARealTrace() throws {
        let result = try ReplayedTrace.msrProt.replay()
        let session = ReplaySession(result: result)
        let statistics = ExitStatistics(trace: result.trace)
        var timed = 0
        var total: Int64 = 0
        for i in 0..<session.exitCount {
            let row = try #require(session.row(ExitNumber(i)))
            if case .nanoseconds(let n) = row.latency {
                #expect(n >= 0)
                timed += 1
                total += n
            }
        }
        #expect(timed > 0)
        #expect(timed == statistics.rows.reduce(0) { $0 + $1.timed })
        #expect(total == statistics.rows.reduce(0) { $0 + $1.total })
        var summary: ReasonSummary?
        for _ in 0..<500 where summary == nil {
            summary = session.reasonSummary()
            if summary == nil { Thread.sleep(forTimeInterval: 0.01) }
        }
        let rows = try #require(summary).rows
        #expect(rows.count == statistics.rows.count)
        #expect(rows.map(\.count) == statistics.rows.map(\.count))
        #expect(rows.map(\.total) == statistics.rows.map(\.total))
    }

    @Test("an excerpt without timestamps shows its latencies as unknown, not zero")
    func untimedLatency() throws {
        let result = try ReplayedTrace.msrProt.replay()
        let session = ReplaySession(result: result)
        // Exits that end without an entry (the trace's last exit per thread) say so.
        let last = try #require(session.row(ExitNumber(session.exitCount - 1)))
        if case .nanoseconds = last.latency {} else { #expect(last.latency.short == "?") }
    }

    @Test("the trace pane knows which raw lines are other threads' (dimmed)")
    func otherThreadLines() throws {
        let result = try ReplayedTrace.msrProt.replay { text in
            // Put a line of another thread between an exit and its entry.
            var lines = text.components(separatedBy: "\n")
            guard let exit = lines.firstIndex(where: { $0.contains("kvm_exit:") }) else { return text }
            let other = lines[exit].replacingOccurrences(of: "kvm_exit:", with: "kvm_fpu:")
            let pid = other.range(of: #"-\d+ "#, options: .regularExpression)
            lines.insert(pid.map { other.replacingCharacters(in: $0, with: "-99999 ") } ?? other, at: exit + 1)
            return lines.joined(separator: "\n")
        }
        let session = ReplaySession(result: result)
        let detail = try #require(session.detail(ExitNumber(0)))
        #expect(detail.otherThreadLines.count == 1)
        #expect(detail.otherThreadLines.allSatisfy { detail.rawLines.contains($0) })
    }
}
