import Foundation
import NestedSVM
import Replay
import TestSupport
import Testing
import TraceKit

/// Kernel divergences of the model shown on real traces (issue #15): each test failed before
/// its fix and cites the kernel function it follows.
@Suite struct ModelDivergenceReplayTests {
    static func folder(_ name: String) throws -> CaptureHosts.Folder {
        try #require(CaptureHosts.folders.first { $0.name == name })
    }

    /// `svm/svm.c:svm_leave_smm`: an RSM whose SMI arrived in guest mode re-enters L2
    /// (`enter_svm_guest_mode`, traced as `kvm_nested_vmrun`/`kvm_nested_vmenter`). The two
    /// excerpts of Vitaly Kuznetsov's 2021 report show it; it is not a "VMRUN entered L2"
    /// mismatch of an emulated RSM.
    @Test("RSM re-entering L2 from SMM matches (svm_leave_smm)", arguments: ["svm-rsm-smm-patch.txt", "svm-rsm-smm-quoted.txt"])
    func rsmReentersL2(file: String) throws {
        let trace = try TraceLoader.load(path: RepositoryPaths.trace("excerpts/\(file)").path)
        let result = replay(trace: trace, folder: try Self.folder("6.1"))
        #expect(result.mismatches.isEmpty, "\(result.mismatches.map(\.verdict.explanation))")
        let rsm = try #require(result.exits.first { $0.exitCode == 0x73 })
        #expect(rsm.verdict.kind == .match)
        // The trace settles that the SMI came in guest mode (and that the vCPU was in SMM).
        #expect(rsm.verdict.settled[FactID.smmFromGuestMode] == true)
        #expect(rsm.verdict.settled[FactID.inSMM] == true)
    }

    /// Negative: the same RSM with the entry into L2 removed (L1 continues) is no longer the
    /// guest-mode branch; stating the SMI came in guest mode makes it a mismatch.
    @Test("RSM that stays in L1 while the SMI came in guest mode is a mismatch")
    func rsmStaysInL1() throws {
        var state = VCPUState()
        state.level = Known(.l1, source: "test")
        state.inSMM = Known(true, source: "test")
        state.assumptions[FactID.smmFromGuestMode] = Known(true, source: "test")
        let decision = DecisionModel(profile: .v6_1).decision(for: .hardwareExit(HardwareExit(exitCode: VMExitCode(rawValue: 0x73))), state: state)
        #expect(decision.outcome.kind == .emulate)
        #expect(decision.outcome.level == .l2)
        state.assumptions[FactID.smmFromGuestMode] = Known(false, source: "test")
        let back = DecisionModel(profile: .v6_1).decision(for: .hardwareExit(HardwareExit(exitCode: VMExitCode(rawValue: 0x73))), state: state)
        #expect(back.outcome.level == .l1)
    }
}
