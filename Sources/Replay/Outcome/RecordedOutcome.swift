import Foundation
import TraceKit

/// What the trace shows happened after one exit, read from the events on the same vCPU
/// thread between the exit and the next `kvm_entry` (`trace-events.md` §4 table).
///
/// Only what a line proves is recorded: a `kvm_nested_vmexit_inject` is a #VMEXIT to L1, a
/// `kvm_inj_exception` that is not `[reinjected]` is an exception KVM queued, a
/// `kvm_nested_vmenter`/`kvm_nested_vmenter_failed` settles a VMRUN, a
/// `kvm_userspace_exit` an exit to userspace; with none of them L0 kept the exit.
public struct RecordedOutcome: Sendable, Hashable {
    /// The observable outcome kinds. Raw values are the JSON names shared with the model's
    /// outcome kinds (`export`'s `recorded.outcome`).
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// `kvm_nested_vmexit_inject`: L1 received a #VMEXIT.
        case reflectToL1 = "reflect_to_l1"
        /// No decision event: L0 handled the exit and the same level continues.
        case l0Handles = "l0_handles"
        /// `kvm_inj_exception` (not re-injected) before the entry.
        case injectException = "inject_exception"
        /// `kvm_nested_vmenter_failed`, or `kvm_nested_vmexit_inject reason 0xffffffff` after a
        /// `kvm_nested_vmenter` (`out_exit_err`).
        case vmrunFails = "vmrun_fails"
        /// `kvm_nested_vmenter` + `kvm_nested_intercepts`: L2 runs.
        case vmrunSucceeds = "vmrun_succeeds"
        /// `kvm_userspace_exit` before the entry.
        case userspaceExit = "userspace_exit"
        /// The trace does not show the outcome (no `kvm_entry` follows: the trace ends or events
        /// are missing).
        case unknown = "undetermined"
    }

    /// What happened.
    public var kind: Kind
    /// Exit code L1 read (reflections, failed VMRUNs).
    public var exitCode: UInt32?
    /// `exit_info_1` L1 read.
    public var exitInfo1: UInt64?
    /// `exit_info_2` L1 read.
    public var exitInfo2: UInt64?
    /// `exit_int_info` L1 read.
    public var exitIntInfo: UInt32?
    /// Exception vector KVM injected.
    public var vector: UInt8?
    /// Error code of the injected exception.
    public var errorCode: UInt32?
    /// Level that runs at the next entry (L1 after a reflection, else the exit's level).
    public var nextLevel: Level?
    /// The failed consistency check's text (`kvm_nested_vmenter_failed`).
    public var failedCheck: String?
    /// `kvm_userspace_exit` reason text.
    public var userspaceReason: String?
    /// L0 ran the emulator or decoded the instruction (`kvm_emulate_insn`).
    public var emulated: Bool
    /// Events KVM re-injected (`[reinjected]`): delivery retries, not decisions.
    public var reinjections: [String]
    /// The events that prove this outcome (the inject, the injection, the entry, …).
    public var evidence: [EventNumber]
    /// The entry that ended the exit, when there is one.
    public var entry: EventNumber?

    /// Creates a recorded outcome.
    public init(
        kind: Kind, exitCode: UInt32? = nil, exitInfo1: UInt64? = nil, exitInfo2: UInt64? = nil,
        exitIntInfo: UInt32? = nil, vector: UInt8? = nil, errorCode: UInt32? = nil, nextLevel: Level? = nil,
        failedCheck: String? = nil, userspaceReason: String? = nil, emulated: Bool = false,
        reinjections: [String] = [], evidence: [EventNumber] = [], entry: EventNumber? = nil
    ) {
        self.kind = kind
        self.exitCode = exitCode
        self.exitInfo1 = exitInfo1
        self.exitInfo2 = exitInfo2
        self.exitIntInfo = exitIntInfo
        self.vector = vector
        self.errorCode = errorCode
        self.nextLevel = nextLevel
        self.failedCheck = failedCheck
        self.userspaceReason = userspaceReason
        self.emulated = emulated
        self.reinjections = reinjections
        self.evidence = evidence
        self.entry = entry
    }

    /// One line, e.g. `L1 got #VMEXIT msr (0x07c) info1 0x1 info2 0x0`.
    public var summary: String {
        switch kind {
        case .reflectToL1:
            let code = exitCode.map { ExitCodeText.name($0) } ?? "?"
            return "L1 got #VMEXIT \(code) info1 \(Hex.short(exitInfo1)) info2 \(Hex.short(exitInfo2))"
        case .l0Handles:
            var text = "L0 kept it" + (emulated ? " (kvm_emulate_insn)" : "")
            if !reinjections.isEmpty { text += ", re-injected " + reinjections.joined(separator: ", ") }
            return text
        case .injectException:
            let code = errorCode.map { " (\(Hex.short(UInt64($0))))" } ?? ""
            return "\(ExceptionText.name(vector))\(code) injected into \(nextLevel?.rawValue ?? "?")"
        case .vmrunFails:
            return "VMRUN failed: VMEXIT_INVALID" + (failedCheck.map { " (\($0))" } ?? "")
        case .vmrunSucceeds:
            return "VMRUN entered L2"
        case .userspaceExit:
            return "exit to userspace: \(userspaceReason ?? "?")"
        case .unknown:
            return "not in the trace (no kvm_entry follows)"
        }
    }
}

extension RecordedOutcome {
    /// Whether a `kvm_userspace_exit` reason is the VMM finishing an access L0 is handling
    /// (port I/O, MMIO, an MSR or hypercall forwarded to userspace, a halt, a pending signal —
    /// printed `restart` for -EINTR by `kvm_userspace_exit`) rather than an outcome of its own
    /// (shutdown, internal error, failed entry, debug, `error`).
    static func servesAccess(_ reason: String?) -> Bool {
        guard let reason else { return false }
        let serving: Set<String> = [
            "KVM_EXIT_IO", "KVM_EXIT_MMIO", "KVM_EXIT_X86_RDMSR", "KVM_EXIT_X86_WRMSR", "KVM_EXIT_HYPERCALL",
            "KVM_EXIT_HLT", "KVM_EXIT_INTR", "KVM_EXIT_IRQ_WINDOW_OPEN", "KVM_EXIT_TPR_ACCESS", "KVM_EXIT_XEN",
            "KVM_EXIT_NOTIFY", "KVM_EXIT_MEMORY_FAULT", "restart",
        ]
        return serving.contains(reason.split(separator: " ").first.map(String.init) ?? reason)
    }
}

/// Names of SVM exit codes as the kernel prints them, for replay texts.
enum ExitCodeText {
    /// `msr (0x07c)`, `0x1234` for unknown codes.
    static func name(_ code: UInt32) -> String { SVMExitCodes.kernelDescription(of: code) }
}

/// Exception names as `kvm_inj_exception` prints them.
enum ExceptionText {
    /// `#GP`, `0x2`, or `?`.
    static func name(_ vector: UInt8?) -> String { ExceptionVector.injectedName(vector) }
}
