import NestedSVM
import Replay
import TestSupport
import TraceKit
import Testing

/// Replay attaches `svmdbg capture`'s `exit_regs` probe to the exit it belongs to.
///
/// The traces are real captures from `traces/`; one probe line is inserted right after the
/// exit's `kvm_exit`, where `svm_handle_exit`'s probe fires, with the values the scenario's
/// manifest states (e.g. `l1-vmrun-misaligned`: vmcb12_pa 0x31000 + misaligned_off 0x10).
/// Real probe captures from the lab are checked by `ProbeCaptureTests` when shipped.
@Suite struct ProbeReplayTests {
    /// `text` with `probe` inserted after line `line` (1-based), using that line's prefix.
    static func inserting(_ probe: String, after line: Int, in text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let exitLine = lines[line - 1]
        let prefix = exitLine[..<(exitLine.range(of: "kvm_exit:")?.lowerBound ?? exitLine.startIndex)]
        lines.insert(prefix + "exit_regs: (svm_handle_exit+0x4/0x3a0 [kvm_amd]) " + probe, at: line)
        return lines.joined(separator: "\n")
    }

    static let naples = CaptureHosts.folder("6.12-naples")

    @Test("an L1 #GP on VMRUN with a misaligned RAX is decided from the probe's RAX instead of settled by the trace")
    func misalignedRAX() throws {
        let folder = try #require(Self.naples)
        let original = try readText("6.12-naples/l1-vmrun-misaligned.trace")
        let without = try replay(text: original, source: "without.trace", folder: folder)
        let before = try #require(without.exits.first { $0.lines.lowerBound == 104 })
        #expect(before.model.kind == .undetermined)

        let probed = Self.inserting(
            "rax=0x31010 rcx=0x0 hflags=0x0 vmcb=0xffff888001234000 vmcb01=0xffff888001234000 exit_code=0x4d cr0=0x80050033 cr4=0x20 efer=0x1d00 cpl=0x0 rflags=0x2",
            after: 104, in: original)
        let with = try replay(text: probed, source: "with.trace", folder: folder)
        let after = try #require(with.exits.first { $0.lines.lowerBound == 104 })
        #expect(after.model.kind != .undetermined)
        #expect(after.verdict.kind == .match)
        #expect(after.verdict.inferred.isEmpty)
        let decision = with.decision(for: after)
        let evidence = decision.path.flatMap(\.evidence).map(\.description).joined(separator: "\n")
        #expect(evidence.contains("probe svmdbg/exit_regs line 105 (rax)"))
        let registers = with.probeRegisters(of: after)
        #expect(registers.first?.name == "RAX")
        #expect(registers.first?.value == 0x31010)
        #expect(with.decidedState(of: after).l1.cpl == Known(0, source: "probe svmdbg/exit_regs line 105 (cpl)"))
        #expect(with.decidedState(of: after).inSMM?.value == false)
        #expect(with.decidedState(of: after).level?.source == "probe svmdbg/exit_regs line 105 (vmcb = vmcb01)")
    }

    @Test("hflags with an SMM bit of either layout leaves SMM unknown", arguments: ["hflags=0x2", "hflags=0x40"])
    func smmUnknown(hflags: String) throws {
        let folder = try #require(Self.naples)
        let text = Self.inserting("rax=0x31010 \(hflags) \(Self.l1Pointers) exit_code=0x4d", after: 104, in: try readText("6.12-naples/l1-vmrun-misaligned.trace"))
        let result = try replay(text: text, source: "smm.trace", folder: folder)
        let exit = try #require(result.exits.first { $0.lines.lowerBound == 104 })
        #expect(result.decidedState(of: exit).inSMM == nil)
        #expect(result.decidedState(of: exit).level?.value == .l1)
    }

    /// vmcb = vmcb01: L1 ran.
    static let l1Pointers = "vmcb=0xffff888001234000 vmcb01=0xffff888001234000"

