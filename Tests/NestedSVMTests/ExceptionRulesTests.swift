import NestedSVM
import Testing

@Suite struct ExceptionRulesTests {
    static func state(exceptions: UInt32) -> VCPUState { Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: exceptions))) }

    @Test("L0's exception bitmap follows the host: #PF only with shadow paging, #GP only under the erratum intercept",
          arguments: [
            (UInt8(14), true, false), (14, false, true), (6, true, true), (18, true, true), (17, true, true), (1, true, true),
            (13, true, false), (0, true, false), (3, true, false),
          ])
    func l0Bitmap(vector: UInt8, npt: Bool, l0Keeps: Bool) {
        var host = Fixture.addrChkHost
        host.npt = Fixture.known(npt)
        let decision = Fixture.decide(Fixture.exit(.exception(vector), bytes: [0x0f, 0x0b]), Self.state(exceptions: 1 << UInt32(vector)), host: host)
        let step = decision.path.first { $0.rule == "svm.exit-special.l0-exception" }
        #expect(step?.answer == .from(l0Keeps), "vector \(vector)")
        if !l0Keeps { #expect(Expect(decision.outcome) == .reflect(.exception(vector), info1: 0)) }
    }

    @Test("#GP is L0's on a host without SVME_ADDR_CHK; unknown when the host is unknown")
    func gpErratum() {
        let naples = Fixture.decide(Fixture.exit(.exception(13), bytes: [0x48, 0x8b, 0x00]), Self.state(exceptions: 1 << 13), host: Fixture.naplesHost)
        #expect(naples.ruleIDs.contains("svm.gp.decode"))
        #expect(Expect(naples.outcome) == .reflect(.exception(13), info1: 0))  // naples/exceptions.trace: decode, then GP excp
        let unknown = Fixture.decide(Fixture.exit(.exception(13)), Self.state(exceptions: 1 << 13), host: HostFacts())
        #expect(unknown.outcome.kind == .undetermined)
    }

    @Test("L2 UD2: L0 decodes, re-queues #UD; reflected if L1 intercepts #UD, else injected into L2",
          arguments: [(UInt32(1 << 6), Expect.reflect(.exception(6), info1: 0)), (0, .inject(6, .l2))])
    func ud2(exceptions: UInt32, expected: Expect) {
        let decision = Fixture.decide(Fixture.exit(.exception(6), bytes: [0x0f, 0x0b]), Self.state(exceptions: exceptions))
        #expect(Expect(decision.outcome) == expected)
        #expect(decision.ruleIDs == ["svm.level", "svm.exit-special.l0-exception", "svm.ud.emulate", "svm.pending.exception"])
    }

    @Test("#DB not debugged by the VMM: L0's own NMI-window single-step swallows it (db_interception), else #DB is queued")
    func dbNMISingleStep() {
        var host = Fixture.addrChkHost
        host.guestDebug = Fixture.known(false)
        let state = Self.state(exceptions: 0)
        let unknown = Fixture.decide(Fixture.exit(.exception(1)), state, host: host)
        #expect(unknown.outcome.alternatives?.map { Expect($0.outcome) } == [.l0("svm/svm.c:db_interception"), .inject(1, .l2)])
        var stepping = state
        stepping.assumptions[FactID.nmiSingleStep] = Fixture.known(true)
        #expect(Expect(Fixture.decide(Fixture.exit(.exception(1)), stepping, host: host).outcome) == .l0("svm/svm.c:db_interception"))
        var guest = state
        guest.assumptions[FactID.nmiSingleStep] = Fixture.known(false)
        #expect(Expect(Fixture.decide(Fixture.exit(.exception(1)), guest, host: host).outcome) == .inject(1, .l2))
        // KVM_GUESTDBG_SINGLESTEP or USE_HW_BP: KVM_EXIT_DEBUG whatever nmi_singlestep says.
        host.guestDebug = Fixture.known(true)
        #expect(Fixture.decide(Fixture.exit(.exception(1)), stepping, host: host).outcome.kind == .userspaceExit)
    }

    @Test("#UD with unknown instruction bytes lists VMMCALL patching and re-queueing")
    func udUnknownBytes() {
        let decision = Fixture.decide(Fixture.exit(.exception(6)), Self.state(exceptions: 0), profile: .v6_1)
        #expect(decision.outcome.alternatives?.map { Expect($0.outcome) } == [.l0("x86.c:handle_ud"), .inject(6, .l2)])
        // 6.12 keeps vmcb02's VMMCALL intercept: an L2 VMMCALL exits as hypercall, never #UD.
        let v612 = Fixture.decide(Fixture.exit(.exception(6)), Self.state(exceptions: 0), profile: .v6_12)
        #expect(v612.outcome.alternatives?.map { Expect($0.outcome) } == [.noExit, .inject(6, .l2)])
    }

    @Test("#AC is re-queued with error code 0; #MC stays with L0; #BP exits to userspace")
    func otherVectors() {
        #expect(Expect(Fixture.decide(Fixture.exit(.exception(17)), Self.state(exceptions: 1 << 17)).outcome) == .reflect(.exception(17), info1: 0))
        #expect(Expect(Fixture.decide(Fixture.exit(.exception(18)), Self.state(exceptions: 0)).outcome) == .l0("svm/svm.c:mc_interception"))
        var debugging = Fixture.addrChkHost
        debugging.guestDebug = Fixture.known(true)
        #expect(Expect(Fixture.decide(Fixture.exit(.exception(3)), Self.state(exceptions: 0), host: debugging).outcome) == .userspace)
        var noStep = Self.state(exceptions: 1 << 1)
        noStep.assumptions[FactID.nmiSingleStep] = Fixture.known(false)
        #expect(Expect(Fixture.decide(Fixture.exit(.exception(1)), noStep).outcome) == .reflect(.exception(1), info1: 0))
    }

    @Test("#PF with shadow paging depends on L0's shadow MMU")
    func shadowPF() {
        var host = Fixture.addrChkHost
        host.npt = Fixture.known(false)
        let decision = Fixture.decide(Fixture.exit(.exception(14), info1: 2, info2: 0x1000), Self.state(exceptions: 1 << 14), host: host)
        #expect(decision.outcome.alternatives?.map { Expect($0.outcome) } == [.l0("mmu/mmu.c:kvm_handle_page_fault"), .reflect(.exception(14), info1: 2)])
    }

    @Test("pending events before L2 entry become #VMEXITs only when L1 intercepts them",
          arguments: [
            (PendingEvent.initSignal, InterceptBit.initSignal, VMExitCode.initSignal),
            (.smi, InterceptBit.smi, .smi), (.nmi, InterceptBit.nmi, .nmi), (.interrupt, InterceptBit.intr, .intr),
            (.tripleFault, InterceptBit.shutdown, .shutdown),
          ])
    func pending(event: PendingEvent, bit: Int, code: VMExitCode) {
        var on = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 1 << UInt32(bit - 96))))
        var off = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 0)))
        // An interrupt is blocked by RFLAGS.IF (svm_interrupt_blocked); let it through here.
        on.l1.interruptsEnabled = Fixture.known(true)
        on.l2.interruptsEnabled = Fixture.known(true)
        off.l1.interruptsEnabled = Fixture.known(true)
        off.l2.interruptsEnabled = Fixture.known(true)
        #expect(Expect(Fixture.decide(.pending(event), on).outcome) == .reflect(code, info1: 0))
        #expect(Fixture.decide(.pending(event), off).outcome.kind != .reflectToL1)
    }

    @Test("a pending exception with an error code reflects it in exit_info_1; without one info1 is stale (unknown)")
    func pendingException() {
        let gp = Fixture.decide(.pending(.exception(vector: 13, errorCode: 0x10)), Self.state(exceptions: 1 << 13))
        #expect(Expect(gp.outcome) == .reflect(.exception(13), info1: 0x10))
        let ud = Fixture.decide(.pending(.exception(vector: 6, errorCode: nil)), Self.state(exceptions: 1 << 6))
        #expect(Expect(ud.outcome) == .reflect(.exception(6), info1: nil))
    }

    @Test("physical interrupts, NMIs and NPFs are L0's first")
    func exitSpecial() {
        #expect(Expect(Fixture.decide(Fixture.exit(.intr), Fixture.l2()).outcome) == .l0("svm/svm.c:intr_interception"))
        #expect(Expect(Fixture.decide(Fixture.exit(.nmi), Fixture.l2()).outcome) == .l0("svm/svm.c:nmi_interception"))
        let npf = Fixture.decide(Fixture.exit(.npf, info1: 0x1_0000_0004, info2: 0x4f000), Fixture.l2(VMCB12(intercepts: Fixture.intercepts(), nestedPaging: Fixture.known(false))))
        #expect(Expect(npf.outcome) == .l0("mmu/mmu.c:kvm_mmu_page_fault"))
        #expect(npf.ruleIDs == ["svm.level", "svm.exit-special.npf", "svm.npf.nested-paging"])
    }

    @Test("an NPF with nested paging reflects iff the walk of L1's NPT faults; unknown otherwise")
    func nestedNPF() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(), nestedPaging: Fixture.known(true)))
        var exit = HardwareExit(exitCode: .npf, exitInfo1: 0x1_0000_0006, exitInfo2: 0x4fff8)
        let unknown = Fixture.decide(.hardwareExit(exit), state)
        #expect(unknown.outcome.kind == .undetermined)
        exit.l1NPTWalkFaults = Fixture.known(true)
        let reflected = Fixture.decide(.hardwareExit(exit), state)
        #expect(reflected.outcome.kind == .reflectToL1 && reflected.outcome.exitCode == .npf && reflected.outcome.exitInfo2 == 0x4fff8)
        #expect(reflected.outcome.exitInfo1 == nil)  // bits 31:0 come from KVM's walk
    }
}

