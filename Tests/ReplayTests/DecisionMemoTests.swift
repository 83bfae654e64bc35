import NestedSVM
@testable import Replay
import TestSupport
import Testing
import TraceKit

/// Replay runs the model once per distinct (event, state) values and reuses the outcome for
/// later exits with the same values (``DecisionMemo``); the memoised outcome must be the one
/// the model gives for each exit's own inputs, sources and RIP included.
@Suite struct DecisionMemoTests {
    static let captures = Capture.all(forms: ["trace"])

    @Test("every exit's memoised outcome and deciding rule equal a direct decision, under both profiles",
          arguments: captures)
    func memoisedEqualsDirect(capture: Capture) throws {
        let trace = try TraceLoader.load(path: capture.path)
        for profile in [KernelProfile.v6_1, .v6_12] {
            let result = replay(trace: trace, folder: capture.folder, profile: profile)
            for exit in result.exits {
                let direct = result.decision(for: exit)
                #expect(direct.outcome == exit.model, "\(capture.file) exit \(exit.index) under \(profile.name)")
                #expect(direct.path.last?.rule == exit.decidingRule, "\(capture.file) exit \(exit.index)")
            }
        }
    }

    @Test("keys ignore sources and the RIP but not values")
    func keysCompareValues() {
        var state = VCPUState()
        state.l1.efer = Known(0x1d01, source: "kvm_msr line 3")
        var other = state
        other.l1.efer = Known(0x1d01, source: "kvm_msr line 90")
        let exit = HardwareExit(exitCode: VMExitCode(rawValue: 0x7c), exitInfo1: 1, rip: 0x1000)
        var moved = exit
        moved.rip = 0x2000
        #expect(DecisionKey(event: .hardwareExit(exit), state: state) == DecisionKey(event: .hardwareExit(moved), state: other))
        other.l1.efer = Known(0x501, source: "kvm_msr line 90")
        #expect(DecisionKey(event: .hardwareExit(exit), state: state) != DecisionKey(event: .hardwareExit(exit), state: other))
    }
}