    @Test("a probe whose exit code or guest mode disagrees with the exit is not attached", arguments: [
        "rax=0x31010 hflags=0x0 vmcb=0xffff888001234000 vmcb01=0xffff888001234000 exit_code=0x80",
        "rax=0x31010 hflags=0x1 vmcb=0xffff888005678000 vmcb01=0xffff888001234000 exit_code=0x4d",
    ])
    func mismatchedProbe(probe: String) throws {
        let folder = try #require(Self.naples)
        let text = Self.inserting(probe, after: 104, in: try readText("6.12-naples/l1-vmrun-misaligned.trace"))
        let result = try replay(text: text, source: "mismatch.trace", folder: folder)
        let exit = try #require(result.exits.first { $0.lines.lowerBound == 104 })
        #expect(result.probeRegisters(of: exit).isEmpty)
        #expect(exit.model.kind == .undetermined)
    }

    @Test("at an L2 exit the probe gives L2's registers, L1's from vmcb01, and vmcb12's DR intercept word")
    func l2Exit() throws {
        let folder = try #require(CaptureHosts.folder("6.12"))
        let original = try readText("6.12/l2-badrax-vmrun.trace")
        // Line 101: L2 executes VMRUN (kvm_exit vmrun, then kvm_nested_vmexit).
        let text = Self.inserting(
            "rax=0x10000000000 hflags=0x1 vmcb=0xffff888005678000 vmcb01=0xffff888001234000 exit_code=0x80 cr0=0x80050033 cr4=0x20 efer=0x1d00 cpl=0x0 rflags=0x2 l1_efer=0x1d00 l1_cr0=0x80050033 l1_cr4=0x20 l1_rflags=0x2 ic_cr=0x0 ic_dr=0x0 ic_exc=0x0 ic_w3=0x0 ic_w4=0x1 ic_w5=0x0",
            after: 101, in: original)
        let result = try replay(text: text, source: "l2.trace", folder: folder)
        let exit = try #require(result.exits.first { $0.lines.lowerBound == 101 })
        #expect(exit.level == .l2)
        let state = result.decidedState(of: exit)
        #expect(state.level?.value == .l2)
        #expect(state.l2.efer?.source == "probe svmdbg/exit_regs line 102 (efer)")
        #expect(state.l1.efer?.source == "probe svmdbg/exit_regs line 102 (l1_efer)")
        #expect(state.vmcb12.intercepts.dr?.source == "probe svmdbg/exit_regs line 102 (ic_dr)")
        // kvm_nested_intercepts stated word 4 already: the event's value is kept.
        #expect(state.vmcb12.intercepts.word4?.source.hasPrefix("kvm_nested_intercepts") == true)
        #expect(exit.verdict.kind == .match)
    }

    @Test("an L1 VMLOAD whose RAX page kvm_vcpu_map cannot map is decided from the vcpu_map probe", arguments: [
        ("ret=-22", false, false), ("ret=0", true, false), ("ret=-22", false, true),
    ])
    func mappedRAX(result: String, backed: Bool, pairedEntry: Bool) throws {
        let folder = try #require(CaptureHosts.folder("6.12"))
        var text = try readText("6.12/l1-vmload-unbacked.trace")
        text = Self.inserting("rax=0x100000000 hflags=0x0 vmcb=0xffff888001234000 vmcb01=0xffff888001234000 exit_code=0x82 efer=0x1d00 cr0=0x80050033 cpl=0x0", after: 67, in: text)
        // The return probe fires inside vmload_vmsave_interception, after exit_regs.
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let probePrefix = String(lines[67][..<(lines[67].range(of: "exit_regs:")?.lowerBound ?? lines[67].startIndex)])
        if pairedEntry {
            // 6.1: an entry probe gives the frame, the return probe only the result.
            lines.insert(probePrefix + "vcpu_map_entry: (kvm_vcpu_map+0x0/0x90 [kvm]) gfn=0x100000", at: 68)
            lines.insert(probePrefix + "vcpu_map: (vmload_vmsave_interception+0x6c/0x1d0 [kvm_amd] <- kvm_vcpu_map [kvm]) " + result, at: 69)
        } else {
            lines.insert(probePrefix + "vcpu_map: (vmload_vmsave_interception+0x6c/0x1d0 [kvm_amd] <- kvm_vcpu_map [kvm]) gfn=0x100000 " + result, at: 68)
        }
        let replayed = try replay(text: lines.joined(separator: "\n"), source: "map.trace", folder: folder)
        let exit = try #require(replayed.exits.first { $0.lines.lowerBound == 67 })
        let state = replayed.decidedState(of: exit)
        #expect(state.assumptions[FactID.raxBacked]?.value == backed)
        #expect(state.assumptions[FactID.raxBacked]?.source.hasPrefix("probe svmdbg/vcpu_map line \(pairedEntry ? 70 : 69)") == true)
        if !backed {
            // The recorded #GP is what the model now predicts by itself.
            #expect(exit.model.kind != .undetermined)
            #expect(exit.verdict.kind == .match)
            #expect(exit.verdict.inferred.isEmpty)
        } else {
            // A mapped page contradicts the recorded #GP: the probe's value is used, not overridden.
            #expect(exit.verdict.kind == .mismatch)
        }
    }

