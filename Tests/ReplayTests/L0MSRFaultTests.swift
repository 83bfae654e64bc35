import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// An MSR access L0's emulation rejects (`kvm_msr ... (#GP)`): `svm/svm.c:msr_interception` →
/// `svm_complete_emulated_msr` → `x86.c:kvm_complete_insn_gp` injects #GP(0) into the guest.
/// Real L1 kernels probe MSRs KVM does not emulate, so an L1 MSR exit can end in
/// `kvm_inj_exception: #GP (0x0)`. These tests rewrite the RDMSR of 0xc0010117 at line 37 of
/// 6.12/minimal.trace (L1, before its VMRUN) into a rejected one.
@Suite struct L0MSRFaultTests {
    static let host612 = CaptureHosts.folder("6.12")!
    static let prefix = "          svmlab-401     [000] .....     6.288860: "

    /// minimal.trace with the RDMSR at line 37 faulting; `inject` adds the #GP injection,
    /// `faultLine` keeps or drops the `(#GP)` of the `kvm_msr` line.
    func trace(faultLine: Bool, inject: Bool) throws -> String {
        var lines = try readText("6.12/minimal.trace").components(separatedBy: "\n")
        let msr = try #require(lines.firstIndex { $0.contains("kvm_msr: msr_read c0010117 = 0x30000") })
        if faultLine {
            lines[msr] = lines[msr].replacingOccurrences(of: "msr_read c0010117 = 0x30000", with: "msr_read c0010117 = 0x0 (#GP)")
        }
        if inject { lines.insert(Self.prefix + "kvm_inj_exception: #GP (0x0)", at: msr + 2) }
        return lines.joined(separator: "\n")
    }

    func rdmsrExit(_ result: ReplayResult) throws -> ExitRecord {
        try #require(result.exits.first { $0.exitCode == 0x7c && $0.rip == 0x112fc })
    }

    @Test("a rejected L1 RDMSR followed by the #GP injection matches: the model injects #GP(0) into L1")
    func rejectedMatches() throws {
        let result = try replay(text: try trace(faultLine: true, inject: true), source: "msr-gp.trace", folder: Self.host612)
        let exit = try rdmsrExit(result)
        #expect(exit.recorded.kind == .injectException)
        #expect(exit.model.kind == .injectException)
        #expect(exit.model.level == .l1)
        #expect(exit.verdict.kind == .match)
        #expect(result.mismatches.isEmpty)
    }

    @Test("the kvm_msr line says (#GP) but no #GP was injected: a mismatch")
    func rejectedWithoutInjectionIsMismatch() throws {
        let result = try replay(text: try trace(faultLine: true, inject: false), source: "msr-gp.trace", folder: Self.host612)
        #expect(try rdmsrExit(result).verdict.kind == .mismatch)
    }

    @Test("an accepted RDMSR followed by a #GP injection: a mismatch (the model says L0 emulated it)")
    func acceptedWithInjectionIsMismatch() throws {
        let result = try replay(text: try trace(faultLine: false, inject: true), source: "msr-gp.trace", folder: Self.host612)
        #expect(try rdmsrExit(result).verdict.kind == .mismatch)
    }
}