@Suite struct InFlightEventTests {
    @Test("an exit during event delivery records the in-flight event (6.12/exceptions: #GP being delivered, intr_info 0x80000b0d)")
    func inFlight() {
        let exit = HardwareExit(exitCode: .npf, exitInfo1: 0x1_0000_0006, exitInfo2: 0x4f000, exitIntInfo: 0x8000_0b0d, exitIntInfoErr: 0)
        let decision = Fixture.decide(.hardwareExit(exit), Fixture.l2(VMCB12(intercepts: Fixture.intercepts(), nestedPaging: Fixture.known(false))))
        #expect(decision.ruleIDs.prefix(2) == ["svm.level", "svm.exit-int-info.in-flight"])
        #expect(decision.path[1].answer == "yes: exception #GP (0x0)")
        let stale = HardwareExit(exitCode: .npf, exitIntInfo: 0x0000_0b0d)  // valid bit clear: nothing in flight
        #expect(!Fixture.decide(.hardwareExit(stale), Fixture.l2()).ruleIDs.contains("svm.exit-int-info.in-flight"))
    }
}

@Suite struct PendingWhileL1RunsTests {
    @Test("events pending while L1 runs go to L1, never through L1's intercepts")
    func l1() {
        let state = Fixture.l1(VMCB12(intercepts: Fixture.intercepts(exceptions: 1 << 13, word3: 0xf)))
        #expect(Expect(Fixture.decide(.pending(.exception(vector: 13, errorCode: 0)), state).outcome) == .inject(13, .l1))
        #expect(Expect(Fixture.decide(.pending(.interrupt), state).outcome) == .interrupt(.l1))
        #expect(Expect(Fixture.decide(.pending(.nmi), state).outcome) == .nmi(.l1))
    }
}

