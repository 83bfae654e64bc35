import NestedSVM
import Testing

/// An L2 NPF that L0 keeps on a MOV to/from CR is emulated, and the emulator asks
/// `svm/svm.c:svm_check_intercept` about L1's CR intercepts (kvm-unit-tests' "... emulate"
/// variants put the instruction on an MMIO page). Before: the model only mapped the page.
@Suite struct EmulatedCRInterceptTests {
    static func state(cr: UInt32 = 0, word3: UInt32 = 0) -> VCPUState {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(cr: cr, word3: word3), nestedPaging: Fixture.known(false)))
        state.assumptions["l0.emulates-at-npf"] = Fixture.known(true)
        return state
    }

    static func npf(_ bytes: [UInt8]) -> Event {
        Fixture.exit(.npf, info1: 0x1_0000_0014, info2: 0xfee0_0000, bytes: bytes)
    }

    @Test("MOV from CR3 emulated at an MMIO NPF: reflected as read_cr3 when L1 intercepts CR3 reads, else executed")
    func cr3Read() {
        let intercepted = Fixture.decide(Self.npf([0x0f, 0x20, 0xd8]), Self.state(cr: 1 << 3))
        #expect(Expect(intercepted.outcome) == .reflect(.readCR3, info1: 0x1_0000_0014))
        #expect(intercepted.ruleIDs.contains("svm.emulator.cr-intercept"))
        let plain = Fixture.decide(Self.npf([0x0f, 0x20, 0xd8]), Self.state())
        #expect(plain.outcome.kind == .emulate)
        #expect(plain.outcome.level == .l2)
        // Without the emulation fact the NPF forks: L0 maps the page, or emulates.
        var unknown = Self.state(cr: 1 << 3)
        unknown.assumptions = [:]
        let forked = Fixture.decide(Self.npf([0x0f, 0x20, 0xd8]), unknown)
        #expect(forked.outcome.alternatives?.map { Expect($0.outcome) } == [.l0("mmu/mmu.c:kvm_mmu_page_fault"), .reflect(.readCR3, info1: 0x1_0000_0014)])
    }

    @Test("MOV to CR0 emulated: the CR0-write intercept wins, else the selective one when other bits change")
    func cr0Write() {
        let bytes: [UInt8] = [0x0f, 0x22, 0xc0]
        #expect(Expect(Fixture.decide(Self.npf(bytes), Self.state(cr: 1 << 16, word3: 1 << 5)).outcome) == .reflect(VMExitCode(0x10), info1: 0x1_0000_0014))
        var selective = Self.state(word3: 1 << 5)
        selective.assumptions["cr0-write.changes-other-bits"] = Fixture.known(true)
        #expect(Expect(Fixture.decide(Self.npf(bytes), selective).outcome) == .reflect(.cr0SelectiveWrite, info1: 0x1_0000_0014))
        selective.assumptions["cr0-write.changes-other-bits"] = Fixture.known(false)
        #expect(Fixture.decide(Self.npf(bytes), selective).outcome.kind == .emulate)
    }

    @Test("REX.R selects CR8; other instructions are not CR moves")
    func decode() {
        #expect(CRMove(bytes: [0x44, 0x0f, 0x20, 0xc0]) == CRMove(cr: 8, write: false))
        #expect(CRMove(bytes: [0x0f, 0x22, 0xd8]) == CRMove(cr: 3, write: true))
        #expect(CRMove(bytes: [0x0f, 0x01, 0xd8]) == nil)
    }
}
