@testable import DebuggerSession
import DebuggerUI
import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// A real trace replayed with its capture host's facts, wrapped in a `ReplaySession`.
struct ReplayedTrace: Sendable, CustomTestStringConvertible {
    var file: String
    var host: String

    static let msrProt = ReplayedTrace(
        file: "6.12/msr-prot.trace", host: "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0")
    static let naplesBadRAX = ReplayedTrace(
        file: "6.12-naples/l2-badrax-vmload-vmsave-nointercept.trace",
        host: "svme_addr_chk=0,vgif=0,npt=1,nrips=0,decode_assists=0")

    var testDescription: String { file }

    /// Loads and replays the trace, optionally with its text changed first.
    func replay(profile: String = "6.12", editing edit: ((String) -> String)? = nil) throws -> ReplayResult {
        let url = RepositoryPaths.trace(file)
        let trace: LoadedTrace
        if let edit {
            let text = try String(contentsOf: url, encoding: .utf8)
            trace = try TraceLoader.load(bytes: Array(edit(text).utf8), source: url.lastPathComponent)
        } else {
            trace = try TraceLoader.load(path: url.path)
        }
        let options = ReplayOptions(
            profile: try uiNamedProfile(profile), host: try HostFacts(parsing: host, source: "--host"))
        return Replayer(trace: trace, options: options).run()
    }

    /// msr-prot with its first reflected MSR exit (line 73) recorded as `hlt`: a real
    /// mismatch, because the model reflects `msr`.
    static func msrProtWithChangedInject() throws -> ReplayResult {
        try msrProt.replay { text in
            text.replacingOccurrences(
                of: "22.046753: kvm_nested_vmexit_inject: reason: msr", with: "22.046753: kvm_nested_vmexit_inject: reason: hlt")
        }
    }
}

@Suite struct ReplaySessionTests {
    static let traces = [ReplayedTrace.msrProt, .naplesBadRAX]

