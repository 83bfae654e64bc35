import NestedSVM
@testable import Replay
import TestSupport
import Testing
import TraceKit

/// The replay keeps the states of mismatching exits (``Walk/keptStates``) so that reports
/// show their decision paths without walking the trace again; each kept state must be the
/// one a walk over the whole trace re-derives, sources included.
@Suite struct KeptStatesTests {
    @Test("every kept mismatch state equals the re-derived one, and decisions from it are the same")
    func keptEqualsRederived() throws {
        var kept = 0
        // The 6.12 captures under the 6.1 profile have real mismatches (docs/performance.md).
        for capture in Capture.all(forms: ["trace"]) where capture.folder.name == "6.12" {
            let trace = try TraceLoader.load(path: capture.path)
            let result = replay(trace: trace, folder: capture.folder, profile: .v6_1)
            let mismatches = Set(result.mismatches.map(\.index))
            #expect(result.keptStates.count == mismatches.count, "\(capture.file)")
            result.forEachExitState { position, state in
                let first = result.exits.firstEvent(at: position)
                guard let held = result.keptStates[first] else {
                    #expect(!mismatches.contains(position), "\(capture.file) exit \(position): mismatch without a kept state")
                    return
                }
                kept += 1
                #expect(held.vcpu == state.vcpu && held.configuration == state.configuration, "\(capture.file) exit \(position)")
                #expect(held.vmcb12Address == state.vmcb12Address && held.nestedRIP == state.nestedRIP)
                let exit = result.exits[position]
                #expect(result.decision(for: exit) == result.decision(for: exit, in: state), "\(capture.file) exit \(position)")
            }
        }
        #expect(kept > 0)
    }
}
