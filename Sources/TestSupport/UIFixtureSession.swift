import TraceKit
import DebuggerUI
import Foundation
import Replay

/// A `DebugSession` for UI tests, built from the 31 exits of `traces/6.12/msr-prot.trace`.
///
/// Rows, registers and VMCB fields are hand-transcribed from the trace's lines (real
/// timestamps, RIPs, exit codes, exit_info values, `kvm_msr`/`kvm_pio` values, the
/// `kvm_nested_vmenter`/`kvm_nested_intercepts` words); raw lines are read from the real
/// file. The model side stands in for Replay: it follows the paths described in
/// `reference/nested-decisions.md` §3 with L1's MSRPM as the scenario's manifest gives it
/// (as a user would pass it explicitly), and says *undetermined* where the trace lacks ECX.
/// Tests may ask for `scriptedMismatches`: those exits get a model outcome that contradicts
/// the trace (a model fault injected on purpose, labelled as such in the notes), so the
/// mismatch rendering and navigation can be tested before Replay exists.
package struct UIFixtureSession: DebugSession {
    /// The fixture trace's file name.
    package let traceName = "msr-prot.trace"
    /// The profile this fixture pretends to have replayed with.
    package let profile: String
    /// Profiles a test may switch to.
    package let availableProfiles = ["6.1", "6.12"]
    /// How many exits count as indexed (all by default), to test the UI mid-indexing.
    package let indexed: Int
    private let exits: [FixtureExit]
    private let lines: [String]
    private let scriptedMismatches: Set<Int>

    /// A session over msr-prot.trace; `indexed` < 31 pretends indexing is still running.
    package init(profile: String = "6.12", scriptedMismatches: Set<Int> = [], indexed: Int? = nil) {
        self.profile = profile
        self.scriptedMismatches = scriptedMismatches
        self.exits = FixtureExit.msrProt
        self.indexed = min(indexed ?? FixtureExit.msrProt.count, FixtureExit.msrProt.count)
        let text = (try? String(contentsOf: RepositoryPaths.trace("6.12/msr-prot.trace"), encoding: .utf8)) ?? ""
        var split = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if split.last == "" { split.removeLast() }
        self.lines = split
    }

    /// Exit numbers of the L2 MSR exits whose ECX the trace does not record.
    package static let exitsWithUnknownECX = [12, 15, 19, 22]

    /// Exits indexed so far (`indexed`).
    package var exitCount: Int { indexed }

    /// Bytes up to the first unindexed exit, or finished.
    package var progress: IndexingProgress {
        let total = 19_537  // bytes of traces/6.12/msr-prot.trace
        guard indexed < exits.count else { return IndexingProgress(bytesDone: total, bytesTotal: total, isFinished: true) }
        let done = lines.prefix(exits[indexed].line - 1).reduce(0) { $0 + $1.utf8.count + 1 }
        return IndexingProgress(bytesDone: done, bytesTotal: total, isFinished: false)
    }

    /// Verdict counts over the indexed exits.
    package var counts: VerdictCounts {
        var c = VerdictCounts(match: 0, mismatch: 0, undetermined: 0, notModelled: 0)
        for i in 0..<indexed {
            switch verdict(i) {
            case .match: c.match += 1
            case .consistent: c.consistent += 1
            case .mismatch: c.mismatch += 1
            case .undetermined: c.undetermined += 1
            case .notModelled: c.notModelled += 1
            }
        }
        return c
    }

    /// The row of an indexed exit.
    package func row(_ exit: ExitNumber) -> ExitRow? {
        guard (0..<indexed).contains(exit.rawValue) else { return nil }
        let e = exits[exit.rawValue]
        return ExitRow(
            number: exit, timestamp: .nanoseconds(e.timestamp), vcpu: 0, level: e.level, reason: e.reason,
            exitCode: e.code, rip: e.rip, summary: e.summary, modelOutcome: modelShort(exit.rawValue),
            recordedOutcome: e.recordedShort, verdict: verdict(exit.rawValue), latency: latency(exit.rawValue))
    }

    /// The exit's time to its `kvm_entry`, read from the entry line's timestamp (the last raw line).
    private func latency(_ i: Int) -> ExitLatency {
        let range = rawRange(i)
        guard lines.indices.contains(range.upperBound - 1) else { return .noEntry }
        let last = lines[range.upperBound - 1]
        guard let match = last.firstMatch(of: /(\d+)\.(\d{6}): kvm_entry/) else { return .noEntry }
        guard let seconds = Int64(match.1), let micros = Int64(match.2) else { return .noEntry }
        return .nanoseconds(seconds * 1_000_000_000 + micros * 1000 - exits[i].timestamp)
    }

    /// The detail of an indexed exit.
    package func detail(_ exit: ExitNumber) -> ExitDetail? {
        guard (0..<indexed).contains(exit.rawValue) else { return nil }
        let i = exit.rawValue
        let e = exits[i]
        let model = model(i)
        return ExitDetail(
            number: exit, registers: registers(i), vmcb: vmcb(i), decisionSteps: model.steps,
            modelOutcome: model.outcome, recordedOutcome: e.recordedLong, recordedEvidence: e.recordedEvidence,
            notes: model.notes, rawLines: rawRange(i))
    }

    /// Lines of the real trace file.
    package func rawLines(_ range: ClosedRange<Int>) -> [RawLine] {
        range.compactMap { n in lines.indices.contains(n - 1) ? RawLine(number: n, text: lines[n - 1]) : nil }
    }

    /// Linear scan (31 exits): the nearest matching exit in `direction`.
    package func nextExit(matching predicate: ExitPredicate, after exit: ExitNumber?, direction: Direction) -> ExitNumber? {
        let candidates: [Int]
        switch direction {
        case .forward:
            let start = exit.map { $0.rawValue + 1 } ?? 0
            candidates = start < indexed ? Array(start..<indexed) : []
        case .backward:
            let end = exit.map { min($0.rawValue, indexed) } ?? indexed
            candidates = end > 0 ? Array((0..<end).reversed()) : []
        }
        return candidates.first { matches(predicate, $0) }.map { ExitNumber($0) }
    }

    /// The first exit at or after a timestamp, else the last.
    package func exit(atOrAfter timestamp: TraceTimestamp) -> ExitNumber? {
        guard indexed > 0 else { return nil }
        return ExitNumber(exits.prefix(indexed).firstIndex { TraceTimestamp.nanoseconds($0.timestamp) >= timestamp } ?? indexed - 1)
    }

    /// Exits and mismatches per equal time slice.
    package func rateBuckets(count: Int) -> [RateBucket] {
        guard count > 0, indexed > 0 else { return [] }
        let t0 = exits[0].timestamp, t1 = exits[indexed - 1].timestamp
        let span = t1 - t0 + 1
        var buckets = Array(repeating: RateBucket(exits: 0, mismatches: 0, firstExit: nil), count: count)
        for i in 0..<indexed {
            let b = Int((exits[i].timestamp - t0) * Int64(count) / span)
            buckets[b].exits += 1
            if verdict(i) == .mismatch { buckets[b].mismatches += 1 }
            if buckets[b].firstExit == nil { buckets[b].firstExit = ExitNumber(i) }
        }
        return buckets
    }

    // MARK: Model stand-in

    private func verdict(_ i: Int) -> ExitVerdict {
        if scriptedMismatches.contains(i) { return .mismatch }
        return Self.exitsWithUnknownECX.contains(i) ? .undetermined : .match
    }

    private func modelShort(_ i: Int) -> String {
        if scriptedMismatches.contains(i) { return exits[i].recordedShort == "L1" ? "L0" : "L1" }
        return Self.exitsWithUnknownECX.contains(i) ? "?" : exits[i].recordedShort
    }

    private struct Model {
        var outcome: String
        var steps: [DecisionStepRow]
        var notes: [String]
    }

    private func model(_ i: Int) -> Model {
        let e = exits[i]
        let code = "exit_code = \(hex3(e.code)) (\(e.reason)) [kvm_exit line \(e.line)]"
        guard e.level == .l2, let enter = e.vmenterLine, let intercepts = e.interceptsLine else {
            return Model(
                outcome: "L0 handles it in \(e.l0Handler) (L1 was running)",
                steps: [DecisionStepRow(
                    ruleID: "svm.l0.handler", question: "which L0 exit handler runs (svm_exit_handlers[exit_code])?",
                    evidence: [code, "guest mode = no [no kvm_nested_vmenter since L1 resumed]"],
                    answer: e.l0Handler, kernelFunction: "svm/svm.c:svm_invoke_exit_handler")],
                notes: [])
        }
        let word3 = "vmcb12 intercepts[3] = 0x11000000 [kvm_nested_intercepts line \(intercepts)]"
        var steps: [DecisionStepRow] = []
        switch e.reason {
        case "npf":
            steps.append(DecisionStepRow(
                ruleID: "svm.exit-special.npf", question: "is it a nested page fault (always L0 first)?",
                evidence: [code], answer: "yes", kernelFunction: "svm/nested.c:nested_svm_exit_special"))
            steps.append(DecisionStepRow(
                ruleID: "svm.npf.nested-paging", question: "does L1 run L2 with nested paging?",
                evidence: ["vmcb12 nested_ctl.NP_ENABLE = 0 [kvm_nested_vmenter line \(enter): nested_npt=n]"],
                answer: "no", kernelFunction: "svm/nested.c:nested_svm_intercept",
                note: "without nested paging in L1 the fault is in L0's own NPT for L2"))
            return Model(outcome: "L0 handles it in npf_interception", steps: steps, notes: [])
        case "hlt":
            steps.append(DecisionStepRow(
                ruleID: "svm.intercept.bit", question: "does L1 intercept this exit (vmcb12 intercept bit = exit code)?",
                evidence: [code, word3 + ": bit 24 HLT = 1"], answer: "yes",
                kernelFunction: "svm/nested.c:nested_svm_intercept"))
            return Model(outcome: "reflect #VMEXIT(hlt) to L1", steps: steps, notes: [])
        default:
            break
        }
        steps.append(DecisionStepRow(
            ruleID: "svm.msr.l1-intercepts", question: "does L1 intercept MSR accesses at all (vmcb12 MSR_PROT, bit 124)?",
            evidence: [word3 + ": bit 28 MSR_PROT = 1"], answer: "yes",
            kernelFunction: "svm/nested.c:nested_svm_exit_handled_msr"))
        let access = e.info1 == 1 ? "write" : "read"
        let direction = "exit_info_1 = \(hex(e.info1)) (\(access)) [kvm_exit line \(e.line)]"
        guard let msr = e.msr else {
            steps.append(DecisionStepRow(
                ruleID: "svm.msr.number", question: "which MSR and direction (ECX; exit_info_1 bit 0 = write)?",
                evidence: ["ECX = unknown [no kvm_msr: L0 did not emulate the access]", direction],
                answer: "unknown", kernelFunction: "svm/nested.c:nested_svm_exit_handled_msr"))
            return Model(
                outcome: "undetermined: the MSRPM bit depends on ECX", steps: steps,
                notes: ["The trace does not record ECX for an MSR exit L0 reflects; pass it or trace kvm_msr on L1."])
        }
        let number = hex(UInt64(msr.index))
        steps.append(DecisionStepRow(
            ruleID: "svm.msr.number", question: "which MSR and direction (ECX; exit_info_1 bit 0 = write)?",
            evidence: ["ECX = \(number) [kvm_msr line \(msr.line)]", direction],
            answer: "\(number) \(access)", kernelFunction: "svm/nested.c:nested_svm_exit_handled_msr"))
        steps.append(DecisionStepRow(
            ruleID: "svm.msr.range", question: "is the MSR inside one of the three MSRPM ranges?",
            evidence: ["msr = \(number)"], answer: "yes", kernelFunction: "svm/svm.c:svm_msrpm_offset"))
        let bit = scriptedMismatches.contains(i) ? 1 : 0
        let source = scriptedMismatches.contains(i) ? "scripted model fault" : "host facts: L1 MSRPM"
        steps.append(DecisionStepRow(
            ruleID: "svm.msr.msrpm-bit", question: "does L1's MSRPM intercept this MSR in this direction?",
            evidence: ["msrpm[\(number)].\(access) = \(bit) [\(source)]"], answer: bit == 1 ? "yes" : "no",
            kernelFunction: "svm/nested.c:nested_svm_exit_handled_msr"))
        if scriptedMismatches.contains(i) {
            return Model(
                outcome: "reflect #VMEXIT(msr) to L1", steps: steps,
                notes: [
                    "Model reflects to L1, but L0 emulated the access (kvm_msr line \(msr.line)) and resumed L2 without kvm_nested_vmexit_inject.",
                    "Scripted fault for UI tests: this fixture flips the MSRPM bit on purpose.",
                ])
        }
        return Model(outcome: "L0 handles it in msr_interception", steps: steps, notes: [])
    }

    // MARK: Registers and VMCB

    private func registers(_ i: Int) -> [KnownValue] {
        let e = exits[i]
        var regs = [KnownValue(name: "RIP", value: hex(e.rip), provenance: "kvm_exit line \(e.line)")]
        if let msr = e.msr {
            regs.append(KnownValue(name: "ECX", value: hex(UInt64(msr.index)), provenance: "kvm_msr line \(msr.line)"))
            if msr.write {
                regs.append(KnownValue(name: "EDX:EAX", value: hex(msr.value), provenance: "kvm_msr line \(msr.line) (written)"))
            } else {
                regs.append(KnownValue(name: "EDX:EAX", value: nil, provenance: "RDMSR output, read \(hex(msr.value)) (line \(msr.line))"))
            }
        } else if e.reason == "msr" {
            regs.append(KnownValue(name: "ECX", value: nil, provenance: "no kvm_msr: L0 did not emulate"))
            regs.append(KnownValue(name: "EDX:EAX", value: nil, provenance: "not traced"))
        } else if let pio = e.pio {
            regs.append(KnownValue(name: "EAX", value: hex(pio.value), provenance: "kvm_pio line \(pio.line) (OUT value)"))
        } else {
            regs.append(KnownValue(name: "RCX", value: nil, provenance: "not traced"))
        }
        regs.append(KnownValue(name: "RSP", value: nil, provenance: "not in any kvm event"))
        // L1's EFER: read as 0x500 at line 24, written 0x1500 at line 28 (exits #1 and #2).
        let efer: KnownValue
        switch i {
        case 0: efer = KnownValue(name: "L1 EFER", value: nil, provenance: "not seen yet")
        case 1: efer = KnownValue(name: "L1 EFER", value: "0x500", provenance: "kvm_msr line 24 (read)")
        default: efer = KnownValue(name: "L1 EFER", value: "0x1500", provenance: "kvm_msr line 28 (written)")
        }
        regs.append(efer)
        if e.level == .l2, let enter = e.vmenterLine {
            regs.append(KnownValue(name: "L1 RIP", value: "0x10172", provenance: "kvm_nested_vmenter line \(enter)"))
            regs.append(KnownValue(name: "L2 CR3", value: "0x1000", provenance: "kvm_nested_vmenter line \(enter)"))
        }
        return regs
    }

    private func vmcb(_ i: Int) -> [FieldSection] {
        let e = exits[i]
        var sections: [FieldSection] = []
        if e.level == .l2, let enter = e.vmenterLine, let intercepts = e.interceptsLine {
            sections.append(FieldSection(title: "intercepts (line \(intercepts))", fields: [
                DecodedField(name: "cr_read", raw: "0x0000", decoded: "none"),
                DecodedField(name: "cr_write", raw: "0x0000", decoded: "none"),
                DecodedField(name: "dr", raw: nil, decoded: "not traced"),
                DecodedField(name: "exceptions", raw: "0x00000000", decoded: "none"),
                DecodedField(name: "intercepts[3]", raw: "0x11000000", decoded: "hlt msr_prot"),
                DecodedField(name: "intercepts[4]", raw: "0x00000001", decoded: "vmrun"),
                DecodedField(name: "intercepts[5]", raw: "0x00000000", decoded: "none"),
            ]))
            sections.append(FieldSection(title: "control (line \(enter))", fields: [
                DecodedField(name: "vmcb12", raw: "0x31000", decoded: "guest-physical address"),
                DecodedField(name: "nested_ctl", raw: "np=n", decoded: "nested paging off"),
                DecodedField(name: "int_ctl", raw: "0x01000000", decoded: "V_INTR_MASKING"),
                DecodedField(name: "event_inj", raw: "0x00000000", decoded: "none (V=0)"),
            ]))
        } else {
            sections.append(FieldSection(title: "vmcb12", fields: [
                DecodedField(name: "state", raw: nil, decoded: "L1 is not running L2; no vmcb12 in use"),
            ]))
        }
        sections.append(FieldSection(title: "exit (kvm_exit line \(e.line))", fields: [
            DecodedField(name: "exit_code", raw: hex3(e.code), decoded: e.reason),
            DecodedField(name: "exit_info_1", raw: hex(e.info1), decoded: e.info1Decoded),
            DecodedField(name: "exit_info_2", raw: hex(e.info2), decoded: e.info2Decoded),
        ]))
        return sections
    }

    private func rawRange(_ i: Int) -> ClosedRange<Int> {
        let e = exits[i]
        return e.line...(e.nextEntryLine ?? lines.count)
    }

    // MARK: Predicates

    private func matches(_ predicate: ExitPredicate, _ i: Int) -> Bool {
        let e = exits[i]
        switch predicate {
        case .any: return true
        case .vcpu(let v): return v == 0
        case .level(let l): return e.level == l
        case .reason(let r): return e.reason == r.lowercased()
        case .exitCode(let c): return e.code == c
        case .msr(let m): return e.msr?.index == m
        case .port(let p): return e.pio?.port == p
        case .verdict(let v): return verdict(i) == v
        case .outcome(let name):
            // The fixture's short forms: L1 = reflect_to_l1, L0 = l0_handles, ? = undetermined.
            let names = ["L1": "reflect_to_l1", "L0": "l0_handles", "?": "undetermined"]
            return names[modelShort(i)] == name || names[e.recordedShort] == name
        case .text(let query):
            guard var regex = try? Regex(query.pattern) else { return false }
            if !query.caseSensitive { regex = regex.ignoresCase() }
            let fields = [e.reason, e.summary, e.info1Decoded, e.info2Decoded]
                + registers(i).compactMap(\.value) + vmcb(i).flatMap(\.fields).map(\.decoded)
                + model(i).steps.flatMap { [$0.ruleID, $0.answer] + $0.evidence } + [model(i).outcome]
            let raw = rawLines(rawRange(i)).map(\.text)
            return (fields + raw).contains { $0.contains(regex) }
        case .all(let terms): return terms.allSatisfy { matches($0, i) }
        case .either(let terms): return terms.contains { matches($0, i) }
        case .not(let term): return !matches(term, i)
        }
    }
}

