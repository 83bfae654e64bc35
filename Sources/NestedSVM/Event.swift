/// One thing that happened on the vCPU and that the model decides about.
public enum Event: Sendable, Equatable, Codable {
    /// A hardware #VMEXIT. Which level ran comes from `VCPUState.level`; when that is unknown
    /// the decision lists the outcome for each level.
    case hardwareExit(HardwareExit)
    /// An event pending before the next entry into L2, as `svm/nested.c:svm_check_nested_events`
    /// sees it.
    case pending(PendingEvent)
    /// L1's VMRUN was rejected by a consistency check whose message is known (the text of
    /// `kvm_nested_vmenter_failed`, e.g. `control->asid == 0`).
    case vmrunConsistencyFailure(message: String)
    /// The CPU raises exception `vector` while L2 runs (a fault of L2's own code). It exits
    /// only if vmcb02's exception bitmap — L0's (vmcb01) and L1's (vmcb12) — has the vector;
    /// otherwise the CPU delivers it through L2's IDT and nothing reaches L0.
    case guestException(vector: UInt8, errorCode: UInt32?, instructionBytes: [UInt8]? = nil)
    /// An instruction of L2 whose first question is whether the CPU exits at all (vGIF, the
    /// pause filter, the merged MSR bitmap: `Rules/FeatureEvents.swift`).
    case feature(FeatureEvent)
    /// L1's EVENTINJ (vmcb12) on its way through L2's IDT: the CPU delivers it without an
    /// intercept check; only a fault of the delivery can exit (`EventInjectionDelivery`).
    case eventInjection(EventInjectionDelivery)
}

/// A hardware #VMEXIT with the values the VMCB (and the trace) report.
public struct HardwareExit: Sendable, Equatable, Codable {
    /// `exit_code`.
    public var exitCode: VMExitCode
    /// `exit_info_1`.
    public var exitInfo1: UInt64
    /// `exit_info_2`.
    public var exitInfo2: UInt64
    /// `exit_int_info`: the event being delivered when the exit occurred (bit 31 valid).
    public var exitIntInfo: UInt32
    /// `exit_int_info_err`.
    public var exitIntInfoErr: UInt32
    /// Guest RIP at the exit, when known.
    public var rip: UInt64?
    /// Instruction bytes at RIP (from `kvm_emulate_insn`), when known.
    public var instructionBytes: [UInt8]?
    /// Guest RAX at the exit (the address operand of VMRUN/VMLOAD/VMSAVE), when known.
    public var rax: Known<UInt64>?
    /// Guest RCX at the exit (the MSR number of an MSR exit), when known.
    public var rcx: Known<UInt64>?
    /// The value a MOV to CR writes (e.g. from `kvm_cr`), when known; decides the selective
    /// CR0 rewrite together with L2's old CR0.
    public var writtenValue: Known<UInt64>?
    /// For an L2 nested page fault with nested paging on: whether the walk of L1's nested page
    /// tables for `exit_info_2` faults (known only from L1's memory, e.g. a dump).
    public var l1NPTWalkFaults: Known<Bool>?
    /// The fields among `exit_info_1`, `exit_info_2`, `exit_int_info` that the source did not
    /// state (a scenario that omits them, a trace format without them): unknown, not 0. Their
    /// stored value (0) is never used for a decision or predicted as what L1 sees.
    public var unknownFields: [String]?

    /// Whether `field` (`exit_info_1`, `exit_info_2`, `exit_int_info`) is unknown.
    public func isUnknown(_ field: String) -> Bool { unknownFields?.contains(field) == true }

    /// Builds a hardware exit; omitted values are 0 or unknown.
    public init(
        exitCode: VMExitCode, exitInfo1: UInt64 = 0, exitInfo2: UInt64 = 0, exitIntInfo: UInt32 = 0,
        exitIntInfoErr: UInt32 = 0, rip: UInt64? = nil, instructionBytes: [UInt8]? = nil,
        rax: Known<UInt64>? = nil, rcx: Known<UInt64>? = nil, writtenValue: Known<UInt64>? = nil,
        l1NPTWalkFaults: Known<Bool>? = nil
    ) {
        self.exitCode = exitCode
        self.exitInfo1 = exitInfo1
        self.exitInfo2 = exitInfo2
        self.exitIntInfo = exitIntInfo
        self.exitIntInfoErr = exitIntInfoErr
        self.rip = rip
        self.instructionBytes = instructionBytes
        self.rax = rax
        self.rcx = rcx
        self.writtenValue = writtenValue
        self.l1NPTWalkFaults = l1NPTWalkFaults
    }
}

/// An event that `svm_check_nested_events` may turn into a #VMEXIT to L1 before entering L2.
public enum PendingEvent: Sendable, Equatable, Codable {
    /// INIT latched in the local APIC.
    case initSignal
    /// An exception queued for L2 (by the CPU's EXITINTINFO or an L0 handler).
    case exception(vector: UInt8, errorCode: UInt32?)
    /// A pending SMI.
    case smi
    /// A pending NMI.
    case nmi
    /// A pending external interrupt for L1.
    case interrupt
    /// A triple fault of L2 (`KVM_REQ_TRIPLE_FAULT`, `svm/nested.c:nested_svm_triple_fault`).
    case tripleFault
    /// A virtual interrupt L1 requests for L2 with V_IRQ in vmcb12's `int_ctl` (vector from
    /// vmcb12's `int_vector`, when known): copied into vmcb02
    /// (`svm/nested.c:nested_vmcb02_prepare_control`), taken by the CPU inside L2.
    case virtualInterrupt(vector: UInt8?)
    /// A virtual NMI L1 requests for L2 with V_NMI_PENDING in vmcb12's `int_ctl` (nested vNMI).
    case virtualNMI
    /// Several events pending at once; KVM takes them in its order (triple fault, INIT,
    /// exception, SMI, NMI, interrupt; vmcb12's virtual NMI and interrupt only after entry).
    case simultaneous([PendingEvent])
}