/// `svm/svm.c:svm_interrupt_blocked` in guest mode: with V_INTR_MASKING the interrupt is L1's
/// and vmcb01's RFLAGS.IF blocks it; without, L2's RFLAGS.IF does. Before issue 15 the model
/// reflected or injected regardless.
@Suite struct InterruptBlockingTests {
    @Test("which IF blocks a pending interrupt", arguments: [
        (true, false, true, "none"), (true, true, false, "L1"), (false, true, false, "none"), (false, false, true, "L1"),
    ])
    func blocking(masking: Bool, l1IF: Bool, l2IF: Bool, expected: String) {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 1), intCtl: Fixture.known(masking ? 0x0100_0000 : 0)))
        state.l1.interruptsEnabled = Fixture.known(l1IF)
        state.l2.interruptsEnabled = Fixture.known(l2IF)
        let outcome = Fixture.decide(.pending(.interrupt), state).outcome
        #expect(Expect(outcome) == (expected == "L1" ? .reflect(.intr, info1: 0) : .noExit))
    }

    @Test("an unblocked interrupt L1 does not intercept is injected into L2")
    func injected() {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 0), intCtl: Fixture.known(0)))
        state.l2.interruptsEnabled = Fixture.known(true)
        // svm_interrupt_blocked: without L1's INTR intercept an interrupt shadow also blocks it.
        state.assumptions[FactID.interruptShadow] = Fixture.known(false)
        #expect(Expect(Fixture.decide(.pending(.interrupt), state).outcome) == .interrupt(.l2))
        state.assumptions[FactID.interruptShadow] = Fixture.known(true)
        #expect(Expect(Fixture.decide(.pending(.interrupt), state).outcome) == .noExit)
    }
}
