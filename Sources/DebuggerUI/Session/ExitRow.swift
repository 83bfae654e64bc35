import TraceKit
import Replay

/// One row of the exit list: everything the list shows for one exit, already short text.
///
/// The session builds rows on demand for the visible window only (`DebugSession.row(_:)`);
/// the UI never holds all rows.
public struct ExitRow: Sendable, Hashable {
    /// The exit's position in the exit list.
    public var number: ExitNumber
    /// Trace timestamp of the `kvm_exit` line, as the trace printed it.
    public var timestamp: TraceTimestamp
    /// The vCPU that exited, or nil when the trace does not tell.
    public var vcpu: Int?
    /// Which guest was running (L1 or L2), or nil when the trace does not tell.
    public var level: Level?
    /// The exit reason as the trace names it, e.g. `msr`, `io`, `npf`.
    public var reason: String
    /// The SVM exit code (`EXITCODE`), e.g. `0x7c` for MSR (APM vol. 2, appendix C).
    public var exitCode: UInt64
    /// The guest RIP of the exit, when recorded.
    public var rip: UInt64?
    /// One-line summary of exit_info, e.g. `wrmsr 0xc0000080` or `out 0x510 4B`; empty if none.
    public var summary: String
    /// The model's outcome, short, e.g. `L1` (reflect to L1) or `L0`.
    public var modelOutcome: String
    /// The recorded outcome, short, e.g. `L1` (kvm_nested_vmexit_inject seen) or `L0`.
    public var recordedOutcome: String
    /// Match, mismatch, undetermined or not modelled.
    public var verdict: ExitVerdict
    /// Exit-to-entry time (from the trace's timestamps), or why there is none.
    public var latency: ExitLatency

    /// Creates a row; every field is given by the session.
    public init(
        number: ExitNumber, timestamp: TraceTimestamp, vcpu: Int?, level: Level?, reason: String,
        exitCode: UInt64, rip: UInt64?, summary: String, modelOutcome: String, recordedOutcome: String,
        verdict: ExitVerdict, latency: ExitLatency = .noEntry
    ) {
        self.number = number
        self.timestamp = timestamp
        self.vcpu = vcpu
        self.level = level
        self.reason = reason
        self.exitCode = exitCode
        self.rip = rip
        self.summary = summary
        self.modelOutcome = modelOutcome
        self.recordedOutcome = recordedOutcome
        self.verdict = verdict
        self.latency = latency
    }
}
