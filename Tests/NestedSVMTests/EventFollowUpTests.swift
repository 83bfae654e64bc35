import Foundation
import NestedSVM
import Testing

/// Follow-up events (`Outcome.then`): the single-step #DB after a VMRUN L1 executed with
/// RFLAGS.TF (`svm/nested.c:nested_svm_vmexit`, `x86.c:kvm_skip_emulated_instruction`).
@Suite struct SingleStepFollowUpTests {
    static func withTF(_ state: VCPUState, _ tf: Bool) -> VCPUState {
        var copy = state
        copy.assumptions[FactID.l1RFLAGSTF] = Fixture.known(tf)
        return copy
    }

    static let vmmcallExit = Fixture.exit(.vmmcall)
    static var l2: VCPUState { Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word4: 0x3))) }

    @Test("a #VMEXIT after a single-stepped VMRUN is followed by #DB in L1; TF clear or unknown: nothing follows")
    func vmexitDB() {
        let stepped = Fixture.decide(Self.vmmcallExit, Self.withTF(Self.l2, true))
        #expect(Expect(stepped.outcome) == .reflect(.vmmcall, info1: 0))
        #expect(stepped.outcome.then?.count == 1)
        #expect(stepped.outcome.then.map { $0.map(Expect.init) } == [.inject(ExceptionVector.debug, .l1)])
        #expect(stepped.path.contains { $0.rule.rawValue == "svm.singlestep.vmexit" })
        #expect(stepped.outcome.description.contains("; then inject #DB into L1"))
        // Negative: TF clear → the same #VMEXIT, nothing follows; the two are different results.
        let clear = Fixture.decide(Self.vmmcallExit, Self.withTF(Self.l2, false))
        #expect(clear.outcome.then == nil)
        #expect(!clear.outcome.sameResult(as: stepped.outcome))
        // Unknown TF: no follow-up predicted and no step.
        let unknown = Fixture.decide(Self.vmmcallExit, Self.l2)
        #expect(unknown.outcome.then == nil)
        #expect(!unknown.path.contains { $0.rule.rawValue.hasPrefix("svm.singlestep") })
    }

    @Test("an exit L0 keeps is no #VMEXIT: no #DB follows even with TF")
    func keptExit() {
        let kept = Fixture.decide(Fixture.exit(.intr), Self.withTF(Self.l2, true))
        #expect(kept.outcome.kind == .l0Handles)
        #expect(kept.outcome.then == nil)
    }

    @Test("a single-stepped VMRUN that enters L2: the #DB is dropped, L2 never sees it; rejected by a check: #DB for L1")
    func vmrun() {
        var valid = Fixture.validVMCB12
        valid.intercepts = Fixture.intercepts(word4: 0x1)
        let state = Self.withTF(Fixture.l1(valid), true)
        let event = Fixture.exit(.vmrun, bytes: [0x0f, 0x01, 0xd8], rax: 0x2000)
        let entered = Fixture.decide(event, state)
        #expect(entered.outcome.kind == .vmrunSucceeds)
        #expect(entered.outcome.then == nil)
        #expect(entered.path.contains { $0.rule.rawValue == "svm.singlestep.vmrun" })
        var bad = valid
        bad.asid = Fixture.known(0)
        let rejected = Fixture.decide(event, Self.withTF(Fixture.l1(bad), true))
        #expect(Expect(rejected.outcome) == .vmrunFails("asid"))
        #expect(rejected.outcome.then.map { $0.map(Expect.init) } == [.inject(ExceptionVector.debug, .l1)])
        #expect(rejected.outcome.then?.first?.handler == "x86.c:kvm_vcpu_do_singlestep")
        // The VMM single-steps the guest: KVM_EXIT_DEBUG instead of the #DB.
        var debugging = Fixture.addrChkHost
        debugging.guestDebug = Fixture.known(true)
        let userspace = Fixture.decide(event, Self.withTF(Fixture.l1(bad), true), host: debugging)
        #expect(userspace.outcome.then.map { $0.map(Expect.init) } == [.userspace])
        // TF clear: nothing follows.
        #expect(Fixture.decide(event, Self.withTF(Fixture.l1(bad), false)).outcome.then == nil)
    }

    @Test("then round-trips through JSON and an expectation compares it")
    func json() throws {
        let outcome = Fixture.decide(Self.vmmcallExit, Self.withTF(Self.l2, true)).outcome
        let data = try JSONEncoder().encode(outcome)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""then":[{"#))
        #expect(try JSONDecoder().decode(Outcome.self, from: data) == outcome)
        let noThen = try JSONEncoder().encode(Fixture.decide(Self.vmmcallExit, Self.l2).outcome)
        #expect(!String(decoding: noThen, as: UTF8.self).contains("then"))

        var expected = ScenarioExpectation(kind: .reflectToL1, exitCode: .vmmcall)
        expected.then = [ScenarioExpectation(kind: .injectException, vector: 1, level: .l1)]
        #expect(expected.differences(from: outcome).isEmpty)
        // Negative: a flipped follow-up (into L2) and an expected "nothing follows" both differ.
        expected.then = [ScenarioExpectation(kind: .injectException, vector: 1, level: .l2)]
        #expect(expected.differences(from: outcome) == ["then[0] level: expected L2, model L1"])
        expected.then = []
        #expect(!expected.differences(from: outcome).isEmpty)
    }

    @Test("a scenario states TF as an assumption and expects the follow-up")
    func scenario() throws {
        let json = #"""
        {"state": {"level": "L2", "vmcb12": {"intercepts": {"cr_read": 0, "cr_write": 0, "excp": 0, "word3": "0x80000000", "word4": 3, "word5": 0}},
                   "assumptions": {"l1.rflags-tf": true}},
         "event": {"type": "exit", "exit_code": "hypercall", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0},
         "expect": {"kind": "reflect_to_l1", "exit_code": "hypercall", "then": [{"kind": "inject_exception", "vector": 1, "level": "L1"}]}}
        """#
        let scenario = try Scenario(json: Data(json.utf8))
        let decision = DecisionModel(profile: .v6_12, host: Fixture.addrChkHost).decision(for: scenario.event, state: scenario.state)
        #expect(scenario.expect?.differences(from: decision.outcome) == [])
        #expect(throws: ScenarioError.self) {
            try Scenario(json: Data(#"{"event": {"type": "pending", "pending": "nmi"}, "expect": {"kind": "no_exit", "then": {"kind": "no_exit"}}}"#.utf8))
        }
    }
}

/// EVENTINJ followed through L2's IDT: delivered into L2, or #NP/#GP → #DF → triple fault.
@Suite struct EventInjectionDeliveryTests {
    static func delivery(_ json: String) throws -> Event {
        let text = "{\"event\": {\"type\": \"event_inj\", " + json + "}}"
        return try Scenario(json: Data(text.utf8)).event
    }

    static func state(exceptions: UInt32 = 0, word3: UInt32 = 0x8000_0000) -> VCPUState {
        Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: exceptions, word3: word3, word4: 0x3)))
    }

    @Test("a working gate: the CPU delivers the event in L2, nothing reaches L0")
    func delivered() throws {
        let de = try Self.delivery(#""event_inj": "0x80000300", "idt": "present""#)
        let decision = Fixture.decide(de, Self.state())
        #expect(Expect(decision.outcome) == .inject(0, .l2))
        #expect(decision.outcome.handler?.hasPrefix("CPU: vmcb02 EVENTINJ") == true)
        #expect(Expect(Fixture.decide(try Self.delivery(#""event_inj": "0x80000220", "idt": "present""#), Self.state()).outcome) == .nmi(.l2))
        #expect(Expect(Fixture.decide(try Self.delivery(#""event_inj": "0x80000030", "idt": "present""#), Self.state()).outcome) == .interrupt(.l2))
        // Even when L1 intercepts #DE: an injected event is not subject to intercepts.
        #expect(Expect(Fixture.decide(de, Self.state(exceptions: 1)).outcome) == .inject(0, .l2))
        // Unknown gate: undetermined, listing delivered / #NP / #GP.
        let unknown = Fixture.decide(try Self.delivery(#""event_inj": "0x80000300", "idt_gates": {"8": "present"}"#), Self.state())
        #expect(unknown.outcome.kind == .undetermined)
    }

    @Test("#DE through a not-present gate, #NP not intercepted: contributory twice → #DF, delivered or exiting")
    func doubleFault() throws {
        let event = try Self.delivery(#""event_inj": "0x80000300", "idt": "not_present", "idt_gates": {"*": "present"}"#)
        let df = Fixture.decide(event, Self.state())
        #expect(Expect(df.outcome) == .inject(8, .l2))
        #expect(df.outcome.errorCode == 0)
        #expect(df.path.contains { $0.rule.rawValue == "svm.eventinj.double-fault" && $0.answer.rawValue == "#DF" })
        // L1 intercepts #DF: the DF excp #VMEXIT.
        #expect(Expect(Fixture.decide(event, Self.state(exceptions: 1 << 8)).outcome) == .reflect(.exception(8), info1: 0))
        // L1 intercepts #NP: the #NP exits first (the intercept precedes the double-fault check).
        #expect(Expect(Fixture.decide(event, Self.state(exceptions: 1 << 11)).outcome) == .reflect(.exception(11), info1: 0x3))
        // A benign event (an interrupt) through a not-present gate: #NP itself is delivered.
        let intr = try Self.delivery(#""event_inj": "0x80000030", "idt": "not_present", "idt_gates": {"*": "present"}"#)
        let np = Fixture.decide(intr, Self.state())
        #expect(Expect(np.outcome) == .inject(11, .l2))
        #expect(np.outcome.errorCode == UInt32(0x30 << 3 | 3))
    }

    @Test("an IDT with no working gate: #GP → #DF → triple fault → SHUTDOWN, reflected or KVM_EXIT_SHUTDOWN")
    func tripleFault() throws {
        let event = try Self.delivery(#""event_inj": "0x80000306", "idt_gates": {"*": "beyond_limit"}"#)
        let intercepted = Fixture.decide(event, Self.state())
        #expect(Expect(intercepted.outcome) == .reflect(.shutdown, info1: 0))
        #expect(intercepted.path.contains { $0.answer.rawValue == "triple fault" })
        let notIntercepted = Fixture.decide(event, Self.state(word3: 0))
        #expect(Expect(notIntercepted.outcome) == .userspace)
        // Negative: with a working #DF gate the chain stops at #DF in L2.
        let dfWorks = try Self.delivery(#""event_inj": "0x80000306", "idt_gates": {"*": "beyond_limit", "8": "present"}"#)
        #expect(Expect(Fixture.decide(dfWorks, Self.state(word3: 0)).outcome) == .inject(8, .l2))
    }

    @Test("the old form (idt alone) keeps its meaning; bad gates are errors")
    func parsing() throws {
        #expect(try Self.delivery(#""event_inj": "0x80000300", "idt": "not_present""#) == .guestException(vector: 11, errorCode: 3))
        #expect(throws: ScenarioError.self) { try Self.delivery(#""event_inj": "0x80000300", "idt": "broken""#) }
        #expect(throws: ScenarioError.self) { try Self.delivery(#""event_inj": "0x80000300", "idt_gates": {"x": "present"}"#) }
        #expect(throws: ScenarioError.self) { try Self.delivery(#""event_inj": "0x80000100", "idt": "present""#) }
        #expect(throws: ScenarioError.self) { try Self.delivery(#""event_inj": "0x80000300""#) }
    }
}
