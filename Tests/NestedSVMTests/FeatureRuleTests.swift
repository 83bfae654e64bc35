import Foundation
import NestedSVM
import TestSupport
import Testing

/// Negative tests of the vGIF, pause-filter, MSR-merge / Hyper-V rules: each takes a shipped
/// kvm-tests scenario that matches its KVM test and changes one input (a fact, the host, the
/// profile) that the rule reads; the decision must then differ from the test's expectation.
@Suite struct FeatureRuleTests {
    static func load(_ name: String) throws -> Scenario {
        try Scenario(json: Data(contentsOf: RepositoryPaths.trace("scenarios/kvm-tests/\(name).json")))
    }

    static func decide(_ scenario: Scenario, _ profile: KernelProfile = .v6_12) -> Outcome {
        DecisionModel(profile: profile, host: scenario.host).decision(for: scenario.event, state: scenario.state).outcome
    }

    /// Differences between the scenario's expectation under `expectedFor` and the decision.
    static func differences(_ scenario: Scenario, expectedFor: KernelProfile = .v6_12, decidedBy: KernelProfile = .v6_12) throws -> [String] {
        let expected = try #require(scenario.expectation(for: expectedFor.name))
        return expected.differences(from: decide(scenario, decidedBy))
    }

    static func fact(_ id: String) -> Fact { Fact(id: id)! }

    // MARK: vGIF

    @Test("the shipped vGIF scenarios match; an L1 CLGI intercept turns the no-exit into a reflected CLGI")
    func vgifIntercepted() throws {
        var scenario = try Self.load("vgif-clgi-nested")
        #expect(try Self.differences(scenario).isEmpty)
        scenario.state.vmcb12.intercepts.word4 = Known(0x3 | (1 << 5), source: "test")  // + CLGI (bit 133)
        let outcome = Self.decide(scenario)
        #expect(outcome.kind == .reflectToL1 && outcome.exitCode == .clgi)
        #expect(!(try Self.differences(scenario)).isEmpty)
    }

    @Test("without host vGIF L0 intercepts L2's CLGI: l0_handles, not the vgif test's no_exit")
    func vgifHostOff() throws {
        var scenario = try Self.load("vgif-clgi-nested")
        scenario.host.vgif = Known(false, source: "test")
        let outcome = Self.decide(scenario)
        #expect(outcome.kind == .l0Handles)
        #expect(!(try Self.differences(scenario)).isEmpty)
    }

    @Test("with nested vGIF (V_GIF_ENABLE) L2's CLGI leaves KVM's GIF set: the intercepted interrupt exits")
    func nestedVGIFKeepsGIF() throws {
        var scenario = try Self.load("gif-mix-intr-clgi")
        #expect(try Self.differences(scenario).isEmpty)
        scenario.state.vmcb12.intCtl = Known(1 << 25, source: "test")
        let outcome = Self.decide(scenario)
        #expect(outcome.kind == .reflectToL1 && outcome.exitCode == .intr)
        #expect(!(try Self.differences(scenario)).isEmpty)
    }

    @Test("with host vGIF and GIF clear, an STGI with only an interrupt waiting does not exit; an NMI opens L0's STGI window")
    func stgiWindow() throws {
        var scenario = try Self.load("vgif-stgi-nested")
        scenario.state.vmcb12.intCtl = Known(0, source: "test")
        scenario.state.assumptions[FactID.gif] = Known(false, source: "test")
        scenario.event = .feature(.gifInstruction(isSTGI: true, then: nil))
        // Unknown whether an NMI/SMI waits: undetermined, both branches listed.
        #expect(Self.decide(scenario).kind == .undetermined)
        scenario.state.assumptions[Self.fact("l0.stgi-window")] = Known(true, source: "test")
        #expect(Self.decide(scenario).kind == .l0Handles)
        scenario.state.assumptions[Self.fact("l0.stgi-window")] = Known(false, source: "test")
        #expect(Self.decide(scenario).kind == .noExit)
    }

    // MARK: pause filter

