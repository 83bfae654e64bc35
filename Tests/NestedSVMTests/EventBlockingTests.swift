import Foundation
import NestedSVM
import Testing

/// `svm/nested.c:svm_check_nested_events` with `svm/svm.c:svm_{interrupt,nmi,smi}_blocked`
/// (GIF, NMI masking, the interrupt shadow, SMM, the -EBUSY cases) and vmcb12's virtual
/// interrupt / vNMI (`svm/nested.c:nested_vmcb02_prepare_control`). Each case below failed
/// before issue #15's "events" work: the model reflected or injected where KVM does nothing.
@Suite struct EventBlockingTests {
    static let intr: UInt32 = 1, nmi: UInt32 = 2, smi: UInt32 = 4, vintr: UInt32 = 1 << 4

    static func state(word3: UInt32, intCtl: UInt32 = 0, l2IF: Bool = true, facts: [Fact: Bool] = [:]) -> VCPUState {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: word3), intCtl: Fixture.known(intCtl)))
        state.l1.interruptsEnabled = Fixture.known(true)
        state.l2.interruptsEnabled = Fixture.known(l2IF)
        state.inSMM = Fixture.known(false)
        for (id, value) in facts { state.assumptions[id] = Fixture.known(value) }
        return state
    }

    @Test("GIF clear blocks an intercepted interrupt, NMI and SMI (svm_*_blocked): no exit", arguments: [
        (PendingEvent.interrupt, intr), (.nmi, nmi), (.smi, smi),
    ])
    func gifClear(event: PendingEvent, bit: UInt32) {
        let set = Fixture.decide(.pending(event), Self.state(word3: bit, facts: [FactID.gif: true]))
        #expect(set.outcome.kind == .reflectToL1)
        let clear = Fixture.decide(.pending(event), Self.state(word3: bit, facts: [FactID.gif: false]))
        #expect(Expect(clear.outcome) == .noExit)
        #expect(clear.path.contains { $0.rule == Rule.pendingGIF.id })
    }

    @Test("an NMI L1 does not intercept waits while NMIs are masked or in a shadow; an intercepted one exits anyway")
    func nmiMasked() {
        let open = [FactID.nmiMasked: false, FactID.interruptShadow: false]
        #expect(Expect(Fixture.decide(.pending(.nmi), Self.state(word3: 0, facts: open)).outcome) == .nmi(.l2))
        #expect(Expect(Fixture.decide(.pending(.nmi), Self.state(word3: 0, facts: [FactID.nmiMasked: true])).outcome) == .noExit)
        #expect(Expect(Fixture.decide(.pending(.nmi), Self.state(word3: 0, facts: [FactID.nmiMasked: false, FactID.interruptShadow: true])).outcome) == .noExit)
        // svm_nmi_blocked: with L1's NMI intercept nothing but GIF blocks (the #VMEXIT is no injection).
        #expect(Expect(Fixture.decide(.pending(.nmi), Self.state(word3: Self.nmi, facts: [FactID.nmiMasked: true])).outcome) == .reflect(.nmi, info1: 0))
        // Unknown masking: both outcomes listed, never a blind injection.
        #expect(Fixture.decide(.pending(.nmi), Self.state(word3: 0)).outcome.kind == .undetermined)
    }

    @Test("an SMI is blocked in SMM even when L1 intercepts SMI (svm_smi_blocked)")
    func smiInSMM() {
        var state = Self.state(word3: Self.smi)
        #expect(Expect(Fixture.decide(.pending(.smi), state).outcome) == .reflect(.smi, info1: 0))
        state.inSMM = Fixture.known(true)
        #expect(Expect(Fixture.decide(.pending(.smi), state).outcome) == .noExit)
    }

    @Test("-EBUSY: nested_run_pending defers every event, an event awaiting re-injection all but exceptions")
    func busy() {
        let running = Self.state(word3: Self.intr, facts: [FactID.nestedRunPending: true])
        let deferred = Fixture.decide(.pending(.interrupt), running)
        #expect(deferred.outcome.kind == .l0Handles)
        #expect(deferred.outcome.detail?.contains("-EBUSY") == true)
        let exception = Fixture.decide(.pending(.exception(vector: 13, errorCode: 0)), Self.state(word3: 0, facts: [FactID.nestedRunPending: true]))
        #expect(exception.outcome.kind == .l0Handles)
        let reinjecting = [FactID.nestedRunPending: false, FactID.eventNeedsReinjection: true]
        #expect(Fixture.decide(.pending(.interrupt), Self.state(word3: Self.intr, facts: reinjecting)).outcome.kind == .l0Handles)
        #expect(Fixture.decide(.pending(.initSignal), Self.state(word3: 1 << 3, facts: reinjecting)).outcome.kind == .l0Handles)
        // An exception pending with an injected event is its continuation: not blocked.
        var excp = Self.state(word3: 0, facts: reinjecting)
        excp.vmcb12.intercepts.exceptions = Fixture.known(1 << 13)
        #expect(Expect(Fixture.decide(.pending(.exception(vector: 13, errorCode: 0)), excp).outcome) == .reflect(.exception(13), info1: 0))
        // Nothing blocks: decided as before.
        let free = [FactID.nestedRunPending: false, FactID.eventNeedsReinjection: false]
        #expect(Expect(Fixture.decide(.pending(.interrupt), Self.state(word3: Self.intr, facts: free)).outcome) == .reflect(.intr, info1: 0))
    }

    static let vIRQ: UInt32 = 1 << 8, prio15: UInt32 = 0xf << 16, masking: UInt32 = 1 << 24

    @Test("vmcb12's V_IRQ: taken by the CPU in L2 (an injection naming the vector) when IF, shadow and priority allow")
    func virtualInterrupt() {
        let open = [FactID.interruptShadow: false]
        let taken = Fixture.decide(.pending(.virtualInterrupt(vector: 0xf1)), Self.state(word3: 0, intCtl: Self.vIRQ | Self.prio15 | Self.masking, facts: open))
        #expect(taken.outcome.kind == .injectInterrupt)
        #expect(taken.outcome.vector == 0xf1)
        #expect(taken.outcome.level == .l2)
        // L2's IF clear, an interrupt shadow, a priority not above V_TPR, V_IRQ clear: nothing.
        #expect(Expect(Fixture.decide(.pending(.virtualInterrupt(vector: 0xf1)), Self.state(word3: 0, intCtl: Self.vIRQ | Self.prio15, l2IF: false, facts: open)).outcome) == .noExit)
        #expect(Expect(Fixture.decide(.pending(.virtualInterrupt(vector: 0xf1)), Self.state(word3: 0, intCtl: Self.vIRQ | Self.prio15, facts: [FactID.interruptShadow: true])).outcome) == .noExit)
        #expect(Expect(Fixture.decide(.pending(.virtualInterrupt(vector: 0xf1)), Self.state(word3: 0, intCtl: Self.vIRQ | 0xf, facts: open)).outcome) == .noExit)
        #expect(Expect(Fixture.decide(.pending(.virtualInterrupt(vector: 0xf1)), Self.state(word3: 0, intCtl: Self.vIRQ | 0xf | (1 << 20), facts: open)).outcome) == .interrupt(.l2))
        #expect(Expect(Fixture.decide(.pending(.virtualInterrupt(vector: 0xf1)), Self.state(word3: 0, intCtl: Self.prio15, facts: open)).outcome) == .noExit)
        // L1's VINTR intercept: #VMEXIT(VINTR) instead.
        let intercepted = Fixture.decide(.pending(.virtualInterrupt(vector: 0xf1)), Self.state(word3: Self.vintr, intCtl: Self.vIRQ | Self.prio15, facts: open))
        #expect(Expect(intercepted.outcome) == .reflect(.vintr, info1: 0))
    }

    static let vNMIPending: UInt32 = 1 << 11, vNMIBlocking: UInt32 = 1 << 12, vNMIEnable: UInt32 = 1 << 26

    @Test("vmcb12's V_NMI_PENDING: delivered in L2 with nested vNMI (6.12, upstream); ignored by 6.1")
    func virtualNMI() throws {
        let state = Self.state(word3: Self.nmi, intCtl: Self.vNMIEnable | Self.vNMIPending, facts: [FactID.l1VNMI: true])
        for name in ["6.12", "upstream"] {
            let profile = try namedProfile(name)
            #expect(profile.nestedVNMI)
            #expect(Expect(Fixture.decide(.pending(.virtualNMI), state, profile: profile).outcome) == .nmi(.l2))
        }
        let v61 = try namedProfile("6.1")
        #expect(!v61.nestedVNMI)
        #expect(Expect(Fixture.decide(.pending(.virtualNMI), state, profile: v61).outcome) == .noExit)
        let blocked = Self.state(word3: Self.nmi, intCtl: Self.vNMIEnable | Self.vNMIPending | Self.vNMIBlocking, facts: [FactID.l1VNMI: true])
        #expect(Expect(Fixture.decide(.pending(.virtualNMI), blocked).outcome) == .noExit)
        let notUsable = Self.state(word3: Self.nmi, intCtl: Self.vNMIEnable | Self.vNMIPending, facts: [FactID.l1VNMI: false])
        #expect(Expect(Fixture.decide(.pending(.virtualNMI), notUsable).outcome) == .noExit)
    }

    @Test("virtual events parse from a scenario; a vector above 0xff is an error naming the path")
    func parses() throws {
        let irq = try Scenario(json: Data(#"{"event": {"type": "pending", "pending": "v_irq", "vector": 241}}"#.utf8))
        #expect(irq.event == .pending(.virtualInterrupt(vector: 0xf1)))
        let nmi = try Scenario(json: Data(#"{"event": {"type": "pending", "pending": "v_nmi"}}"#.utf8))
        #expect(nmi.event == .pending(.virtualNMI))
        #expect(throws: ScenarioError.self) {
            try Scenario(json: Data(#"{"event": {"type": "pending", "pending": "v_irq", "vector": 256}}"#.utf8))
        }
        let facts = try Scenario(json: Data(#"{"state": {"assumptions": {"vcpu.gif": false, "nested.run-pending": true}}, "event": {"type": "pending", "pending": "nmi"}}"#.utf8))
        #expect(facts.state.assumptions[FactID.gif]?.value == false)
    }
}

/// Several events pending at once (`svm_check_nested_events` order) and INIT without L1's
/// intercept (`lapic.c:kvm_apic_accept_events`).
@Suite struct EventOrderTests {
    typealias S = EventBlockingTests

    @Test("the first event in KVM's order that is not blocked decides")
    func order() {
        let open = [FactID.nmiMasked: false, FactID.interruptShadow: false]
        // NMI (not intercepted) ranks above the intercepted interrupt: the NMI is injected, the interrupt waits.
        let both = Fixture.decide(.pending(.simultaneous([.interrupt, .nmi])), S.state(word3: S.intr, facts: open))
        #expect(Expect(both.outcome) == .nmi(.l2))
        #expect(both.path.first?.rule == Rule.pendingOrder.id)
        // Masked NMIs: the NMI stays pending and the interrupt's #VMEXIT follows.
        let masked = Fixture.decide(.pending(.simultaneous([.nmi, .interrupt])), S.state(word3: S.intr, facts: [FactID.nmiMasked: true]))
        #expect(Expect(masked.outcome) == .reflect(.intr, info1: 0))
        // An SMI in SMM is skipped; an intercepted NMI exits.
        var smm = S.state(word3: S.smi | S.nmi)
        smm.inSMM = Fixture.known(true)
        #expect(Expect(Fixture.decide(.pending(.simultaneous([.nmi, .smi])), smm).outcome) == .reflect(.nmi, info1: 0))
        // Unknown NMI masking: the masked branch goes on with the interrupt.
        let unknown = Fixture.decide(.pending(.simultaneous([.nmi, .interrupt])), S.state(word3: S.intr))
        let outcomes = (unknown.outcome.alternatives ?? []).map { Expect($0.outcome) }
        #expect(outcomes.contains(.reflect(.intr, info1: 0)))
        #expect(outcomes.contains(.nmi(.l2)))
        #expect(!outcomes.contains(.noExit))
    }

    @Test("INIT that L1 does not intercept resets the vCPU out of guest mode; GIF clear or SMM keep it latched")
    func initReset() {
        let reset = Fixture.decide(.pending(.initSignal), S.state(word3: 0))
        #expect(reset.outcome.kind == .l0Handles)
        #expect(reset.outcome.level == .l1)
        #expect(reset.outcome.handler == "lapic.c:kvm_apic_accept_events")
        #expect(Expect(Fixture.decide(.pending(.initSignal), S.state(word3: 0, facts: [FactID.gif: false])).outcome) == .noExit)
        var smm = S.state(word3: 0)
        smm.inSMM = Fixture.known(true)
        #expect(Expect(Fixture.decide(.pending(.initSignal), smm).outcome) == .noExit)
        // Intercepted INIT exits whatever GIF or SMM (svm_check_nested_events checks INIT first).
        #expect(Expect(Fixture.decide(.pending(.initSignal), S.state(word3: 1 << 3, facts: [FactID.gif: false])).outcome) == .reflect(.initSignal, info1: 0))
    }

    @Test("a list of pending events parses in any order")
    func parsesList() throws {
        let scenario = try Scenario(json: Data(#"{"event": {"type": "pending", "pending": ["interrupt", "exception"], "vector": 13, "error_code": 0}}"#.utf8))
        #expect(scenario.event == .pending(.simultaneous([.interrupt, .exception(vector: 13, errorCode: 0)])))
        #expect(throws: ScenarioError.self) {
            try Scenario(json: Data(#"{"event": {"type": "pending", "pending": [1]}}"#.utf8))
        }
    }
}

/// An event L1 injects with EVENTINJ meeting a broken IDT (kvm-unit-tests `exc_inject`).
@Suite struct EventInjectionIDTTests {
    @Test("EVENTINJ through a broken IDT is the fault the CPU raises while delivering it, with an IDT error code")
    func brokenIDT() throws {
        let np = try Scenario(json: Data(#"{"event": {"type": "event_inj", "event_inj": "0x80000300", "idt": "not_present"}}"#.utf8))
        #expect(np.event == .guestException(vector: 11, errorCode: 0x3))
        let soft = try Scenario(json: Data(#"{"event": {"type": "event_inj", "event_inj": "0x80000480", "idt": "beyond_limit"}}"#.utf8))
        #expect(soft.event == .guestException(vector: 13, errorCode: 0x80 << 3 | 2))
        #expect(throws: ScenarioError.self) {
            try Scenario(json: Data(#"{"event": {"type": "event_inj", "event_inj": "0x300", "idt": "not_present"}}"#.utf8))
        }
        // L1 intercepts #NP: reflected with the IDT error code; otherwise the CPU delivers #NP in L2.
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(exceptions: 1 << 11)))
        #expect(Expect(Fixture.decide(np.event, state).outcome) == .reflect(.exception(11), info1: 0x3))
        state.vmcb12.intercepts.exceptions = Fixture.known(0)
        #expect(Expect(Fixture.decide(np.event, state).outcome) == .noExit)
    }
}
