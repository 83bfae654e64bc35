import Foundation
import NestedSVM
import TestSupport
import Testing

/// Places where the model disagreed with the kernel (issue 15), each read in the kernel
/// source and fixed; every test here failed before the fix.
@Suite struct KernelDivergenceTests {
    static func l2(excp: UInt32 = 0, word3: UInt32 = 0, word4: UInt32 = 0x3) -> VCPUState {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: excp, word3: word3, word4: word4)))
        state.inSMM = Fixture.known(false)
        return state
    }

    /// `svm/svm.c:rsm_interception` emulates RSM; `emulate.c:em_rsm` raises #UD outside SMM,
    /// which `svm_check_nested_events` reflects when L1 intercepts #UD (kvm-unit-tests "rsm").
    @Test("RSM outside SMM raises #UD: reflected as UD excp if L1 intercepts #UD, else injected into L2")
    func rsmOutsideSMM() {
        let rsm = Fixture.exit(VMExitCode(0x73))
        #expect(Expect(Fixture.decide(rsm, Self.l2(excp: 1 << 6)).outcome) == .reflect(.exception(6), info1: 0))
        #expect(Expect(Fixture.decide(rsm, Self.l2()).outcome) == .inject(6, .l2))
        var inSMM = Self.l2()
        inSMM.inSMM = Fixture.known(true)
        #expect(Expect(Fixture.decide(rsm, inSMM).outcome) == .emulate)
    }

    /// kvm-x86 2026, `svm/nested.c:nested_copy_vmcb_control_to_cache`: L1's intercept of an
    /// instruction its CPUID lacks is cleared; vmcb01's intercept makes the exit, L0 raises #UD.
    @Test("upstream ignores L1's RDTSCP intercept when L1's CPUID lacks RDTSCP; 6.12 reflects it")
    func cpuidClearedIntercept() throws {
        var state = Self.l2(excp: 1 << 6, word4: 0x3 | (1 << 7))
        state.guest.features[.rdtscp] = Fixture.known(false)
        let exit = Fixture.exit(.rdtscp)
        #expect(Expect(Fixture.decide(exit, state, profile: .upstream).outcome) == .reflect(.exception(6), info1: 0))
        #expect(Expect(Fixture.decide(exit, state, profile: .v6_12).outcome) == .reflect(.rdtscp, info1: 0))
        state.guest.features[.rdtscp] = Fixture.known(true)
        #expect(Expect(Fixture.decide(exit, state, profile: .upstream).outcome) == .reflect(.rdtscp, info1: 0))
    }

    /// `svm/nested.c:nested_copy_vmcb_control_to_cache` clears bits 11:0 of the bitmap bases
    /// before `nested_svm_check_bitmap_pa`, so its PAGE_ALIGN never rounds up.
    @Test("an MSRPM base with bits 11:0 set is masked, not rounded up")
    func bitmapBaseMasked() {
        var vmcb = Fixture.validVMCB12
        vmcb.msrpmBase = Fixture.known((1 << 40) - 0x2000 + 1)
        var state = Fixture.l1(vmcb)
        state.guest.maxPhysAddr = Fixture.known(40)
        let decision = Fixture.decide(Fixture.exit(.vmrun, rax: 0x31000), state)
        #expect(Expect(decision.outcome) == .vmrunSucceeds)
        vmcb.msrpmBase = Fixture.known((1 << 40) - 0x1000)
        state.vmcb12 = vmcb
        #expect(Expect(Fixture.decide(Fixture.exit(.vmrun, rax: 0x31000), state).outcome) == .vmrunFails("msrpm-base"))
    }

    /// `svm/nested.c:__nested_vmcb_check_controls`: the V_NMI check exists from 6.4 on; a
    /// trace whose VMRUN failed on it cannot come from 6.1.
    @Test("a failure text of a check the profile does not have decides: that kernel would have entered L2")
    func failureMessageDecides() {
        let message = "(control->int_ctl & V_NMI_ENABLE_MASK) && !vmcb12_is_intercept(control, INTERCEPT_NMI)"
        let event = Event.vmrunConsistencyFailure(message: message)
        let on61 = DecisionModel(profile: .v6_1).decision(for: event, state: VCPUState())
        let on612 = DecisionModel(profile: .v6_12).decision(for: event, state: VCPUState())
        #expect(on61.outcome.kind == .vmrunSucceeds)
        #expect(Expect(on612.outcome) == .vmrunFails("vnmi-nmi-intercept"))
    }

    /// An undetermined whose alternatives all give the same outcome is that outcome: a
    /// SHUTDOWN L1 does not intercept ends in KVM_EXIT_SHUTDOWN whichever level ran.
    @Test("a fork whose cases all give the same outcome is that outcome")
    func sameOutcomeCollapses() {
        var state = Self.l2(word3: 0)
        state.level = nil
        let decision = Fixture.decide(Fixture.exit(.shutdown), state)
        #expect(decision.outcome.kind == .userspaceExit)
        #expect(decision.ruleIDs.contains("svm.fact.same-outcome"))
    }

    @Test("an unknown fact id in assumptions is an error, a known one is accepted")
    func unknownAssumption() throws {
        func scenario(_ fact: String) -> Data {
            Data("{\"state\": {\"assumptions\": {\"\(fact)\": true}}, \"event\": {\"type\": \"pending\", \"pending\": \"nmi\"}}".utf8)
        }
        #expect(throws: ScenarioError.self) { try Scenario(json: scenario("rax.legal-pgae")) }
        #expect(throws: ScenarioError.self) { try Scenario(json: scenario("vmcb12.intercept[200]")) }
        for fact in ["rax.legal-page", "vmcb12.intercept[97]", "msrpm[0xc0000080].write", "l0.rejects-msr[0x10]", "iopm[0x3f8-0x3fb].any", "vmrun.check.asid"] {
            #expect(throws: Never.self) { try Scenario(json: scenario(fact)) }
        }
    }

    /// `x86.c:__cr4_reserved_bits`: a CPUID-dependent CR4 bit is legal exactly when the guest's
    /// CPUID has the feature; with the CPUID bit stated the check decides.
    @Test("CR4.PCIDE is valid with guest CPUID PCID and invalid without")
    func cr4FromCPUID() {
        for has in [true, false] {
            var vmcb = Fixture.validVMCB12
            vmcb.cr4 = Fixture.known(0x20 | (1 << 17))
            var state = Fixture.l1(vmcb)
            state.guest.features[.pcid] = Fixture.known(has)
            let outcome = Fixture.decide(Fixture.exit(.vmrun, rax: 0x31000), state).outcome
            #expect(Expect(outcome) == (has ? .vmrunSucceeds : .vmrunFails("cr4-valid")))
        }
    }
}