    @Test("pause filter: the profile decides whether L0's PLE window or L1's count applies")
    func pauseProfiles() throws {
        let scenario = try Self.load("pause-filter-l0-window")
        #expect(try Self.differences(scenario, expectedFor: .v6_12, decidedBy: .v6_12).isEmpty)
        #expect(try Self.differences(scenario, expectedFor: .upstream, decidedBy: .upstream).isEmpty)
        #expect(!(try Self.differences(scenario, expectedFor: .v6_12, decidedBy: .upstream)).isEmpty)
        #expect(!(try Self.differences(scenario, expectedFor: .upstream, decidedBy: .v6_1)).isEmpty)
    }

    @Test("pause filter: a wrong host fact, CPUID or gap flips the test's outcome")
    func pauseFacts() throws {
        var reached = try Self.load("pause-filter-count-reached")
        #expect(try Self.differences(reached).isEmpty)
        reached.host.pauseInGuest = Known(false, source: "test")
        reached.host.pauseFilterCount = Known(3000, source: "test")
        reached.host.pauseFilterThresh = Known(128, source: "test")
        #expect(Self.decide(reached).kind == .noExit)

        var notReached = try Self.load("pause-filter-count-not-reached")
        #expect(try Self.differences(notReached).isEmpty)
        notReached.state.guest.features[.pausefilter] = Known(false, source: "test")
        // L1's count is ignored (0) and L1 intercepts PAUSE: the first PAUSE exits.
        #expect(Self.decide(notReached).kind == .reflectToL1)

        var noReset = try Self.load("pause-filter-threshold-no-reset")
        #expect(try Self.differences(noReset).isEmpty)
        guard case .feature(.pauseLoop(var loop)) = noReset.event else { Issue.record("not a pause loop"); return }
        loop.gapCycles = 5000
        noReset.event = .feature(.pauseLoop(loop))
        #expect(Self.decide(noReset).kind == .noExit)
        loop.gapCycles = nil
        loop.burstGapCycles = nil
        noReset.event = .feature(.pauseLoop(loop))
        #expect(Self.decide(noReset).kind == .undetermined)
    }

    @Test("pause filter: without L1's intercept and with PAUSE exits disabled nothing exits; with L0's intercept L0 keeps the exit")
    func pauseL0() throws {
        var scenario = try Self.load("pause-filter-count-reached")
        scenario.state.vmcb12.intercepts.word3 = Known(0x8000_0000, source: "test")  // PAUSE (bit 119) cleared
        #expect(Self.decide(scenario).kind == .noExit)
        scenario.host.pauseInGuest = Known(false, source: "test")
        scenario.host.pauseFilterCount = Known(4, source: "test")
        scenario.host.pauseFilterThresh = Known(0, source: "test")
        // L0's window starts at 4 but grows with every PAUSE exit: 10 PAUSEs may or may not reach it.
        #expect(Self.decide(scenario, .v6_1).kind == .undetermined)
        scenario.state.assumptions[Self.fact("l0.ple-window-reached")] = Known(true, source: "test")
        #expect(Self.decide(scenario, .v6_1).kind == .l0Handles)
        #expect(Self.decide(scenario, .upstream).kind == .noExit)
    }

    // MARK: MSR merge, Hyper-V

    @Test("enlightened MSR bitmap: a forced recalc (or no clean bit) merges L1's new bit and the access exits")
    func emsr() throws {
        var scenario = try Self.load("hv-msr-bitmap-clean-stale")
        #expect(try Self.differences(scenario).isEmpty)
        scenario.state.assumptions[Self.fact("nested.force-msr-bitmap-recalc")] = Known(true, source: "test")
        #expect(Self.decide(scenario).kind == .reflectToL1)
        #expect(!(try Self.differences(scenario)).isEmpty)
        scenario.state.assumptions[Self.fact("nested.force-msr-bitmap-recalc")] = nil
        #expect(Self.decide(scenario).kind == .undetermined)
    }

