/// The decoded payload of one trace event.
///
/// Every KVM event svmdbg models has a case with a typed value; every other event (and a
/// modelled event whose text matched no known generation) is `.raw`, and its payload text
/// stays available through ``TraceEvent/payloadText``. Nothing is dropped.
public enum EventPayload: Sendable, Hashable {
    /// `kvm_exit`.
    case exit(KVMExit)
    /// `kvm_nested_vmexit` (any generation; the ≤5.9 own format is mapped onto ``KVMExit``).
    case nestedVMExit(KVMExit)
    /// `kvm_entry`.
    case entry(KVMEntry)
    /// `kvm_nested_vmenter` (6.1+) or `kvm_nested_vmrun` (≤6.0).
    case nestedVMEnter(KVMNestedVMEnter)
    /// `kvm_nested_intercepts`.
    case nestedIntercepts(KVMNestedIntercepts)
    /// `kvm_nested_vmexit_inject` (kernel or plugin wording).
    case nestedVMExitInject(KVMNestedVMExitInject)
    /// `kvm_nested_intr_vmexit`: `rip: 0x%016llx` (L2's RIP).
    case nestedIntrVMExit(rip: UInt64)
    /// `kvm_nested_vmenter_failed`: the text of the failed consistency check.
    case nestedVMEnterFailed(message: String)
    /// `kvm_inj_exception`.
    case injException(KVMInjException)
    /// `kvm_inj_virq`.
    case injVirq(KVMInjVirq)
    /// `kvm_msr`.
    case msr(KVMMSR)
    /// `kvm_cr`.
    case cr(KVMCR)
    /// `kvm_pio`.
    case pio(KVMPIO)
    /// `kvm_emulate_insn`.
    case emulateInsn(KVMEmulateInsn)
    /// `kvm_page_fault`.
    case pageFault(KVMPageFault)
    /// `kvm_invlpga`.
    case invlpga(KVMInvlpga)
    /// `kvm_skinit`.
    case skinit(KVMSkinit)
    /// `kvm_userspace_exit`.
    case userspaceExit(KVMUserspaceExit)
    /// `kvm_hypercall`.
    case hypercall(KVMHypercall)
    /// `kvm_cpuid`.
    case cpuid(KVMCPUID)
    /// `kvm_fpu`: `load` (`true`) or `unload` (`false`).
    case fpu(loaded: Bool)
    /// An `svmdbg capture` probe event (``ProbeSchema``): `name=value` fetch arguments.
    case probe(ProbePayload)
    /// An event svmdbg does not model, or whose payload matched no known form.
    case raw

    /// The vCPU id the payload itself states (`kvm_exit`/`kvm_nested_vmexit` 5.10+,
    /// `kvm_entry`, `kvm_page_fault` 6.1+), else `nil`.
    public var vcpu: UInt32? {
        switch self {
        case .exit(let exit), .nestedVMExit(let exit): exit.vcpu
        case .entry(let entry): entry.vcpu
        case .pageFault(let fault): fault.vcpu
        default: nil
        }
    }

    /// `true` for every case but `.raw`.
    public var isTyped: Bool {
        if case .raw = self { return false }
        return true
    }
}
