import Foundation
import Replay
import TestSupport
import Testing
import TraceKit

/// A #VMEXIT KVM synthesizes with no hardware exit before it is a record of its own
/// (`svm_check_nested_events`). No shipped capture has one (no scenario lets L1 intercept
/// INTR), so these tests insert the sequence `trace-events.md` §4.13 gives from the source
/// (`kvm_nested_intr_vmexit`, then `kvm_nested_vmexit_inject: reason: interrupt`) into a real
/// trace, after an L2 NPF that L0 fixed.
@Suite struct SynthesizedExitTests {
    static let host612 = CaptureHosts.folder("6.12")!

    /// 6.12/minimal.trace with L1 intercepting INTR (word 3 bit 0) and an interrupt for L1
    /// converted into a #VMEXIT right after the NPF at line 69, before the entry at line 72.
    func traceWithSynthesizedInterrupt(interceptINTR: Bool) throws -> String {
        var lines = try readText("6.12/minimal.trace").components(separatedBy: "\n")
        let intercepts = try #require(lines.firstIndex { $0.contains("kvm_nested_intercepts:") })
        if interceptINTR {
            lines[intercepts] = lines[intercepts].replacingOccurrences(of: "intercepts: 01000000", with: "intercepts: 01000001")
        }
        let fault = try #require(lines.firstIndex { $0.contains("kvm_page_fault: vcpu 0 rip 0x101c2") })
        let prefix = "          svmlab-401     [000] .....     6.295000: "
        lines.insert(contentsOf: [
            prefix + "kvm_nested_intr_vmexit: rip: 0x00000000000101c2",
            prefix + "kvm_nested_vmexit_inject: reason: interrupt ext_inf1: 0x0000000000000000 ext_inf2: 0x0000000000000000 ext_int: 0x00000000 ext_int_err: 0x00000000",
        ], at: fault + 1)
        // The entry that followed now returns to L1 after VMRUN.
        let entry = try #require(lines[(fault + 3)...].firstIndex { $0.contains("kvm_entry:") })
        lines[entry] = lines[entry].replacingOccurrences(of: "rip 0x101c2", with: "rip 0x10172")
        return lines.joined(separator: "\n")
    }

    @Test("an interrupt converted into a #VMEXIT is its own synthesized record, and matches when L1 intercepts INTR")
    func synthesizedInterruptMatches() throws {
        let result = try replay(text: try traceWithSynthesizedInterrupt(interceptINTR: true), source: "intr.trace", folder: Self.host612)
        let synthesized = result.exits.filter { $0.origin == .synthesized }
        try #require(synthesized.count == 1)
        #expect(synthesized[0].exitCode == 0x60)
        #expect(synthesized[0].recorded.kind == .reflectToL1)
        #expect(synthesized[0].verdict.kind == .match)
        // The NPF before it is still judged on its own: L0 fixed it.
        let npf = try #require(result.exits.last { $0.index < synthesized[0].index && $0.exitCode == 0x400 })
        #expect(npf.recorded.kind == .l0Handles)
        #expect(npf.verdict.kind == .match)
        #expect(result.mismatches.isEmpty)
    }

    @Test("the same synthesized #VMEXIT is a mismatch when L1 does not intercept INTR")
    func synthesizedInterruptWithoutIntercept() throws {
        let result = try replay(text: try traceWithSynthesizedInterrupt(interceptINTR: false), source: "intr.trace", folder: Self.host612)
        let synthesized = try #require(result.exits.first { $0.origin == .synthesized })
        #expect(synthesized.verdict.kind == .mismatch)
        #expect(result.mismatches.count == 1)
    }
}
