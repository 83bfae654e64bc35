import NestedSVM
import Testing

/// SVM instructions reaching the emulator after an NPF L0 keeps (`emulate.c` `group7_rm3`).
@Suite struct EmulatorRulesTests {
    static func npf(_ bytes: [UInt8], rax: UInt64? = 0x31000) -> Event {
        .hardwareExit(HardwareExit(exitCode: .npf, exitInfo1: 0x1_0000_0004, exitInfo2: 0x31000, instructionBytes: bytes, rax: rax.map(Fixture.known)))
    }

    static func state(word4: UInt32) -> VCPUState {
        Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: word4), nestedPaging: Fixture.known(false)))
    }

    static func emulated(_ decision: Decision) -> Outcome? {
        decision.outcome.alternatives?.first { $0.condition == "L0 emulates the instruction" }?.outcome
    }

    @Test("6.x check_svme_pa: RAX bits 63:48 → #GP, else the L1 intercept decides, else emulation fails with #UD",
          arguments: [
            (UInt64(1) << 48, UInt32(1 | 1 << 2), Expect.inject(13, .l2)),
            (0x31000, 1 | 1 << 2, .reflect(.vmload, info1: 0x1_0000_0004)),
            (0x31000, 1, .inject(6, .l2)),
            (UInt64(1) << 40, 1, .inject(6, .l2)),  // below bit 48: the fixed mask lets it through
          ])
    func checkSVMEPA(rax: UInt64, word4: UInt32, expected: Expect) throws {
        let decision = Fixture.decide(Self.npf([0x0f, 0x01, 0xda], rax: rax), Self.state(word4: word4))
        #expect(decision.ruleIDs.last == "svm.npf.emulation")
        let outcome = try #require(Self.emulated(decision))
        #expect(Expect(outcome) == expected)
    }

    @Test("upstream: the emulator's RAX check is unverified, so it stays open")
    func upstreamUnverified() throws {
        let decision = Fixture.decide(Self.npf([0x0f, 0x01, 0xda]), Self.state(word4: 1), profile: .upstream)
        #expect(decision.outcome.missing?.contains("the emulator's RAX check in kvm-x86 c85aaff2 (unverified)") == true)
    }

    @Test("STGI uses check_svme only: EFER.SVME clear → #UD")
    func checkSVME() throws {
        var state = Self.state(word4: 1)
        state.l2.efer = Fixture.known(0x500)
        let decision = Fixture.decide(Self.npf([0x0f, 0x01, 0xdc]), state)
        #expect(Expect(try #require(Self.emulated(decision))) == .inject(6, .l2))
    }

    @Test("an NPF on an ordinary instruction is just fixed by L0")
    func ordinary() {
        let decision = Fixture.decide(Self.npf([0x48, 0x8b, 0x00]), Self.state(word4: 1))
        #expect(Expect(decision.outcome) == .l0("mmu/mmu.c:kvm_mmu_page_fault"))
    }
}
