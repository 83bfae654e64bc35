import NestedSVM
import Testing

@Suite struct VMMCALLRulesTests {
    static func state(vmmcall: Bool, ud: Bool = false) -> VCPUState {
        Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: ud ? 1 << 6 : 0, word4: vmmcall ? 3 : 1)))
    }

    @Test("an L2 VMMCALL L1 intercepts is reflected as hypercall in every profile", arguments: KernelProfile.all)
    func intercepted(profile: KernelProfile) {
        let decision = Fixture.decide(Fixture.exit(.vmmcall), Self.state(vmmcall: true), profile: profile)
        #expect(Expect(decision.outcome) == .reflect(.vmmcall, info1: 0))
    }

    @Test("6.1 livelock: the #UD of an unintercepted L2 VMMCALL is emulated, patched and restarted — even when L1 intercepts #UD",
          arguments: [false, true])
    func livelock(ud: Bool) {
        let decision = Fixture.decide(
            Fixture.exit(.exception(6), bytes: [0x0f, 0x01, 0xd9]), Self.state(vmmcall: false, ud: ud), profile: .v6_1)
        #expect(Expect(decision.outcome) == .l0("x86.c:handle_ud"))
        #expect(decision.outcome.level == .l2)
        #expect(decision.outcome.detail?.contains("forever") == true)
        #expect(decision.ruleIDs == ["svm.level", "svm.exit-special.l0-exception", "svm.ud.emulate", "svm.emulator.intercept"])
    }

    @Test("6.12 and upstream: an unintercepted L2 VMMCALL exits to L0, which queues #UD",
          arguments: [(false, Expect.inject(6, .l2)), (true, .reflect(.exception(6), info1: 0))])
    func injectUD(ud: Bool, expected: Expect) {
        for profile in [KernelProfile.v6_12, .upstream] {
            let decision = Fixture.decide(Fixture.exit(.vmmcall), Self.state(vmmcall: false, ud: ud), profile: profile)
            #expect(Expect(decision.outcome) == expected)
            #expect(decision.ruleIDs.contains("svm.vmmcall.handler"))
        }
    }

    @Test("L1's own VMMCALL is a KVM hypercall")
    func l1Hypercall() {
        #expect(Expect(Fixture.decide(Fixture.exit(.vmmcall), Fixture.l1()).outcome) == .l0("x86.c:kvm_emulate_hypercall"))
    }

    @Test("the emulator re-checks L1's VMMCALL intercept on the #UD path")
    func emulatorIntercept() {
        let decision = Fixture.decide(Fixture.exit(.exception(6), bytes: [0x0f, 0x01, 0xd9]), Self.state(vmmcall: true), profile: .v6_1)
        #expect(Expect(decision.outcome) == .reflect(.vmmcall, info1: 0))
    }
}
