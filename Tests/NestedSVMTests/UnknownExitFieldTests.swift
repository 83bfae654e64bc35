import Foundation
import NestedSVM
import Testing

/// An exit field the source did not state is unknown, not 0 (issue #15): decisions that read
/// it fork or stay undetermined; a reflected exit does not predict it as 0.
@Suite struct UnknownExitFieldTests {
    static func exit(_ code: VMExitCode, unknown: [String]) -> Event {
        var exit = HardwareExit(exitCode: code)
        exit.unknownFields = unknown
        return .hardwareExit(exit)
    }

    @Test("a scenario that omits exit_info_1/2 and exit_int_info marks them unknown")
    func parse() throws {
        let json = #"{"state": {"level": "L2"}, "event": {"type": "exit", "exit_code": "cpuid"}}"#
        let scenario = try Scenario(json: Data(json.utf8))
        guard case .hardwareExit(let exit) = scenario.event else { Issue.record("not an exit"); return }
        #expect(exit.unknownFields == ["exit_info_1", "exit_info_2", "exit_int_info"])
        let stated = try Scenario(json: Data(#"{"state": {"level": "L2"}, "event": {"type": "exit", "exit_code": "cpuid", "exit_info_1": 0, "exit_info_2": 0, "exit_int_info": 0}}"#.utf8))
        guard case .hardwareExit(let full) = stated.event else { Issue.record("not an exit"); return }
        #expect(full.unknownFields == nil)
    }

    @Test("a reflected CPUID exit with unknown infos predicts them unknown, not 0")
    func reflectedInfosUnknown() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 1 << 18)))
        let known = Fixture.decide(Fixture.exit(.cpuid), state)
        #expect(known.outcome.kind == .reflectToL1)
        #expect(known.outcome.exitInfo1 == 0)
        let decision = Fixture.decide(Self.exit(.cpuid, unknown: ["exit_info_1", "exit_info_2"]), state)
        #expect(decision.outcome.kind == .reflectToL1)
        #expect(decision.outcome.exitInfo1 == nil)
        #expect(decision.outcome.exitInfo2 == nil)
        #expect(decision.ruleIDs.last == "svm.exit-info.unknown")
    }

    @Test("an IOIO exit whose exit_info_1 (port, size, direction) is unknown stays undetermined")
    func ioioUnknown() {
        let state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 1 << 27)))
        let decision = Fixture.decide(Self.exit(.ioio, unknown: ["exit_info_1"]), state)
        #expect(decision.outcome.kind == .undetermined)
        #expect(decision.outcome.missing == ["exit_info_1"])
    }

    @Test("an MSR exit with unknown exit_info_1 forks on read/write (L1 sees 1 or 0); an assumption picks one")
    func msrForks() {
        var state = Fixture.l2(VMCB12(intercepts: Fixture.intercepts(word3: 1 << 28)))
        state.vmcb12.msrpm = MSRPermissionMap(otherBits: .init(read: Fixture.known(true), write: Fixture.known(true)))
        var exit = HardwareExit(exitCode: .msr, rcx: Fixture.known(0x10))
        exit.unknownFields = ["exit_info_1"]
        let decision = Fixture.decide(.hardwareExit(exit), state)
        // L1 intercepts every MSR both ways: both branches reflect, with the exit_info_1 the
        // branch assumes (1 for WRMSR, 0 for RDMSR).
        #expect(decision.outcome.kind == .undetermined)
        #expect(decision.outcome.missing == ["exit_info_1"])
        #expect(decision.outcome.alternatives?.map(\.outcome.kind) == [.reflectToL1, .reflectToL1])
        #expect(decision.outcome.alternatives?.map(\.outcome.exitInfo1) == [1, 0])
        state.assumptions[FactID.msrExitIsWrite] = Known(true, source: "test")
        let write = Fixture.decide(.hardwareExit(exit), state)
        #expect(write.outcome.kind == .reflectToL1)
        #expect(write.outcome.exitInfo1 == 1)
    }
}
