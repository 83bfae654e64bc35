import NestedSVM
import Testing

@Suite struct CRAndDRRulesTests {
    static func state(cr: UInt32 = 0, word3: UInt32 = 0x0100_0000, dr: UInt32? = nil) -> VCPUState {
        Fixture.l2(VMCB12(intercepts: Fixture.intercepts(cr: cr, word3: word3, dr: dr)))
    }

    @Test("CR reads and writes reflect iff L1's word-0 bit equals the exit code",
          arguments: [
            (VMExitCode.writeCR0, UInt32(1 << 16), true), (VMExitCode.readCR3, UInt32(1 << 3), true),
            (VMExitCode.readCR4, UInt32(1 << 3), false), (VMExitCode.writeCR4, UInt32(1 << 20), true),
            (VMExitCode.readCR0, UInt32(1 << 16), false),
          ])
    func crBits(code: VMExitCode, cr: UInt32, reflected: Bool) {
        let decision = Fixture.decide(Fixture.exit(code), Self.state(cr: cr))
        #expect((decision.outcome.kind == .reflectToL1) == reflected)
        #expect(decision.ruleIDs.contains("svm.intercept.cr"))
        if !reflected { #expect(decision.outcome.kind == .emulate) }  // no decode assists: info1 bit 63 clear
    }

    @Test("with decode assists (info1 bit 63) L0 performs the MOV CR itself")
    func decodeAssist() {
        let decision = Fixture.decide(Fixture.exit(.writeCR3, info1: 1 << 63), Self.state())
        #expect(Expect(decision.outcome) == .l0("svm/svm.c:cr_interception"))
        // A CR4 write of an unknown value may be rejected by kvm_set_cr4 (#GP): a fork.
        let cr4 = Fixture.decide(Fixture.exit(.writeCR4, info1: 1 << 63), Self.state())
        #expect(cr4.outcome.alternatives?.map { Expect($0.outcome) }.contains(.l0("svm/svm.c:cr_interception")) == true)
    }

    @Test("selective CR0 exit (0x65) reflects by bit 101; a CR0 write reflects only by bit 16")
    func selectiveVersusWrite() {
        let selective = Fixture.decide(Fixture.exit(.cr0SelectiveWrite), Self.state(word3: 0x0100_0020))
        #expect(Expect(selective.outcome) == .reflect(.cr0SelectiveWrite, info1: 0))
        #expect(selective.ruleIDs.last == "svm.intercept.bit")
        let write = Fixture.decide(Fixture.exit(.writeCR0), Self.state(cr: 1 << 16, word3: 0x0100_0020))
        #expect(Expect(write.outcome) == .reflect(.writeCR0, info1: 0))
        let notSelective = Fixture.decide(Fixture.exit(.cr0SelectiveWrite), Self.state(cr: 1 << 16))
        #expect(notSelective.outcome.kind == .l0Handles || notSelective.outcome.kind == .emulate)
    }

    @Test("a CR0 write L1 does not intercept while it has the selective intercept depends on the written bits")
    func selectiveRewrite() {
        let decision = Fixture.decide(Fixture.exit(.writeCR0), Self.state(word3: 0x0100_0020))
        #expect(decision.ruleIDs.contains("svm.cr.selective-cr0"))
        #expect(decision.outcome.missing == ["new CR0 value"])
        #expect(decision.outcome.alternatives?.map { Expect($0.outcome) } == [.reflect(.cr0SelectiveWrite, info1: 0), .emulate])
        let noSelective = Fixture.decide(Fixture.exit(.writeCR0), Self.state())
        #expect(Expect(noSelective.outcome) == .emulate)
    }

    @Test("DR exits: the DR word is never traced, so an unknown word leaves them undetermined")
    func drUnknown() {
        let decision = Fixture.decide(Fixture.exit(.writeDR0 + 7), Self.state())
        #expect(decision.outcome.kind == .undetermined)
        #expect(decision.outcome.missing == ["vmcb12 intercept dr_write bit 7"])
        let known = Fixture.decide(Fixture.exit(.writeDR0 + 7), Self.state(dr: 1 << 23))
        #expect(Expect(known.outcome) == .reflect(VMExitCode(0x37), info1: 0))
        let clear = Fixture.decide(Fixture.exit(VMExitCode(0x27)), Self.state(dr: 0))
        #expect(Expect(clear.outcome) == .l0("svm/svm.c:dr_interception"))
    }
}

extension VMExitCode {
    static func + (lhs: VMExitCode, rhs: UInt32) -> VMExitCode { VMExitCode(lhs.rawValue + rhs) }
}

/// The selective-CR0 cases of kvm-unit-tests `x86/svm_tests.c` (`__test_cr0_write_bit`),
/// for the path where L0 sees the CR0 write (it intercepts CR0 writes, e.g. without NPT).
@Suite struct KVMUnitTestsSelectiveCR0Tests {
    static let oldCR0: UInt64 = 0x8001_0031  // MP and CD clear, as prepare_sel_cr0_intercept leaves them

    @Test("MOV to CR0 setting CD is rewritten to cr0_sel_write; setting only MP is not",
          arguments: [(UInt64(1 << 30), true), (1 << 1, false), (1 << 3, false), (0, false)])
    func selective(bit: UInt64, intercepted: Bool) {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 0x0100_0020)))
        state.l2.cr0 = Fixture.known(Self.oldCR0)
        let exit = HardwareExit(exitCode: .writeCR0, writtenValue: Fixture.known(Self.oldCR0 | bit))
        let decision = Fixture.decide(.hardwareExit(exit), state)
        #expect((Expect(decision.outcome) == .reflect(.cr0SelectiveWrite, info1: 0)) == intercepted)
        if !intercepted { #expect(decision.outcome.kind == .emulate) }
    }

    @Test("with both the CR0-write and the selective intercept, the CR0 write itself is reflected")
    func nonSelectiveWins() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(cr: 1 << 16, word3: 0x0100_0020)))
        let exit = HardwareExit(exitCode: .writeCR0, writtenValue: Fixture.known(Self.oldCR0 | 1 << 30))
        #expect(Expect(Fixture.decide(.hardwareExit(exit), state).outcome) == .reflect(.writeCR0, info1: 0))
    }
}
