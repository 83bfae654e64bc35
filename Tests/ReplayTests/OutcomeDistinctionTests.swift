@testable import Replay
import NestedSVM
import Testing

/// "Handled by L0", "emulated" and "exit to userspace" are distinct outcomes: the trace shows
/// which (a `kvm_emulate_insn`, a `kvm_userspace_exit` and its reason). Before issue 15 the
/// comparison accepted any of them for any other.
@Suite struct OutcomeDistinctionTests {
    static let emulate = Outcome.emulate("svm/svm.c:emulate_on_interception", level: .l2)
    static let handled = Outcome.l0Handles("svm/svm.c:cr_interception", level: .l2)
    static let shutdown = Outcome.userspaceExit("svm/svm.c:shutdown_interception", detail: "KVM_EXIT_SHUTDOWN")

    static func recorded(_ kind: RecordedOutcome.Kind, emulated: Bool = false, reason: String? = nil) -> RecordedOutcome {
        RecordedOutcome(kind: kind, nextLevel: .l2, userspaceReason: reason, emulated: emulated)
    }

    @Test("emulation needs a kvm_emulate_insn; without one the model's emulate is a mismatch")
    func emulateNeedsEmulation() {
        #expect(OutcomeComparison.differences(model: Self.emulate, recorded: Self.recorded(.l0Handles, emulated: true)).isEmpty)
        #expect(!OutcomeComparison.differences(model: Self.emulate, recorded: Self.recorded(.l0Handles)).isEmpty)
    }

    @Test("a shutdown (userspace exit as the outcome) is not 'handled by L0', nor the other way round")
    func userspaceIsItsOwnOutcome() {
        #expect(!OutcomeComparison.differences(model: Self.shutdown, recorded: Self.recorded(.l0Handles)).isEmpty)
        #expect(!OutcomeComparison.differences(model: Self.handled, recorded: Self.recorded(.userspaceExit, reason: "KVM_EXIT_SHUTDOWN")).isEmpty)
        #expect(OutcomeComparison.differences(model: Self.shutdown, recorded: Self.recorded(.userspaceExit, reason: "KVM_EXIT_SHUTDOWN")).isEmpty)
    }

    @Test("L0 finishing an access through the VMM (KVM_EXIT_IO, MMIO, a signal's restart) is still L0's handling",
          arguments: ["KVM_EXIT_IO", "KVM_EXIT_MMIO", "restart"])
    func servingExits(reason: String) {
        #expect(OutcomeComparison.differences(model: Self.handled, recorded: Self.recorded(.userspaceExit, reason: reason)).isEmpty)
        #expect(!OutcomeComparison.differences(model: Self.emulate, recorded: Self.recorded(.userspaceExit, reason: reason)).isEmpty)
        #expect(OutcomeComparison.differences(model: Self.emulate, recorded: Self.recorded(.userspaceExit, emulated: true, reason: reason)).isEmpty)
    }
}