private func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
private func hex3(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 3 - s.count)) + s
}

/// One exit of msr-prot.trace as transcribed.
private struct FixtureExit {
    struct MSRAccess { var index: UInt32; var value: UInt64; var write: Bool; var line: Int }
    struct PortAccess { var port: UInt16; var value: UInt64; var line: Int }

    var line: Int
    var nextEntryLine: Int?
    var timestamp: Int64
    var level: Level
    var reason: String
    var code: UInt64
    var rip: UInt64
    var info1: UInt64
    var info2: UInt64
    var msr: MSRAccess? = nil
    var pio: PortAccess? = nil
    var injectLine: Int? = nil
    var vmenterLine: Int? = nil
    var interceptsLine: Int? = nil

    var recordedShort: String { injectLine == nil ? "L0" : "L1" }

    /// L0's handler for this exit code (svm/svm.c:svm_exit_handlers).
    var l0Handler: String {
        switch reason {
        case "npf": "npf_interception"
        case "msr": "msr_interception"
        case "io": "io_interception"
        case "vmrun": "vmrun_interception"
        case "read_cr4": "cr_interception"
        case "hlt": "halt_interception"
        default: "svm_handle_exit"
        }
    }

    var recordedLong: String {
        if let injectLine { return "L1 got #VMEXIT(\(reason)) (kvm_nested_vmexit_inject line \(injectLine))" }
        return level == .l2 ? "L0 handled it; L2 resumed" : "L0 handled it"
    }