    @Test("Hyper-V L2 TLB flush: 6.1 reflects the VMMCALL; a disabled enlightenment or another hypercall reaches L1")
    func tlbFlush() throws {
        var scenario = try Self.load("hv-l2-tlb-flush-l0")
        #expect(try Self.differences(scenario).isEmpty)
        #expect(try Self.differences(scenario, expectedFor: .v6_1, decidedBy: .v6_1).isEmpty)
        #expect(!(try Self.differences(scenario, expectedFor: .v6_12, decidedBy: .v6_1)).isEmpty)
        scenario.state.assumptions[Self.fact("l1.hv-direct-hypercall")] = Known(false, source: "test")
        #expect(Self.decide(scenario).kind == .reflectToL1)
        scenario.state.assumptions[Self.fact("l1.hv-direct-hypercall")] = Known(true, source: "test")
        guard case .hardwareExit(var exit) = scenario.event else { Issue.record("not an exit"); return }
        exit.rcx = Known(0x1_0008, source: "test")  // HvCallNotifyLongSpinWait: not a flush
        scenario.event = .hardwareExit(exit)
        #expect(Self.decide(scenario).kind == .reflectToL1)
        let trap = try Self.load("hv-l2-tlb-flush-trap")
        #expect(try Self.differences(trap).isEmpty)
        #expect(Self.decide(trap).exitCode == VMExitCode(0xf000_0000))
    }

    @Test("LBR: L2's DEBUGCTL write reaches L1 only if L1's MSRPM asks")
    func lbrMSR() throws {
        var scenario = try Self.load("lbrv-l2-debugctl-write")
        #expect(try Self.differences(scenario).isEmpty)
        scenario.state.vmcb12.intercepts.word3 = Known(0x8000_0000 | (1 << 28), source: "test")  // + MSR_PROT
        scenario.state.vmcb12.msrpm.entries[0x1d9] = MSRPermissionMap.Entry(write: Known(true, source: "test"))
        #expect(Self.decide(scenario).kind == .reflectToL1)
        #expect(!(try Self.differences(scenario)).isEmpty)
    }

    @Test("LBR MSRs: L1's DEBUGCTL.LBR or nested LBRV decides whether L2's read exits at all")
    func lbrPassThrough() throws {
        var plain = try Self.load("lbrv-test1-lbr-from-passthrough")
        #expect(try Self.differences(plain).isEmpty)
        plain.state.assumptions[Self.fact("l1.debugctl-lbr")] = Known(false, source: "test")
        #expect(Self.decide(plain).kind == .l0Handles)
        #expect(!(try Self.differences(plain)).isEmpty)
        plain.state.assumptions[Self.fact("l1.debugctl-lbr")] = nil
        #expect(Self.decide(plain).kind == .undetermined)

        var nested = try Self.load("lbrv-nested-test2-lbr-from-passthrough")
        #expect(try Self.differences(nested).isEmpty)
        nested.state.guest.features[.lbrv] = Known(false, source: "test")  // LBR_CTL ignored; L1's DEBUGCTL.LBR is clear
        #expect(Self.decide(nested).kind == .l0Handles)
    }

    @Test("scenario parsing: feature events and host keys, with errors naming the path")
    func parsing() throws {
        let bad = #"{"event": {"type": "pause_loop", "bursts": []}}"#
        #expect(throws: ScenarioError.self) { try Scenario(json: Data(bad.utf8)) }
        let typo = #"{"event": {"type": "stgi", "than": "nmi"}}"#
        #expect(throws: ScenarioError.self) { try Scenario(json: Data(typo.utf8)) }
        let ok = try Scenario(json: Data(#"{"host": {"pause_in_guest": 1, "pause_filter_count": 3000}, "event": {"type": "msr_access", "msr": "0xc0000101", "write": 0}}"#.utf8))
        #expect(ok.host.pauseInGuest?.value == true && ok.host.pauseFilterCount?.value == 3000)
        #expect(ok.event == .feature(.msrAccess(MSRAccess(msr: 0xc000_0101, write: false))))
        #expect(Fact(id: "vmcb12.hv-msr-bitmap")?.description == "vmcb12.hv-msr-bitmap")
        var host = try HostFacts(parsing: "pause_in_guest=1,pause_filter_thresh=128")
        #expect(host.pauseFilterThresh?.value == 128)
        host = host.overridden(by: try HostFacts(parsing: "pause_in_guest=0"))
        #expect(host.pauseInGuest?.value == false && host.pauseFilterThresh?.value == 128)
        #expect(throws: HostFacts.ParseError.self) { try HostFacts(parsing: "pause_filter_count=70000") }
    }
}
