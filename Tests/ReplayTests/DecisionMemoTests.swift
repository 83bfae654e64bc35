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
            var checked = 0
            result.forEachExitState { position, state in
                let exit = result.exits[position]
                let direct = result.decision(for: exit, in: state)
                #expect(direct.outcome == exit.model, "\(capture.file) exit \(exit.index) under \(profile.name)")
                #expect(direct.path.last?.rule == exit.decidingRule, "\(capture.file) exit \(exit.index)")
                checked += 1
            }
            #expect(checked == result.exits.count)
        }
    }

    @Test("a state re-derived from a checkpoint equals the one a walk over the whole trace gives",
          arguments: captures.filter { $0.file.hasPrefix("msr-prot") || $0.file.hasPrefix("nested-npt") })
    func rederivedStatesAgree(capture: Capture) throws {
        let result = try replay(path: capture.path, folder: capture.folder)
        var states: [Int: ReplayState] = [:]
        result.forEachExitState { states[$0] = $1 }
        #expect(states.count == result.exits.count)
        for position in result.exits.indices {
            let single = result.state(at: position)
            let walked = try #require(states[position])
            #expect(single.vcpu == walked.vcpu && single.configuration == walked.configuration, "exit \(position)")
        }
    }

    @Test("states re-derived from checkpoints of a long thread equal a whole walk's, learned facts included",
          arguments: ["6.12/msr-prot.trace", "6.12/nested-npt.trace", "6.12/exceptions.trace"])
    func rederivedFromCheckpoints(file: String) throws {
        // The capture's events eight times over on one thread: well past a checkpoint interval.
        let body = try readText(file).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let text = Array(repeating: body.joined(separator: "\n"), count: 8).joined(separator: "\n") + "\n"
        let folder = try #require(CaptureHosts.folder("6.12"))
        let result = try replay(text: text, source: "repeated", folder: folder)
        #expect(result.exits.count > 2 * Walk.checkpointInterval)
        #expect(!result.checkpoints.isEmpty)
        var states: [Int: ReplayState] = [:]
        result.forEachExitState { states[$0] = $1 }
        #expect(states.count == result.exits.count)
        for position in result.exits.indices {
            let single = result.state(at: position)
            let walked = try #require(states[position])
            #expect(single.vcpu == walked.vcpu && single.configuration == walked.configuration, "exit \(position)")
            #expect(result.exits.configuration(at: position) == single.configuration, "exit \(position)")
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