    var recordedEvidence: [String] {
        var lines = ["line \(line) kvm_exit reason \(reason) rip \(hex(rip))"]
        if let msr { lines.append("line \(msr.line) kvm_msr msr_\(msr.write ? "write" : "read") \(String(msr.index, radix: 16)) = \(hex(msr.value))") }
        if let pio { lines.append("line \(pio.line) kvm_pio pio_write at \(hex(UInt64(pio.port))) size 4 val \(hex(pio.value))") }
        if let injectLine { lines.append("line \(injectLine) kvm_nested_vmexit_inject reason \(reason)") }
        if let next = nextEntryLine { lines.append("line \(next) kvm_entry (resumes \(injectLine == nil ? level.description : "L1"))") }
        return lines
    }

    var summary: String {
        switch reason {
        case "msr":
            let op = info1 == 1 ? "wrmsr" : "rdmsr"
            guard let msr else { return "\(op) ecx=?" }
            return msr.write ? "\(op) \(hex(UInt64(msr.index)))=\(hex(msr.value))" : "\(op) \(hex(UInt64(msr.index)))"
        case "io":
            return "out \(hex((info1 >> 16) & 0xffff)) 4B" + (pio.map { " val \(hex($0.value))" } ?? "")
        case "npf": return "gpa \(hex(info2)) W U walk"
        case "vmrun": return "vmcb12 0x31000"
        default: return ""
        }
    }