    @Test("every row repeats its ExitRecord: time, vCPU, level, reason, code, RIP and verdict", arguments: traces)
    func rowsMatchRecords(trace: ReplayedTrace) throws {
        let result = try trace.replay()
        let session = ReplaySession(result: result)
        #expect(session.exitCount == result.exits.count)
        #expect(session.progress.isFinished)
        for exit in result.exits {
            let row = try #require(session.row(ExitNumber(exit.index)))
            #expect(row.number.rawValue == exit.index)
            #expect(row.timestamp == exit.timestamp)
            #expect(row.vcpu == exit.vcpu.map { Int($0) })
            #expect(row.level == exit.level)
            #expect(row.reason == exit.reasonName)
            #expect(row.exitCode == UInt64(exit.exitCode))
            #expect(row.rip == exit.rip)
            // Issue 16: a match settled by the recorded outcome has its own verdict.
            #expect(row.verdict.rawValue == (exit.verdict.isConsistent ? "consistent" : exit.verdict.kind.rawValue))
        }
        #expect(session.row(ExitNumber(result.exits.count)) == nil)
        let summary = result.summary
        #expect(session.counts == VerdictCounts(
            match: summary.decided, mismatch: summary.mismatch, undetermined: summary.undetermined, notModelled: 0,
            consistent: summary.consistent))
    }

    /// The exits a predicate should find, computed from the ExitRecords and the trace
    /// directly (not from the session's index).
    static func expected(_ predicate: ExitPredicate, in result: ReplayResult) -> [Int] {
        result.exits.filter { exit in
            switch predicate {
            case .vcpu(let v): return exit.vcpu.map { Int($0) } == v
            case .level(let l): return exit.level == l
            case .reason(let r): return exit.reasonName.lowercased() == r.lowercased()
            case .exitCode(let c): return UInt64(exit.exitCode) == c
            case .msr(let m):
                guard exit.exitCode == 0x7c else { return false }
                return result.events(of: exit).contains {
                    if case .msr(let msr) = result.trace.payload(of: $0) { return msr.msr == m }
                    return false
                }
            case .port(let p): return exit.exitCode == 0x7b && exit.exitInfo1.map { UInt16(($0 >> 16) & 0xffff) } == p
            case .verdict(let v): return (exit.verdict.isConsistent ? "consistent" : exit.verdict.kind.rawValue) == v.rawValue
            case .outcome(let name): return exit.model.kind.rawValue == name || exit.recorded.kind.rawValue == name
            case .all(let terms): return terms.allSatisfy { expected($0, in: result).contains(exit.index) }
            case .either(let terms): return terms.contains { expected($0, in: result).contains(exit.index) }
            case .not(let term): return !expected(term, in: result).contains(exit.index)
            case .any: return true
            case .text: return false
            }
        }.map(\.index)
    }

    static let predicates: [ExitPredicate] = [
        .vcpu(0), .vcpu(1), .level(.l1), .level(.l2), .reason("msr"), .reason("IO"), .reason("vmload"),
        .exitCode(0x80), .exitCode(0x4d), .msr(0xc000_0080), .msr(0xc001_0117), .port(0x510),
        .verdict(.match), .verdict(.consistent), .verdict(.mismatch), .all([.level(.l2), .reason("msr")]),
        .either([.reason("hlt"), .port(0x510)]), .all([.reason("io"), .level(.l1), .vcpu(0)]), .any,
        .not(.reason("io")), .all([.level(.l2), .not(.either([.reason("msr"), .reason("io")]))]),
        .outcome("reflect_to_l1"), .outcome("l0_handles"), .outcome("vmrun_succeeds"), .all([.outcome("l0_handles"), .level(.l2)]),
    ]

    @Test("field predicates find exactly the right exits, forwards and backwards", arguments: traces)
    func predicatesBothWays(trace: ReplayedTrace) throws {
        let result = try trace.replay()
        let session = ReplaySession(result: result)
        for predicate in Self.predicates {
            let want = Self.expected(predicate, in: result)
            var forward: [Int] = []
            var at: ExitNumber? = nil
            while let next = session.nextExit(matching: predicate, after: at, direction: .forward) {
                forward.append(next.rawValue)
                at = next
            }
            #expect(forward == want, "\(predicate) forward")
            var backward: [Int] = []
            at = nil
            while let next = session.nextExit(matching: predicate, after: at, direction: .backward) {
                backward.append(next.rawValue)
                at = next
            }
            #expect(backward == want.reversed(), "\(predicate) backward")
        }
    }

    @Test("msr-prot has exits for the MSR, port and level predicates (so the table above tests something)")
    func predicatesAreNotVacuous() throws {
        let result = try ReplayedTrace.msrProt.replay()
        for predicate: ExitPredicate in [.msr(0xc000_0080), .port(0x510), .level(.l2), .reason("hlt"), .outcome("reflect_to_l1"),
                                         .outcome("l0_handles")] {
            #expect(!Self.expected(predicate, in: result).isEmpty, "\(predicate)")
        }
    }

    @Test("a mismatch made in the trace text is found by the verdict predicate from either end")
    func mismatchNavigation() throws {
        let result = try ReplayedTrace.msrProtWithChangedInject()
        let session = ReplaySession(result: result)
        #expect(session.counts.mismatch == 1)
        let mismatch = try #require(session.nextExit(matching: .verdict(.mismatch), after: nil, direction: .forward))
        #expect(session.nextExit(matching: .verdict(.mismatch), after: nil, direction: .backward) == mismatch)
        #expect(session.nextExit(matching: .verdict(.mismatch), after: mismatch, direction: .forward) == nil)
        let row = try #require(session.row(mismatch))
        #expect(row.verdict == .mismatch)
        #expect(row.reason == "msr")
        let detail = try #require(session.detail(mismatch))
        #expect(detail.notes.contains { $0.hasPrefix("differs: outcome") && $0.contains("L1 got #VMEXIT hlt") })
        #expect(detail.recordedEvidence.contains { $0.hasPrefix("line 73 kvm_nested_vmexit_inject: reason: hlt") })
    }

    @Test("a match the trace settled says what it inferred, and lists the alternatives in the notes")
    func inferredNotes() throws {
        let result = try ReplayedTrace.msrProt.replay()
        let session = ReplaySession(result: result)
        let settled = try #require(result.exits.first { !$0.verdict.inferred.isEmpty })
        let detail = try #require(session.detail(ExitNumber(settled.index)))
        for condition in settled.verdict.inferred {
            #expect(detail.notes.contains("inferred from the recorded outcome: \(condition)"))
        }
        #expect(detail.notes.contains { $0.hasPrefix("if ") })
        #expect(detail.notes.first?.hasPrefix("match: ") == true)
    }

    @Test("regex search looks at raw lines and decoded text, case-insensitive when asked")
    func textSearch() throws {
        let result = try ReplayedTrace.msrProt.replay()
        let session = ReplaySession(result: result)
        let query = ExitPredicate.text(TextQuery(pattern: "KVM_NESTED_VMEXIT_INJECT", caseSensitive: false))
        let first = try #require(session.nextExit(matching: query, after: nil, direction: .forward))
        #expect(result.exits[first.rawValue].lines.contains(73))
        let exact = ExitPredicate.text(TextQuery(pattern: "KVM_NESTED_VMEXIT_INJECT", caseSensitive: true))
        #expect(session.nextExit(matching: exact, after: nil, direction: .forward) == nil)
        let decoded = ExitPredicate.text(TextQuery(pattern: "wrmsr 0xc0000080=0x1500", caseSensitive: true))
        #expect(session.nextExit(matching: decoded, after: nil, direction: .forward) == ExitNumber(2))
    }

    @Test("timestamp lookup: each exit's own time finds it; before the first and after the last clamp", arguments: traces)
    func timestamps(trace: ReplayedTrace) throws {
        let result = try trace.replay()
        let session = ReplaySession(result: result)
        for exit in result.exits {
            let first = try #require(result.exits.firstIndex { $0.timestamp.value >= exit.timestamp.value })
            #expect(session.exit(atOrAfter: exit.timestamp) == ExitNumber(first))
        }
        let last = try #require(result.exits.last)
        #expect(session.exit(atOrAfter: .nanoseconds(0)) == ExitNumber(0))
        #expect(session.exit(atOrAfter: .nanoseconds(last.timestamp.value + 1)) == ExitNumber(last.index))
        let between = result.exits[1].timestamp.value - 1
        #expect(session.exit(atOrAfter: .nanoseconds(between)) == ExitNumber(1))
    }

    @Test("rate buckets count every exit once and point at their first exit", arguments: traces)
    func rateBuckets(trace: ReplayedTrace) throws {
        let result = try trace.replay()
        let session = ReplaySession(result: result)
        let buckets = session.rateBuckets(count: 17)
        #expect(buckets.count == 17)
        #expect(buckets.map(\.exits).reduce(0, +) == result.exits.count)
        #expect(buckets.first?.firstExit == ExitNumber(0))
        #expect(session.rateBuckets(count: 17) == buckets)
    }

    private func field(_ detail: ExitDetail, _ section: String, _ name: String) -> DecodedField? {
        detail.vmcb.first { $0.title.hasPrefix(section) }?.fields.first { $0.name == name }
    }

    private func register(_ detail: ExitDetail, _ name: String) -> KnownValue? {
        detail.registers.first { $0.name == name }
    }

    @Test("IOIO exit_info_1 decodes port, direction and size; info2 is the next RIP")
    func ioioDecoding() throws {
        let session = ReplaySession(result: try ReplayedTrace.msrProt.replay())
        let io = try #require(session.nextExit(matching: .port(0x510), after: nil, direction: .forward))
        let detail = try #require(session.detail(io))
        let info1 = try #require(field(detail, "exit", "exit_info_1"))
        #expect(info1.raw == "0x5100040")
        #expect(info1.decoded == "port 0x510 out 4B")
        #expect(try #require(field(detail, "exit", "exit_info_2")).decoded.hasPrefix("next RIP 0x"))
        #expect(try #require(session.row(io)).summary == "out 0x510 4B")
    }

    @Test("MSR exits show RCX from their kvm_msr line and WRMSR/RDMSR from exit_info_1")
    func msrDecoding() throws {
        let session = ReplaySession(result: try ReplayedTrace.msrProt.replay())
        let detail = try #require(session.detail(ExitNumber(2)))
        #expect(try #require(field(detail, "exit", "exit_info_1")).decoded == "WRMSR")
        let rcx = try #require(register(detail, "RCX"))
        #expect(rcx.value == "0xc0000080")
        #expect(rcx.provenance == "kvm_msr line 28")
        #expect(try #require(register(detail, "EDX:EAX")).value == "0x1500")
        // L1's EFER as read at exit #1 (kvm_msr line 24) is what the model saw at exit #2.
        let efer = try #require(register(detail, "L1 EFER"))
        #expect(efer.value == "0x500")
        #expect(efer.provenance == "kvm_msr line 24")
        // Never invented: CPL is not in any event.
        #expect(try #require(register(detail, "L1 CPL")).value == nil)
    }

    @Test("NPF exit_info_1 decodes the error-code bits; info2 is the faulting GPA")
    func npfDecoding() throws {
        let session = ReplaySession(result: try ReplayedTrace.msrProt.replay())
        let detail = try #require(session.detail(ExitNumber(0)))
        let info1 = try #require(field(detail, "exit", "exit_info_1"))
        #expect(info1.raw == "0x200000006")
        #expect(info1.decoded == "not-present, write, user, guest-page-table-walk")
        #expect(try #require(field(detail, "exit", "exit_info_2")).decoded == "faulting GPA 0x1000")
    }

    @Test("an L2 exit shows L1's vmcb12 intercepts by name, its control fields and the decision path")
    func vmcbOfL2Exit() throws {
        let result = try ReplayedTrace.msrProt.replay()
        let session = ReplaySession(result: result)
        let hlt = try #require(session.nextExit(matching: .reason("hlt"), after: nil, direction: .forward))
        let detail = try #require(session.detail(hlt))
        let word3 = try #require(field(detail, "vmcb12 intercepts", "intercepts[3]"))
        #expect(word3.raw == "0x11000000")
        #expect(word3.decoded == "HLT MSR_PROT")
        #expect(try #require(field(detail, "vmcb12 intercepts", "intercepts[4]")).decoded.hasPrefix("VMRUN"))
        #expect(try #require(field(detail, "vmcb12 intercepts", "dr")).raw == nil)
        #expect(try #require(field(detail, "vmcb12 control", "int_ctl")).decoded == "V_INTR_MASKING")
        #expect(try #require(field(detail, "vmcb12 control", "event_inj")).decoded == "none (V=0)")
        let decision = result.decision(for: result.exits[hlt.rawValue])
        #expect(detail.decisionSteps.map(\.ruleID) == decision.path.map(\.rule.rawValue))
        #expect(!detail.decisionSteps.isEmpty)
        #expect(detail.recordedOutcome.hasPrefix("L1 got #VMEXIT hlt"))
        #expect(try #require(register(detail, "vmcb12")).value != nil)
    }

    @Test("Naples: VMLOAD/VMSAVE exits of L2 with a bad RAX, vCPU and level predicates")
    func naplesBadRAX() throws {
        let result = try ReplayedTrace.naplesBadRAX.replay()
        let session = ReplaySession(result: result)
        let gp = Self.expected(.reason("GP excp"), in: result)
        #expect(!gp.isEmpty)
        let first = try #require(session.nextExit(matching: .reason("gp excp"), after: nil, direction: .forward))
        #expect(first.rawValue == gp.first)
        let detail = try #require(session.detail(first))
        #expect(try #require(field(detail, "exit", "exit_code")).raw == "0x04d")
        #expect(try #require(field(detail, "exit", "exit_info_1")).decoded.hasPrefix("error code 0x"))
        #expect(detail.rawLines == result.exits[first.rawValue].lines)
        let lines = session.rawLines(detail.rawLines)
        #expect(lines.count == detail.rawLines.count)
        #expect(lines.first?.text.contains("kvm_exit") == true)
    }

    @Test("a loading session reports progress, then answers from the finished replay")
    func loadsInBackground() throws {
        let options = ReplayOptions(
            profile: try uiNamedProfile("6.12"),
            host: try HostFacts(parsing: ReplayedTrace.msrProt.host, source: "--host"))
        let session = ReplaySession.loading(path: RepositoryPaths.trace("6.12/msr-prot.trace").path, options: options)
        #expect(session.waitUntilFinished())
        #expect(session.progress.isFinished)
        #expect(session.exitCount == 31)
        #expect(session.failure == nil)
        let missing = ReplaySession.loading(path: "/nonexistent/trace", options: options)
        #expect(!missing.waitUntilFinished())
        #expect(missing.failure?.contains("/nonexistent/trace") == true)
        #expect(missing.exitCount == 0)
    }

    @Test("raw lines escape control characters")
    func rawLinesEscaped() throws {
        let result = try ReplayedTrace.msrProt.replay { text in
            text.replacingOccurrences(of: "kvm_page_fault: vcpu 0 rip 0x10000", with: "kvm_page_fault: vcpu 0 \u{1b}[2J rip 0x10000")
        }
        let session = ReplaySession(result: result)
        let lines = session.rawLines(21...21)
        #expect(lines.first?.text.contains("\\x1b[2J") == true)
        #expect(lines.first?.text.contains("\u{1b}") == false)
    }
}

