/// The KVM events svmdbg decodes into typed payloads, by tracepoint name.
enum KnownEvent: UInt8, Sendable, CaseIterable {
    case exit, nestedVMExit, entry, nestedVMEnter, nestedVMRun, nestedIntercepts, nestedVMExitInject
    case nestedIntrVMExit, nestedVMEnterFailed, injException, injVirq, msr, cr, pio, emulateInsn
    case pageFault, invlpga, skinit, userspaceExit, hypercall, cpuid, fpu
    /// `svmdbg capture`'s `exit_regs` probe (``ProbeSchema``).
    case probeExitRegs
    /// `svmdbg capture`'s `vcpu_map` return probe.
    case probeVCPUMap
    /// `svmdbg capture`'s return probes on VMRUN's checks.
    case probeCheckSave, probeCheckControls, probeLoadCR3
    /// `svmdbg capture`'s `vcpu_map_entry` probe (kernels without arguments at return probes).
    case probeVCPUMapEntry
    /// `svmdbg capture`'s `vmrun_vmcb12` and `guest_read` probes.
    case probeVMRunVMCB12, probeGuestRead
    /// `svmdbg capture`'s `guest_read_entry` probe (kernels without arguments at return probes).
    case probeGuestReadEntry

    /// The tracepoint name.
    var tracepoint: String {
        switch self {
        case .exit: "kvm_exit"
        case .nestedVMExit: "kvm_nested_vmexit"
        case .entry: "kvm_entry"
        case .nestedVMEnter: "kvm_nested_vmenter"
        case .nestedVMRun: "kvm_nested_vmrun"
        case .nestedIntercepts: "kvm_nested_intercepts"
        case .nestedVMExitInject: "kvm_nested_vmexit_inject"
        case .nestedIntrVMExit: "kvm_nested_intr_vmexit"
        case .nestedVMEnterFailed: "kvm_nested_vmenter_failed"
        case .injException: "kvm_inj_exception"
        case .injVirq: "kvm_inj_virq"
        case .msr: "kvm_msr"
        case .cr: "kvm_cr"
        case .pio: "kvm_pio"
        case .emulateInsn: "kvm_emulate_insn"
        case .pageFault: "kvm_page_fault"
        case .invlpga: "kvm_invlpga"
        case .skinit: "kvm_skinit"
        case .userspaceExit: "kvm_userspace_exit"
        case .hypercall: "kvm_hypercall"
        case .cpuid: "kvm_cpuid"
        case .fpu: "kvm_fpu"
        case .probeExitRegs: ProbeSchema.exitRegsEvent
        case .probeVCPUMap: ProbeSchema.vcpuMapEvent
        case .probeCheckSave: ProbeSchema.checkSaveEvent
        case .probeCheckControls: ProbeSchema.checkControlsEvent
        case .probeLoadCR3: ProbeSchema.loadCR3Event
        case .probeVCPUMapEntry: ProbeSchema.vcpuMapEntryEvent
        case .probeVMRunVMCB12: ProbeSchema.vmrunVMCB12Event
        case .probeGuestRead: ProbeSchema.guestReadEvent
        case .probeGuestReadEntry: ProbeSchema.guestReadEntryEvent
        }
    }

    /// Tracepoint name → event.
    static let byName: [String: KnownEvent] = {
        var table: [String: KnownEvent] = [:]
        for event in allCases { table[event.tracepoint] = event }
        return table
    }()
}
