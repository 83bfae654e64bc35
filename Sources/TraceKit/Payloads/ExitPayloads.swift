/// The payload of `kvm_exit` and of `kvm_nested_vmexit` (5.10+ they share one format).
///
/// Tracepoints: `kvm_exit`, `kvm_nested_vmexit`
/// (`reference/formats-6.18/kvm_exit.format`; older generations in `trace-events.md` §3.2, §3.5).
/// Every field a dialect does not print is `nil`: the ≤5.3 and plugin forms have no
/// `vcpu`, `intr_info`, `error_code`; only 6.14+ prints `requests`.
public struct KVMExit: Sendable, Hashable {
    /// `exit_reason` (SVM `EXITCODE`, low 32 bits); unknown codes keep their number.
    public var exitReason: SVMExitReason
    /// `guest_rip`: the RIP saved in the current VMCB (L2's RIP for an L2 exit).
    public var guestRIP: UInt64?
    /// `info1` (`EXITINFO1`).
    public var exitInfo1: UInt64?
    /// `info2` (`EXITINFO2`).
    public var exitInfo2: UInt64?
    /// `intr_info` (`EXITINTINFO`); only bit 31 means an event was being delivered.
    public var intrInfo: UInt32?
    /// `error_code` (`EXITINTINFO` error code).
    public var errorCode: UInt32?
    /// `vcpu_id`, when the dialect prints it.
    public var vcpu: UInt32?
    /// `requests` (pending `KVM_REQ_*` bitmap, 6.14+).
    public var requests: UInt64?

    /// Creates an exit payload; absent fields stay `nil`.
    public init(exitReason: SVMExitReason, guestRIP: UInt64? = nil, exitInfo1: UInt64? = nil,
                exitInfo2: UInt64? = nil, intrInfo: UInt32? = nil, errorCode: UInt32? = nil,
                vcpu: UInt32? = nil, requests: UInt64? = nil) {
        self.exitReason = exitReason
        self.guestRIP = guestRIP
        self.exitInfo1 = exitInfo1
        self.exitInfo2 = exitInfo2
        self.intrInfo = intrInfo
        self.errorCode = errorCode
        self.vcpu = vcpu
        self.requests = requests
    }
}

/// The payload of `kvm_entry`.
///
/// Tracepoint: `kvm_entry` (`reference/formats-6.18/kvm_entry.format`; `trace-events.md` §3.1):
/// `vcpu %u` (≤5.9), `, rip 0x%lx` (5.10+), glued `[immediate exit]` suffix (6.9+ and
/// backports), ` intr_info 0x%08x error_code 0x%08x` (6.14+); plugin ` vcpu %u rip 0x%llx`.
public struct KVMEntry: Sendable, Hashable {
    /// `vcpu_id`.
    public var vcpu: UInt32
    /// `rip` of the guest about to run (absent in ≤5.9).
    public var rip: UInt64?
    /// The `[immediate exit]` suffix was printed (6.9+ and backports). `false` means the
    /// suffix is absent, which is also all that formats without it (≤6.8, plugin) can show.
    public var immediateExit: Bool
    /// `intr_info` (the VMCB `event_inj` about to be injected, 6.14+).
    public var intrInfo: UInt32?
    /// `error_code` (`event_inj_err`, 6.14+).
    public var errorCode: UInt32?

    /// Creates an entry payload.
    public init(vcpu: UInt32, rip: UInt64? = nil, immediateExit: Bool = false,
                intrInfo: UInt32? = nil, errorCode: UInt32? = nil) {
        self.vcpu = vcpu
        self.rip = rip
        self.immediateExit = immediateExit
        self.intrInfo = intrInfo
        self.errorCode = errorCode
    }
}

/// The payload of `kvm_nested_vmexit_inject`: the #VMEXIT L1 receives, as written to vmcb12.
///
/// Tracepoint: `kvm_nested_vmexit_inject` (`trace-events.md` §3.6). Kernel wording
/// `reason: %s ext_inf1: … ext_int_err: …`; plugin wording
/// `reason EXIT_NPF info1 %llx info2 %llx int_info %x int_info_err %x`.
public struct KVMNestedVMExitInject: Sendable, Hashable {
    /// `exit_code` L1 reads.
    public var exitReason: SVMExitReason
    /// `exit_info1`.
    public var exitInfo1: UInt64
    /// `exit_info2`.
    public var exitInfo2: UInt64
    /// `exit_int_info` (EXITINTINFO L1 reads).
    public var exitIntInfo: UInt32
    /// `exit_int_info_err`.
    public var exitIntInfoErr: UInt32

    /// Creates an inject payload.
    public init(exitReason: SVMExitReason, exitInfo1: UInt64, exitInfo2: UInt64,
                exitIntInfo: UInt32, exitIntInfoErr: UInt32) {
        self.exitReason = exitReason
        self.exitInfo1 = exitInfo1
        self.exitInfo2 = exitInfo2
        self.exitIntInfo = exitIntInfo
        self.exitIntInfoErr = exitIntInfoErr
    }
}