/// An exception L2's own code raises exits only if vmcb02's exception bitmap (L0's ∪ L1's,
/// `svm/nested.c:recalc_intercepts`) has it; otherwise nothing reaches L0.
@Suite struct GuestExceptionTests {
    @Test("#DE with no intercept: no exit; with L1's intercept: reflected; #UD (always L0's) is re-queued for L2")
    func delivery() {
        let state = Fixture.l2()
        #expect(Expect(Fixture.decide(.guestException(vector: 0, errorCode: nil), state).outcome) == .noExit)
        let l1 = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: 1)))
        #expect(Expect(Fixture.decide(.guestException(vector: 0, errorCode: nil), l1).outcome) == .reflect(.exception(0), info1: 0))
        let ud = Fixture.decide(.guestException(vector: 6, errorCode: nil, instructionBytes: [0x0f, 0x0b]), state)
        #expect(Expect(ud.outcome) == .inject(6, .l2))
    }

    @Test("unknown L1 bit forks on it")
    func unknownBit() {
        var state = Fixture.l2()
        state.vmcb12.intercepts.exceptions = nil
        let decision = Fixture.decide(.guestException(vector: 0, errorCode: nil), state)
        #expect(decision.outcome.alternatives?.map { Expect($0.outcome) } == [.reflect(.exception(0), info1: 0), .noExit])
    }
}

/// `svm/svm.c:svm_check_intercept` (6.1 and 6.12): "LMSW always triggers
/// INTERCEPT_SELECTIVE_CR0", whatever the value; a MOV to CR0 only if a bit other than TS/MP
/// changes. Before issue 15 the model compared values for LMSW too.
@Suite struct LMSWSelectiveTests {
    @Test("LMSW that sets only CR0.MP is a selective CR0 write; the same change by MOV is not")
    func lmsw() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 1 << 5)))
        let newCR0: UInt64 = 0x8001_0031 | 0x2
        let lmsw = HardwareExit(exitCode: .writeCR0, instructionBytes: [0x0f, 0x01, 0xf0], writtenValue: Fixture.known(newCR0))
        #expect(Expect(Fixture.decide(.hardwareExit(lmsw), state).outcome) == .reflect(.cr0SelectiveWrite, info1: 0))
        let mov = HardwareExit(exitCode: .writeCR0, instructionBytes: [0x0f, 0x22, 0xc0], writtenValue: Fixture.known(newCR0))
        #expect(Fixture.decide(.hardwareExit(mov), state).outcome.kind != .reflectToL1)
    }
}
