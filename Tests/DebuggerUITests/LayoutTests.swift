import TraceKit
import DebuggerUI
import NestedSVM
import Replay
import Testing

@Suite struct LayoutTests {
    static let sizes: [Size] = [
        Size(columns: 20, rows: 5), Size(columns: 40, rows: 12), Size(columns: 60, rows: 16),
        Size(columns: 80, rows: 24), Size(columns: 99, rows: 29), Size(columns: 100, rows: 30),
        Size(columns: 120, rows: 40), Size(columns: 250, rows: 80),
    ]

    @Test("panes fit the screen and never overlap", arguments: sizes, [Focus.registers, .vmcb])
    func noOverlap(size: Size, side: Focus) {
        let layout = Layout(size: size, compactSide: side)
        let screen = Rect(x: 0, y: 0, width: size.columns, height: size.rows)
        let panes = [layout.exitList, layout.rateStrip, layout.decision, layout.registers, layout.vmcb, layout.rawLines,
                     layout.statusBar, layout.promptLine].filter { !$0.isEmpty }
        var covered = Set<Int>()
        for pane in panes {
            #expect(pane.x >= 0 && pane.y >= 0 && pane.maxX <= screen.maxX && pane.maxY <= screen.maxY, "\(pane) off screen")
            for y in pane.y..<pane.maxY {
                for x in pane.x..<pane.maxX {
                    #expect(covered.insert(y * size.columns + x).inserted, "\(pane) overlaps at \(x),\(y)")
                }
            }
        }
        #expect(layout.promptLine.y == size.rows - 1)
        #expect(layout.statusBar.y == size.rows - 2)
    }

    @Test("80x24 keeps every kind of pane: list, strip, decision path, one side pane, raw lines")
    func minimumKeepsPanes() {
        let layout = Layout(size: Size(columns: 80, rows: 24), compactSide: .registers)
        #expect(layout.isCompact)
        #expect(layout.listRows >= 5)
        #expect(layout.rateStrip.height == 1)
        #expect(layout.decision.height >= 6)
        #expect(!layout.registers.isEmpty && layout.vmcb.isEmpty)
        #expect(layout.rawLines.height >= 4)
    }

    @Test("wide terminals show decision path, registers and VMCB side by side")
    func wide() {
        let layout = Layout(size: Size(columns: 120, rows: 40), compactSide: .registers)
        #expect(!layout.isCompact)
        #expect(layout.decision.maxX < layout.registers.x && layout.registers.maxX < layout.vmcb.x)
        #expect(layout.decision.y == layout.vmcb.y)
    }
}

@Suite struct HelpFromKeyTableTests {
    @Test("the help overlay lists every binding of the key table with its keys and text")
    func helpListsEverything() {
        let state = AppState(size: Size(columns: 120, rows: 40), glyphs: .unicode)
        let text = HelpOverlay.lines(for: state).map(\.text)
        for binding in KeyMap.standard.bindings {
            let keys = binding.keys.map(\.description).joined(separator: " ")
            #expect(text.contains { $0.contains(keys) && $0.contains(binding.help) }, "missing \(keys) \(binding.help)")
        }
    }

    @Test("the hint line shows keys taken from the key table")
    func hintsFromTable() {
        var state = AppState(size: Size(columns: 120, rows: 10), glyphs: .unicode)
        var keyMap = KeyMap.standard
        keyMap.bindings = keyMap.bindings.map { b in
            var b = b
            if b.command == .help, b.scope == .main { b.keys = [.character("h")] }
            return b
        }
        state.keyMap = keyMap
        var screen = Screen(size: state.size)
        PromptLine.render(state, in: state.layout.promptLine, into: &screen)
        #expect(screen.text(ofRow: 9).hasPrefix("h help"))
    }
}

@Suite struct PromptParsingTests {
    @Test("filters parse into their fields", arguments: [
        ("vcpu 1", ExitFilter(vcpu: 1)),
        ("level l2 reason MSR", ExitFilter(level: .l2, reason: "msr")),
        ("verdict not-modelled vcpu 0x2", ExitFilter(vcpu: 2, verdict: .notModelled)),
        ("outcome reflect", ExitFilter(outcome: "reflect_to_l1")),
        ("outcome L0 reason msr", ExitFilter(reason: "msr", outcome: "l0_handles")),
        ("outcome vmrun-fails", ExitFilter(outcome: "vmrun_fails")),
    ])
    func filters(text: String, expected: ExitFilter) throws {
        #expect(try PredicateParser.filter(text).get() == expected)
    }

