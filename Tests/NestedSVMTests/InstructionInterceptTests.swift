import NestedSVM
import Testing

@Suite struct InstructionInterceptTests {
    static let bits: [(VMExitCode, String)] = [
        (.cpuid, "x86.c:kvm_emulate_cpuid"), (.hlt, "x86.c:kvm_emulate_halt"), (.invd, "x86.c:kvm_emulate_invd"),
        (.pause, "svm/svm.c:pause_interception"), (.rdpmc, "x86.c:kvm_emulate_rdpmc"), (.wbinvd, "x86.c:kvm_emulate_wbinvd"),
        (.xsetbv, "x86.c:kvm_emulate_xsetbv"), (.monitor, "x86.c:kvm_emulate_monitor"), (.mwait, "x86.c:kvm_emulate_mwait"),
        (.invlpga, "svm/svm.c:invlpga_interception"), (.stgi, "svm/svm.c:stgi_interception"), (.clgi, "svm/svm.c:clgi_interception"),
        (.vintr, "svm/svm.c:interrupt_window_interception"), (.iret, "svm/svm.c:iret_interception"),
    ]

    static func state(bit: Int, set: Bool) -> VCPUState {
        var words = Fixture.intercepts(word3: 0, word4: 1, word5: 0)
        if set {
            if bit < 128 { words.word3 = Fixture.known(1 << UInt32(bit - 96)) } else { words.word4 = Fixture.known(1 | 1 << UInt32(bit - 128)) }
        }
        // No V_INTR_MASKING: vmcb02 keeps L0's VINTR intercept (svm/nested.c:recalc_intercepts).
        return Fixture.l2(VMCB12(intercepts: words, intCtl: Fixture.known(0)))
    }

    @Test("instruction intercepts reflect iff L1's bit = exit code; otherwise L0's handler runs", arguments: bits)
    func intercepts(code: VMExitCode, handler: String) {
        let bit = Int(code.rawValue)
        let reflected = Fixture.decide(Fixture.exit(code), Self.state(bit: bit, set: true))
        #expect(Expect(reflected.outcome) == .reflect(code, info1: 0))
        // A host without vGIF keeps the CLGI intercept in vmcb01 (svm/svm.c:init_vmcb).
        let handled = Fixture.decide(Fixture.exit(code), Self.state(bit: bit, set: false), host: code == .clgi ? Fixture.naplesHost : Fixture.addrChkHost)
        if code == .xsetbv {
            // XSETBV with ECX/EDX:EAX unknown: KVM may reject it (#GP), a fork (x86.c:__kvm_set_xcr).
            #expect(handled.outcome.alternatives?.map { Expect($0.outcome) }.contains(.l0(handler)) == true)
        } else {
            #expect(Expect(handled.outcome) == .l0(handler))
        }
    }

    @Test("an unknown intercept word leaves an instruction exit undetermined")
    func unknownWord() {
        var state = Fixture.l2()
        state.vmcb12.intercepts.word3 = nil
        let decision = Fixture.decide(Fixture.exit(.cpuid), state)
        #expect(decision.outcome.missing == ["vmcb12 intercept CPUID (bit 114)"])
    }

    @Test("RDTSCP and RDPRU that reach L0 raise #UD (kvm_handle_invalid_op); INVPCID depends on guest CPUID")
    func cpuidFeatures() {
        var state = Self.state(bit: 0, set: false)
        state.guest.features[.rdtscp] = Fixture.known(false)
        #expect(Expect(Fixture.decide(Fixture.exit(.rdtscp), state).outcome) == .inject(6, .l2))
        #expect(Expect(Fixture.decide(Fixture.exit(.rdpru), state).outcome) == .inject(6, .l2))
        state.guest.features[.invpcid] = Fixture.known(false)
        #expect(Expect(Fixture.decide(Fixture.exit(.invpcid), state).outcome) == .inject(6, .l2))
        state.guest.features[.invpcid] = Fixture.known(true)
        #expect(Expect(Fixture.decide(Fixture.exit(.invpcid), state).outcome) == .l0("svm/svm.c:invpcid_interception"))
        state.guest.features[.invpcid] = nil
        #expect(Fixture.decide(Fixture.exit(.invpcid), state).outcome.missing == ["guest CPUID invpcid"])
    }

    @Test("SKINIT from L2 that L1 does not intercept raises #UD in L2; SHUTDOWN exits to userspace")
    func skinitAndShutdown() {
        let state = Self.state(bit: 0, set: false)
        let skinit = Fixture.decide(Fixture.exit(.skinit), state)
        #expect(Expect(skinit.outcome) == .inject(6, .l2))
        #expect(skinit.ruleIDs.contains("svm.skinit.ud"))
        #expect(Expect(Fixture.decide(Fixture.exit(.shutdown), state).outcome) == .userspace)
    }

    @Test("VMEXIT_INVALID while L2 runs is always reflected; L1's is a failed entry")
    func invalid() {
        #expect(Expect(Fixture.decide(Fixture.exit(.invalid), Fixture.l2()).outcome) == .reflect(.invalid, info1: 0))
        #expect(Expect(Fixture.decide(Fixture.exit(.invalid), Fixture.l1()).outcome) == .userspace)
    }

