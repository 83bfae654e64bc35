import NestedSVM
import TraceKit

/// One replayed exit: a hardware exit (`kvm_exit`) or a #VMEXIT KVM synthesized with no
/// hardware exit before it, with the state the model saw, the model's outcome, what the
/// trace recorded, and the verdict.
///
/// A replay keeps exits compact and builds these on access (``ReplayExits``); the state
/// the model saw is re-derived on demand (``ReplayResult/state(of:)``).
public struct ExitRecord: Sendable {
    /// Where the record comes from.
    public enum Origin: String, Sendable, Hashable, Codable {
        /// A `kvm_exit`.
        case hardwareExit = "hardware_exit"
        /// A `kvm_nested_vmexit_inject` with no `kvm_exit` since the previous `kvm_entry`
        /// (a pending event turned into an exit to L1, `svm_check_nested_events`).
        case synthesized
    }

    /// Position in the replay's exit list, 0-based.
    public var index: Int
    /// Where the record comes from.
    public var origin: Origin
    /// First event of the exit (`kvm_exit`, or the synthesized inject).
    public var firstEvent: EventNumber
    /// Last event of the exit (its `kvm_entry`, or the last event seen).
    public var lastEvent: EventNumber
    /// Trace lines from the exit to the next entry, inclusive.
    public var lines: ClosedRange<Int>
    /// vCPU thread id.
    public var pid: Int32
    /// vCPU id, when an event states it.
    public var vcpu: UInt32?
    /// Time of the exit.
    public var timestamp: TraceTimestamp
    /// Level that ran (L2 when `kvm_nested_vmexit` follows the exit).
    public var level: Level?
    /// Exit code (low 32 bits of EXITCODE).
    public var exitCode: UInt32
    /// `exit_info_1`, when printed.
    public var exitInfo1: UInt64?
    /// `exit_info_2`, when printed.
    public var exitInfo2: UInt64?
    /// `exit_int_info`, when printed.
    public var exitIntInfo: UInt32?
    /// `exit_int_info_err`, when printed.
    public var exitIntInfoErr: UInt32?
    /// Guest RIP at the exit.
    public var rip: UInt64?
    /// The model's outcome.
    public var model: Outcome
    /// The rule that decided (the last step of the decision path).
    public var decidingRule: RuleID?
    /// What the trace recorded.
    public var recorded: RecordedOutcome
    /// How the two compare.
    public var verdict: Verdict

    /// The exit code's name, e.g. `msr`.
    public var reasonName: String { SVMExitReason(exitCode).description }
}
