import NestedSVM
import TraceKit

/// The event KVM re-injects after an exit that interrupted an event delivery, and the check
/// that the trace shows it.
///
/// `svm/svm.c:svm_complete_interrupts` runs after every #VMEXIT: when `EXITINTINFO` is valid
/// it re-queues the event that was being delivered — an exception (`kvm_requeue_exception`,
/// never #VC), an external interrupt or a software interrupt (`kvm_queue_interrupt`), an NMI
/// (`nmi_injected`). When L0 keeps the exit and the same level runs again,
/// `x86.c:kvm_check_and_inject_events` injects it again before the next entry:
/// `x86.c:kvm_inject_exception` prints `kvm_inj_exception … [reinjected]` and
/// `svm/svm.c:svm_inject_irq` prints `kvm_inj_virq … [reinjected]`. `svm_inject_nmi` has no
/// tracepoint, so an NMI in flight predicts nothing the trace could show. A #VMEXIT to L1
/// (`nested_svm_vmexit`) moves the event into vmcb12's `exit_int_info` instead
/// (`nested_save_pending_event_to_vmcb12`), and a new exception KVM queues takes precedence
/// over re-injecting an interrupt (or replaces / merges with an injected exception), so
/// neither is checked here.
///
/// The prediction is kept on the replay side (not in the model's `Outcome`): it depends only
/// on the exit's `EXITINTINFO`, and it is checked against the events between the exit and the
/// next entry.
public enum Reinjection: Sendable, Hashable, CustomStringConvertible {
    /// An exception (`SVM_EXITINTINFO_TYPE_EXEPT`), with its error code when `EXITINTINFO`
    /// says it has one.
    case exception(vector: UInt8, errorCode: UInt32?)
    /// An external interrupt (`SVM_EXITINTINFO_TYPE_INTR`).
    case interrupt(vector: UInt8)
    /// A software interrupt INTn (`SVM_EXITINTINFO_TYPE_SOFT`).
    case softInterrupt(vector: UInt8)

    /// `EXITINTINFO` bits: valid (31), error code valid (11), type (10:8), vector (7:0).
    static let valid: UInt32 = 1 << 31
    static let errorValid: UInt32 = 1 << 11
    /// `X86_TRAP_VC`: `svm_complete_interrupts` never re-injects a #VC.
    static let vcVector: UInt8 = 29

    /// The event `svm_complete_interrupts` queues for re-injection from `intrInfo`
    /// (`EXITINTINFO`) and `errorCode` (`EXITINTINFOERR`), when it is one whose re-injection
    /// the trace prints; nil when no event was in flight, for an NMI, a #VC or a reserved type.
    public static func expected(intrInfo: UInt32?, errorCode: UInt32?) -> Reinjection? {
        guard let intrInfo, intrInfo & valid != 0 else { return nil }
        let vector = UInt8(truncatingIfNeeded: intrInfo)
        switch (intrInfo >> 8) & 7 {
        case 0: return .interrupt(vector: vector)
        case 3:
            guard vector != vcVector else { return nil }
            return .exception(vector: vector, errorCode: intrInfo & errorValid != 0 ? errorCode : nil)
        case 4: return .softInterrupt(vector: vector)
        default: return nil  // 2 = NMI (no tracepoint), 1/5/6/7 reserved
        }
    }

    /// The trace event that shows the re-injection.
    public var eventName: String {
        switch self {
        case .exception: "kvm_inj_exception"
        case .interrupt, .softInterrupt: "kvm_inj_virq"
        }
    }

    /// As the trace prints it, e.g. `#PF (0x2) [reinjected]`, `Soft/INTn 0x3 [reinjected]`.
    public var description: String {
        switch self {
        case .exception(let vector, let errorCode):
            ExceptionText.name(vector) + (errorCode.map { " (\(Hex.format($0)))" } ?? "") + " [reinjected]"
        case .interrupt(let vector): "IRQ \(Hex.format(vector)) [reinjected]"
        case .softInterrupt(let vector): "Soft/INTn \(Hex.format(vector)) [reinjected]"
        }
    }

    /// What the events of one exit show about this re-injection.
    public enum Shown: Sendable, Hashable {
        /// A `[reinjected]` line of the same event.
        case shown
        /// A line of the same event in a format that cannot print `[reinjected]`: unknown.
        case unknownFormat
        /// No such line.
        case absent
    }

    /// Whether `payloads` (an exit's events up to its entry) show this re-injection.
    public func shown(in payloads: [EventPayload]) -> Shown {
        var unknown = false
        for payload in payloads {
            switch (self, payload) {
            case (.exception(let vector, _), .injException(let line)) where line.vector == vector:
                if line.reinjected == true { return .shown }
                if line.reinjected == nil { unknown = true }
            case (.interrupt(let vector), .injVirq(let line)) where line.kind == .irq && line.vector == UInt32(vector),
                (.softInterrupt(let vector), .injVirq(let line)) where line.kind == .softInterrupt && line.vector == UInt32(vector):
                if line.reinjected == true { return .shown }
                if line.reinjected == nil { unknown = true }
            default:
                break
            }
        }
        return unknown ? .unknownFormat : .absent
    }

    /// The mismatch for one exit whose verdict is a match, or nil when nothing contradicts
    /// the prediction: checked only when an event was in flight (`intrInfo` valid), the model
    /// and the trace agree that L0 kept the exit and the same level ran again (the trace shows
    /// the next entry), the trace records `eventName` at all (`traceRecords`), and the
    /// recorded outcome is not a new exception (which takes precedence, see the type's doc).
    public static func mismatch(
        intrInfo: UInt32?, errorCode: UInt32?, outcome: Outcome, recorded: RecordedOutcome, payloads: [EventPayload],
        traceRecords: (String) -> Bool
    ) -> Verdict.Difference? {
        guard let expected = expected(intrInfo: intrInfo, errorCode: errorCode), recorded.entry != nil else { return nil }
        switch outcome.kind {
        case .l0Handles, .emulate, .userspaceExit: break
        default: return nil
        }
        switch recorded.kind {
        case .l0Handles: break
        case .userspaceExit where RecordedOutcome.servesAccess(recorded.userspaceReason): break
        default: return nil
        }
        guard traceRecords(expected.eventName), expected.shown(in: payloads) == .absent else { return nil }
        return Verdict.Difference(field: "reinjection", model: expected.description, recorded: "none before the entry")
    }

    /// The explanation added to the verdict of an exit that lost its re-injection.
    static let explanation =
        "the event in flight at the exit (exit_int_info) is re-injected when L0 keeps the exit "
        + "(svm/svm.c:svm_complete_interrupts, x86.c:kvm_check_and_inject_events); the trace shows no [reinjected] line before the entry"
}