    @Test("an exit with no handler in L0 and no L1 bit is an internal error")
    func noHandler() {
        let decision = Fixture.decide(Fixture.exit(VMExitCode(0x66)), Self.state(bit: 0, set: false))
        #expect(Expect(decision.outcome) == .userspace)
        #expect(decision.outcome.handler == "svm/svm.c:svm_handle_invalid_exit")
    }

    @Test("an unknown level forks into the L2 and the L1 outcome")
    func unknownLevel() {
        var state = Fixture.l2()
        state.level = nil
        let decision = Fixture.decide(Fixture.exit(.hlt), state)
        #expect(decision.outcome.missing?.first == "level")
        #expect(decision.outcome.alternatives?.map { Expect($0.outcome) } == [.reflect(.hlt, info1: 0), .l0("x86.c:kvm_emulate_halt")])
    }
}

@Suite struct RecalcInterceptTests {
    static func state(intCtl: UInt32, l1IF: Bool) -> VCPUState {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 0), intCtl: Fixture.known(intCtl)))
        state.l1.interruptsEnabled = Fixture.known(l1IF)
        return state
    }

    static func answer(_ decision: Decision) -> Answer? {
        decision.path.first { $0.rule == "svm.recalc.vmcb02-intercept" }?.answer
    }

    @Test("VINTR with V_INTR_MASKING: 6.1 always drops L0's intercept (no exit), 6.12+ only while L1's IF is clear",
          arguments: [("6.1", true, false), ("6.12", true, true), ("6.12", false, false), ("upstream", true, true)])
    func vintr(profile: String, l1IF: Bool, exits: Bool) throws {
        let decision = Fixture.decide(Fixture.exit(.vintr), Self.state(intCtl: 0x0100_0000, l1IF: l1IF), profile: try namedProfile(profile))
        #expect(Self.answer(decision) == .yes)
        #expect(Expect(decision.outcome) == (exits ? .l0("svm/svm.c:interrupt_window_interception") : .noExit))
        // Without V_INTR_MASKING L0's intercept stays whatever the profile.
        let plain = Fixture.decide(Fixture.exit(.vintr), Self.state(intCtl: 0, l1IF: l1IF), profile: try namedProfile(profile))
        #expect(Expect(plain.outcome) == .l0("svm/svm.c:interrupt_window_interception"))
    }

    @Test("a CR8 write L1 does not intercept cannot exit with V_INTR_MASKING, L0 handles it without; a CR8 read never reaches L0")
    func cr8() {
        let masked = Fixture.decide(Fixture.exit(.writeCR8), Self.state(intCtl: 0x0100_0000, l1IF: false))
        #expect(Expect(masked.outcome) == .noExit)
        let plain = Fixture.decide(Fixture.exit(.writeCR8), Self.state(intCtl: 0, l1IF: false))
        #expect(plain.outcome.kind != .noExit && plain.outcome.kind != .undetermined)
        let read = Fixture.decide(Fixture.exit(.readCR8), Self.state(intCtl: 0, l1IF: false))
        #expect(Expect(read.outcome) == .noExit)
        var unknown = Self.state(intCtl: 0, l1IF: false)
        unknown.vmcb12.intCtl = nil
        let forked = Fixture.decide(Fixture.exit(.writeCR8), unknown)
        #expect(forked.outcome.alternatives?.first.map { Expect($0.outcome) } == .noExit)
        #expect(forked.outcome.alternatives?.first?.assumptions == [FactID.vIntrMasking: true])
    }
}

@Suite struct VLSAndGIFExpectationTests {
    @Test("L2 VMLOAD reaching L0 although VLS is usable is flagged as unexpected")
    func vlsUsable() {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 1), nestedPaging: Fixture.known(true), virtExt: Fixture.known(2)))
        state.guest.features[.vVMSaveVMLoad] = Fixture.known(true)
        let decision = Fixture.decide(Fixture.exit(.vmload, rax: 0x31000), state)
        #expect(decision.path.first { $0.rule == "svm.vmload-vmsave.l2-forced" }?.answer == "no: VLS is usable, L0 should not see this exit")
        // The kernel: vmcb02 lacks the intercept, the CPU runs VMLOAD virtually (no exit).
        #expect(Expect(decision.outcome) == .noExit)
    }

    @Test("with vGIF an L2 CLGI exit cannot happen (no exit); without vGIF L0 emulates it (6.12-naples)")
    func gif() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 1)))
        let vgif = Fixture.decide(Fixture.exit(.clgi), state)
        #expect(vgif.path.first { $0.rule == "svm.recalc.vmcb02-intercept" }?.answer == .yes)
        #expect(Expect(vgif.outcome) == .noExit)
        let naples = Fixture.decide(Fixture.exit(.clgi), state, host: Fixture.naplesHost)
        #expect(naples.path.first { $0.rule == "svm.recalc.vmcb02-intercept" }?.answer == .no)
        #expect(Expect(naples.outcome) == .l0("svm/svm.c:clgi_interception"))
    }
}