    var info1Decoded: String {
        switch reason {
        case "msr": return info1 == 1 ? "WRMSR" : "RDMSR"
        case "io":
            // APM vol. 2 §15.10.2: port in bits 31:16, SZ32 in bit 6, TYPE (1 = IN) in bit 0.
            return "port \(hex((info1 >> 16) & 0xffff)), 32-bit, \(info1 & 1 == 1 ? "IN" : "OUT")"
        case "npf":
            // APM vol. 2 §15.25.6: bit 1 write, bit 2 user, bit 33 fault during guest page-table walk.
            return "not present, write, user, during guest page-table walk"
        default: return ""
        }
    }

    var info2Decoded: String {
        switch reason {
        case "io": return "next RIP \(hex(info2))"
        case "npf": return "faulting GPA \(hex(info2))"
        default: return ""
        }
    }

    /// Transcribed from traces/6.12/msr-prot.trace (line numbers are 1-based file lines).
    static let msrProt: [FixtureExit] = [
        .init(line: 20, nextEntryLine: 22, timestamp: 22_044_222_000, level: .l1, reason: "npf", code: 0x400, rip: 0x10000, info1: 0x2_0000_0006, info2: 0x1000),
        .init(line: 23, nextEntryLine: 26, timestamp: 22_044_468_000, level: .l1, reason: "msr", code: 0x7c, rip: 0x112d4, info1: 0, info2: 0, msr: .init(index: 0xc000_0080, value: 0x500, write: false, line: 24)),
        .init(line: 27, nextEntryLine: 30, timestamp: 22_044_616_000, level: .l1, reason: "msr", code: 0x7c, rip: 0x112e9, info1: 1, info2: 0, msr: .init(index: 0xc000_0080, value: 0x1500, write: true, line: 28)),
        .init(line: 31, nextEntryLine: 34, timestamp: 22_044_746_000, level: .l1, reason: "msr", code: 0x7c, rip: 0x112fa, info1: 1, info2: 0, msr: .init(index: 0xc001_0117, value: 0x30000, write: true, line: 32)),
        .init(line: 35, nextEntryLine: 38, timestamp: 22_044_835_000, level: .l1, reason: "msr", code: 0x7c, rip: 0x112fc, info1: 0, info2: 0, msr: .init(index: 0xc001_0117, value: 0x30000, write: false, line: 36)),
        .init(line: 39, nextEntryLine: 42, timestamp: 22_044_918_000, level: .l1, reason: "msr", code: 0x7c, rip: 0x11305, info1: 0, info2: 0, msr: .init(index: 0xc000_0080, value: 0x1500, write: false, line: 40)),
        .init(line: 43, nextEntryLine: 48, timestamp: 22_045_064_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x0, line: 44)),
        .init(line: 49, nextEntryLine: 52, timestamp: 22_045_509_000, level: .l1, reason: "msr", code: 0x7c, rip: 0x110a6, info1: 0, info2: 0, msr: .init(index: 0xc000_0080, value: 0x1500, write: false, line: 50)),
        .init(line: 53, nextEntryLine: 55, timestamp: 22_045_620_000, level: .l1, reason: "read_cr4", code: 0x04, rip: 0x110b9, info1: 0, info2: 0),
        .init(line: 56, nextEntryLine: 61, timestamp: 22_045_755_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x1, line: 57)),
        .init(line: 62, nextEntryLine: 66, timestamp: 22_045_925_000, level: .l1, reason: "vmrun", code: 0x80, rip: 0x1016f, info1: 0, info2: 0),
        .init(line: 67, nextEntryLine: 70, timestamp: 22_046_232_000, level: .l2, reason: "npf", code: 0x400, rip: 0x10256, info1: 0x2_0000_0006, info2: 0x1000, vmenterLine: 64, interceptsLine: 65),
        .init(line: 71, nextEntryLine: 74, timestamp: 22_046_641_000, level: .l2, reason: "msr", code: 0x7c, rip: 0x10267, info1: 0, info2: 0, injectLine: 73, vmenterLine: 64, interceptsLine: 65),
        .init(line: 75, nextEntryLine: 80, timestamp: 22_046_901_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x2, line: 76)),
        .init(line: 81, nextEntryLine: 85, timestamp: 22_047_110_000, level: .l1, reason: "vmrun", code: 0x80, rip: 0x1016f, info1: 0, info2: 0),
        .init(line: 86, nextEntryLine: 89, timestamp: 22_047_262_000, level: .l2, reason: "msr", code: 0x7c, rip: 0x1029f, info1: 1, info2: 0, injectLine: 88, vmenterLine: 83, interceptsLine: 84),
        .init(line: 90, nextEntryLine: 95, timestamp: 22_047_365_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x3, line: 91)),
        .init(line: 96, nextEntryLine: 100, timestamp: 22_047_483_000, level: .l1, reason: "vmrun", code: 0x80, rip: 0x1016f, info1: 0, info2: 0),
        .init(line: 101, nextEntryLine: 105, timestamp: 22_047_612_000, level: .l2, reason: "msr", code: 0x7c, rip: 0x102b2, info1: 0, info2: 0, msr: .init(index: 0x1b, value: 0xfee0_0900, write: false, line: 103), vmenterLine: 98, interceptsLine: 99),
        .init(line: 106, nextEntryLine: 109, timestamp: 22_047_769_000, level: .l2, reason: "msr", code: 0x7c, rip: 0x102c5, info1: 0, info2: 0, injectLine: 108, vmenterLine: 98, interceptsLine: 99),
        .init(line: 110, nextEntryLine: 115, timestamp: 22_047_891_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x4, line: 111)),
        .init(line: 116, nextEntryLine: 120, timestamp: 22_048_014_000, level: .l1, reason: "vmrun", code: 0x80, rip: 0x1016f, info1: 0, info2: 0),
        .init(line: 121, nextEntryLine: 124, timestamp: 22_048_146_000, level: .l2, reason: "msr", code: 0x7c, rip: 0x102d8, info1: 0, info2: 0, injectLine: 123, vmenterLine: 118, interceptsLine: 119),
        .init(line: 125, nextEntryLine: 130, timestamp: 22_048_232_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x5, line: 126)),
        .init(line: 131, nextEntryLine: 135, timestamp: 22_048_347_000, level: .l1, reason: "vmrun", code: 0x80, rip: 0x1016f, info1: 0, info2: 0),
        .init(line: 136, nextEntryLine: 140, timestamp: 22_048_468_000, level: .l2, reason: "msr", code: 0x7c, rip: 0x102eb, info1: 0, info2: 0, msr: .init(index: 0xc001_0117, value: 0x30000, write: false, line: 138), vmenterLine: 133, interceptsLine: 134),
        .init(line: 141, nextEntryLine: 144, timestamp: 22_048_568_000, level: .l2, reason: "hlt", code: 0x78, rip: 0x10301, info1: 0, info2: 0, injectLine: 143, vmenterLine: 133, interceptsLine: 134),
        .init(line: 145, nextEntryLine: 150, timestamp: 22_048_651_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x6, line: 146)),
        .init(line: 151, nextEntryLine: 156, timestamp: 22_048_788_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x7, line: 152)),
        .init(line: 157, nextEntryLine: 162, timestamp: 22_048_903_000, level: .l1, reason: "io", code: 0x7b, rip: 0x10902, info1: 0x0510_0040, info2: 0x10903, pio: .init(port: 0x510, value: 0x8, line: 158)),
        .init(line: 163, nextEntryLine: nil, timestamp: 22_049_022_000, level: .l1, reason: "io", code: 0x7b, rip: 0x113bf, info1: 0x0511_0040, info2: 0x113c0, pio: .init(port: 0x511, value: 0x600d, line: 164)),
    ]
}