    @Test("breakpoints parse into predicates", arguments: [
        ("msr 0xC0000080", ExitPredicate.msr(0xC000_0080), "msr 0xc0000080"),
        ("port 1296", .port(0x510), "port 0x510"),
        ("code 0x7c", .exitCode(0x7c), "code 0x7c"),
        ("reason NPF", .reason("npf"), "reason npf"),
        ("verdict mismatch", .verdict(.mismatch), "verdict mismatch"),
        ("outcome l0", .outcome("l0_handles"), "outcome l0_handles"),
        ("outcome inject_exception or outcome undetermined", .either([.outcome("inject_exception"), .outcome("undetermined")]),
         "outcome inject_exception or outcome undetermined"),
        ("not outcome reflect_to_l1 and reason msr", .all([.not(.outcome("reflect_to_l1")), .reason("msr")]),
         "not outcome reflect_to_l1 and reason msr"),
    ])
    func breakpoints(text: String, predicate: ExitPredicate, normalised: String) throws {
        #expect(try PredicateParser.breakpoint(text).get() == Breakpoint(predicate: predicate, text: normalised))
    }

    @Test("out-of-range or malformed breakpoints are refused", arguments: [
        "port 0x10000", "msr 0x100000000", "msr", "rip 0x1000", "vcpu one", "reason",
        "outcome", "outcome l3", "outcome inject",
    ])
    func badBreakpoints(text: String) {
        #expect(throws: PredicateParser.Failure.self) { try PredicateParser.breakpoint(text).get() }
    }

    @Test("every outcome name of check --json is accepted as it is written; an ambiguous prefix names the choices")
    func outcomeVocabulary() throws {
        for name in ["reflect_to_l1", "l0_handles", "inject_exception", "emulate", "vmrun_fails", "vmrun_succeeds",
                     "userspace_exit", "inject_interrupt", "inject_nmi", "no_exit", "undetermined"] {
            #expect(try OutcomeNames.canonical(name).get() == name)
            #expect(try OutcomeNames.canonical(name.uppercased().replacing("_", with: "-")).get() == name)
        }
        #expect(Set(OutcomeNames.all) == Set(Outcome.Kind.allCases.map(\.rawValue) + RecordedOutcome.Kind.allCases.map(\.rawValue)))
        #expect(try OutcomeNames.canonical("vmrun_s").get() == "vmrun_succeeds")
        guard case .failure(let failure) = OutcomeNames.canonical("inject") else { Issue.record("inject is ambiguous"); return }
        #expect(failure.message.contains("inject_exception, inject_interrupt, inject_nmi"))
    }

    @Test("typed timestamps parse to the trace's timestamp kinds", arguments: [
        ("22.046641", TraceTimestamp.nanoseconds(22_046_641_000)), ("0.000000", .nanoseconds(0)),
        ("1000.000000001", .nanoseconds(1_000_000_000_001)), ("22", .nanoseconds(22_000_000_000)),
        ("@123456789", .counter(123_456_789)),
    ])
    func timestamps(text: String, expected: TraceTimestamp) {
        #expect(TimeText.timestamp(text) == expected)
    }

    @Test("malformed timestamps are refused", arguments: ["", "1.2.3", "x.5", "1.0000000001", "-1.5", "@", "@-3", "+1.5"])
    func badTimestamps(text: String) {
        #expect(TimeText.timestamp(text) == nil)
    }

    @Test("export format follows the file extension", arguments: [
        ("a.jsonl", ExportFormat?.some(.jsonl)), ("A.JSON", .jsonl), ("m.csv", .csv), ("r.md", .md), ("x.trace", .trace), ("exit.scenario", .scenario),
        ("mismatches.txt", nil), ("out", nil),
    ])
    func exportFormat(path: String, format: ExportFormat?) {
        #expect(ExportRequest.format(forPath: path) == format)
    }

    @Test("wrapping breaks at spaces and splits words longer than the width", arguments: [
        ("a bc def", 4, ["a bc", "def"]),
        ("abcdefgh", 3, ["abc", "def", "gh"]),
        ("", 5, [""]),
        ("日本語テキスト", 4, ["日本", "語テ", "キス", "ト"]),
    ])
    func wrapping(text: String, width: Int, expected: [String]) {
        #expect(Columns.wrap(text, width: width) == expected)
    }
}
