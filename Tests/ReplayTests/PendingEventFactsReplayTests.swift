import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// The -EBUSY inputs of `svm_check_nested_events` a trace states for a synthesized #VMEXIT
/// (`ModelInputs.pendingEventFacts`): `nested.run-pending` from the `kvm_entry` after the last
/// VMRUN, `vcpu.event-needs-reinjection` from the previous `kvm_exit`'s `intr_info`.
@Suite struct PendingEventFactsReplayTests {
    static let host612 = CaptureHosts.folder("6.12")!
    static let prefix = "          svmlab-401     [000] .....     6.295000: "
    static let inject = [
        prefix + "kvm_nested_intr_vmexit: rip: 0x00000000000101c2",
        prefix + "kvm_nested_vmexit_inject: reason: interrupt ext_inf1: 0x0000000000000000 ext_inf2: 0x0000000000000000 ext_int: 0x00000000 ext_int_err: 0x00000000",
    ]

    /// 6.12/minimal.trace with L1 intercepting INTR and the synthesized INTR #VMEXIT inserted
    /// after the line `anchor` matches; `edit` may change the lines first.
    func trace(after anchor: String, edit: (inout [String]) throws -> Void = { _ in }) throws -> String {
        var lines = try readText("6.12/minimal.trace").components(separatedBy: "\n")
        let intercepts = try #require(lines.firstIndex { $0.contains("kvm_nested_intercepts:") })
        lines[intercepts] = lines[intercepts].replacingOccurrences(of: "intercepts: 01000000", with: "intercepts: 01000001")
        try edit(&lines)
        let at = try #require(lines.firstIndex { $0.contains(anchor) })
        lines.insert(contentsOf: Self.inject, at: at + 1)
        return lines.joined(separator: "\n")
    }

    func synthesizedDecision(_ text: String) throws -> (ExitRecord, Decision, ReplayResult) {
        let result = try replay(text: text, source: "intr.trace", folder: Self.host612)
        let exit = try #require(result.exits.first { $0.origin == .synthesized })
        return (exit, result.decision(for: exit), result)
    }

    @Test("after L2 ran and an exit without EXITINTINFO, both facts are stated clear with their lines; the #VMEXIT matches")
    func statedClear() throws {
        let (exit, decision, _) = try synthesizedDecision(try trace(after: "kvm_page_fault: vcpu 0 rip 0x101c2"))
        #expect(exit.verdict.kind == .match)
        let step = try #require(decision.path.first { $0.rule.rawValue == "svm.pending.ebusy" })
        #expect(step.answer == .no)
        #expect(step.evidence.contains { $0.field == "fact nested.run-pending" && $0.value == "0" && $0.source?.hasPrefix("kvm_entry line") == true })
        #expect(step.evidence.contains { $0.field == "fact vcpu.event-needs-reinjection" && $0.value == "0" && $0.source?.contains("intr_info 0x00000000") == true })
    }

    @Test("negative: an exit whose intr_info holds an event makes the synthesized #VMEXIT impossible (-EBUSY): a mismatch")
    func reinjectionStated() throws {
        let text = try trace(after: "kvm_page_fault: vcpu 0 rip 0x101c2") { lines in
            let fault = try #require(lines.firstIndex { $0.contains("kvm_page_fault: vcpu 0 rip 0x101c2") })
            let exit = try #require(lines[..<fault].lastIndex { $0.contains("kvm_exit:") })
            lines[exit] = lines[exit].replacingOccurrences(of: "intr_info 0x00000000", with: "intr_info 0x80000020")
        }
        let (exit, decision, result) = try synthesizedDecision(text)
        #expect(decision.outcome.kind == .l0Handles)
        #expect(decision.outcome.detail?.contains("-EBUSY") == true)
        #expect(exit.verdict.kind == .mismatch)
        #expect(result.mismatches.count >= 1)
    }

    @Test("negative: right after the VMRUN's kvm_nested_vmenter, with no kvm_entry since, nested_run_pending is set: a mismatch")
    func runPendingStated() throws {
        let (exit, decision, _) = try synthesizedDecision(try trace(after: "kvm_nested_vmenter:"))
        let step = try #require(decision.path.first { $0.rule.rawValue == "svm.pending.ebusy" })
        #expect(step.evidence.contains { $0.field == "fact nested.run-pending" && $0.value == "1" && $0.source?.hasPrefix("kvm_nested_vmenter line") == true })
        #expect(exit.verdict.kind == .mismatch)
    }
}