    @Test("an L1 VMRUN that succeeds is decided when the check and CR3-load return probes say they passed")
    func vmrunChecks() throws {
        let folder = try #require(CaptureHosts.folder("6.12"))
        let original = try readText("6.12/l1-vmrun-unbacked.trace")
        let without = try replay(text: original, source: "without.trace", folder: folder)
        #expect(try #require(without.exits.first { $0.lines.lowerBound == 68 }).model.kind == .undetermined)
        var lines = Self.inserting(
            "rax=0x31000 hflags=0x0 vmcb=0xffff888001234000 vmcb01=0xffff888001234000 exit_code=0x80 cr0=0x80050033 efer=0x1d00 cpl=0x0", after: 68, in: original
        ).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let prefix = String(lines[68][..<(lines[68].range(of: "exit_regs:")?.lowerBound ?? lines[68].startIndex)])
        lines.insert(contentsOf: [
            prefix + "vcpu_map: (nested_svm_vmrun+0x6f/0x3b0 [kvm_amd] <- kvm_vcpu_map [kvm]) gfn=0x31 ret=0",
            prefix + "vmcb_check_save: (nested_svm_vmrun+0x1a0/0x3b0 [kvm_amd] <- __nested_vmcb_check_save [kvm_amd]) ret=1",
            prefix + "vmcb_check_controls: (nested_svm_vmrun+0x1b0/0x3b0 [kvm_amd] <- __nested_vmcb_check_controls [kvm_amd]) ret=1",
            prefix + "load_cr3: (enter_svm_guest_mode+0x100/0x300 [kvm_amd] <- nested_svm_load_cr3 [kvm_amd]) ret=0",
        ], at: 69)
        let with = try replay(text: lines.joined(separator: "\n"), source: "with.trace", folder: folder)
        let exit = try #require(with.exits.first { $0.lines.lowerBound == 68 })
        #expect(exit.model.kind == .vmrunSucceeds)
        #expect(exit.verdict.kind == .match)
        #expect(exit.verdict.inferred.isEmpty)
        let facts = with.decidedState(of: exit).assumptions
        #expect(facts[FactID.vmrunCheck("efer-svme")]?.source == "probe svmdbg/vmcb_check_save line 71 (__nested_vmcb_check_save returned 1)")
        #expect(facts[FactID.vmrunCheck("asid")]?.value == true)
        #expect(facts[FactID.vmrunCheck("load-pdptrs")]?.value == true)
    }

    @Test("a failed check proves nothing about which check failed")
    func failedCheck() throws {
        let folder = try #require(CaptureHosts.folder("6.12"))
        var lines = Self.inserting("rax=0x31000 hflags=0x0 vmcb=0xffff888001234000 vmcb01=0xffff888001234000 exit_code=0x80", after: 68, in: try readText("6.12/l1-vmrun-unbacked.trace"))
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let prefix = String(lines[68][..<(lines[68].range(of: "exit_regs:")?.lowerBound ?? lines[68].startIndex)])
        lines.insert(prefix + "vmcb_check_save: (nested_svm_vmrun+0x1a0/0x3b0 [kvm_amd] <- __nested_vmcb_check_save [kvm_amd]) ret=0", at: 69)
        let result = try replay(text: lines.joined(separator: "\n"), source: "failed.trace", folder: folder)
        let exit = try #require(result.exits.first { $0.lines.lowerBound == 68 })
        #expect(result.decidedState(of: exit).assumptions.keys.allSatisfy { !$0.description.hasPrefix("vmrun.check.") })
    }
}
