import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// `svm/svm.c:svm_complete_interrupts` re-queues the event in flight at an exit (EXITINTINFO
/// valid); when L0 keeps the exit, `x86.c:kvm_check_and_inject_events` injects it again and the
/// trace prints `[reinjected]`. The replay predicts that line and a trace that lost it is a
/// mismatch (issue #15).
@Suite struct ReinjectionReplayTests {
    static func folder(_ name: String) throws -> CaptureHosts.Folder {
        try #require(CaptureHosts.folders.first { $0.name == name })
    }

    @Test("the re-injection prediction holds on the real 6.1 exceptions trace (3 Soft/INTn 0x3 [reinjected])")
    func holdsOnRealTrace() throws {
        let text = try readText("6.1/exceptions.trace")
        let result = try replay(text: text, source: "6.1/exceptions.trace", folder: try Self.folder("6.1"))
        #expect(result.mismatches.isEmpty, "\(result.mismatches.map(\.verdict.explanation))")
        #expect(text.components(separatedBy: "[reinjected]").count - 1 == 3)
    }

    @Test("a copy of the real trace with one [reinjected] line deleted is a mismatch at that exit")
    func lostReinjection() throws {
        let text = try readText("6.1/exceptions.trace")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let index = try #require(lines.firstIndex { $0.contains("kvm_inj_virq: Soft/INTn 0x3 [reinjected]") })
        lines.remove(at: index)
        let result = try replay(text: lines.joined(separator: "\n"), source: "exceptions-lost-reinjection.trace", folder: try Self.folder("6.1"))
        #expect(result.mismatches.count == 1)
        let lost = try #require(result.mismatches.first)
        #expect(lost.verdict.differences.map(\.field) == ["reinjection"])
        #expect(lost.verdict.differences.first?.model == "Soft/INTn 0x3 [reinjected]")
        #expect(lost.verdict.explanation.contains("svm_complete_interrupts"))
        // The exit whose re-injection was lost is the one before the deleted line.
        #expect(lost.lines.upperBound >= index)
    }

    @Test("what svm_complete_interrupts re-queues, read from EXITINTINFO")
    func expected() {
        #expect(Reinjection.expected(intrInfo: 0x8000_0403, errorCode: 0) == .softInterrupt(vector: 3))
        #expect(Reinjection.expected(intrInfo: 0x8000_0b0d, errorCode: 0x10) == .exception(vector: 13, errorCode: 0x10))
        #expect(Reinjection.expected(intrInfo: 0x8000_030e, errorCode: 7) == .exception(vector: 14, errorCode: nil))
        #expect(Reinjection.expected(intrInfo: 0x8000_0020, errorCode: 0) == .interrupt(vector: 0x20))
        // NMI: svm_inject_nmi has no tracepoint; #VC is never re-injected; not valid: nothing.
        #expect(Reinjection.expected(intrInfo: 0x8000_0202, errorCode: 0) == nil)
        #expect(Reinjection.expected(intrInfo: 0x8000_031d, errorCode: 0) == nil)
        #expect(Reinjection.expected(intrInfo: 0x0000_0403, errorCode: 0) == nil)
        #expect(Reinjection.expected(intrInfo: nil, errorCode: nil) == nil)
    }

    @Test("only a kept exit is checked; a reflection or a new exception is not; an old format is unknown")
    func scope() {
        let kept = RecordedOutcome(kind: .l0Handles, entry: EventNumber(9))
        let l0 = Outcome.l0Handles("svm/svm.c:npf_interception", level: .l2)
        let none: [EventPayload] = []
        let reinjected: [EventPayload] = [.injVirq(KVMInjVirq(kind: .softInterrupt, vector: 3, reinjected: true))]
        let oldFormat: [EventPayload] = [.injVirq(KVMInjVirq(kind: .softInterrupt, vector: 3, reinjected: nil))]
        func check(_ outcome: Outcome, _ recorded: RecordedOutcome, _ payloads: [EventPayload], records: Bool = true) -> Verdict.Difference? {
            Reinjection.mismatch(
                intrInfo: 0x8000_0403, errorCode: 0, outcome: outcome, recorded: recorded, payloads: payloads, traceRecords: { _ in records })
        }
        #expect(check(l0, kept, none)?.field == "reinjection")
        #expect(check(l0, kept, reinjected) == nil)
        #expect(check(l0, kept, oldFormat) == nil)
        #expect(check(l0, kept, none, records: false) == nil)
        #expect(check(l0, RecordedOutcome(kind: .l0Handles), none) == nil)  // no entry: the trace ends
        let reflected = RecordedOutcome(kind: .reflectToL1, exitCode: 0x400, entry: EventNumber(9))
        #expect(check(.reflect(.npf, info1: 0, info2: 0), reflected, none) == nil)
        let injected = RecordedOutcome(kind: .injectException, vector: 14, entry: EventNumber(9))
        #expect(check(.inject(14, errorCode: 0, into: .l2, handler: "x"), injected, none) == nil)
    }
}