/// A large plain file is first shown as a replay of its head.
@Suite struct ReplaySessionPreviewTests {
    @Test("a file larger than the preview size shows its head first, then the whole replay")
    func previewThenWhole() throws {
        let path = RepositoryPaths.trace("6.12/msr-prot.trace").path
        let options = ReplayOptions(
            profile: .v6_12, host: try HostFacts(parsing: "svme_addr_chk=1,vgif=1,npt=1,nrips=0,decode_assists=0"))
        let previewed = ReplaySession.loading(path: path, options: options, previewBytes: 4096)
        let whole = ReplaySession.loading(path: path, options: options, previewBytes: 1 << 30)
        #expect(previewed.waitUntilFinished())
        #expect(whole.waitUntilFinished())
        #expect(previewed.showedPreview)
        #expect(!whole.showedPreview)
        #expect(previewed.exitCount == whole.exitCount)
        for number in 0..<whole.exitCount {
            #expect(previewed.row(ExitNumber(number)) == whole.row(ExitNumber(number)))
        }
        #expect(previewed.progress.isFinished)
    }
}

/// The shipped profile called `name` (instead of `try #require(KernelProfile(named:))`, whose
/// outlined `Result<KernelProfile, Error>` destroy crashes with this toolchain).
private func uiNamedProfile(_ name: String) throws -> KernelProfile {
    guard let profile = KernelProfile(named: name) else { throw UIProfileLookupError(name: name) }
    return profile
}

private struct UIProfileLookupError: Error {
    var name: String
}
