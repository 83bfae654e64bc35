/// The rules of the `apm` profile (ids `apm.*`). A rule's `kernel` field carries its source
/// instead of a kernel function, always in one of three forms:
/// - `APM vol. 2 §… (text at hand: …)` — the APM wording was read;
/// - `QEMU …:function (independent implementation)` / `Xen …:function (independent
///   implementation)` — the APM text was not at hand, an implementation of the APM was read;
/// - `trace evidence: …` — the reported #VMEXIT itself proves what the CPU did.
/// Where the sources disagree or are silent the rule forks; `docs/kvm-vs-apm.md` lists them.
public enum APMSource {
    /// APM vol. 2 §15.5.1, the list of illegal guest state combinations (the text is quoted at
    /// bbs.kanxue.com/thread-225930-1.htm).
    public static let consistencyChecks =
        "APM vol. 2 §15.5.1 Canonicalization and Consistency Checks (text at hand: the list of illegal state combinations that cause VMEXIT_INVALID)"
    /// The same list's event-injection item, with QEMU for the detail of what is illegal.
    public static let eventInjection =
        "APM vol. 2 §15.5.1 'Illegal event injection (see §15.20)' (text at hand) + QEMU target/i386/tcg/sysemu/svm_helper.c:helper_vmrun (independent implementation: types 1, 5–7 and exception vectors 2 or ≥ 31 are illegal)"
    /// QEMU's VMRUN/VMLOAD/VMSAVE: RAX alignment and MAXPHYADDR #GP before the intercept.
    public static let qemuRAXBeforeIntercept =
        "QEMU target/i386/tcg/sysemu/svm_helper.c:helper_vmrun/helper_vmload/helper_vmsave (independent implementation: 'Exceptions are checked before the intercept': #GP(0) if RAX is not 4 KiB aligned or ≥ 2^MAXPHYADDR)"
    /// QEMU's translator: #UD and CPL checks of the SVM opcodes come before the helpers.
    public static let qemuSVMOpcodeChecks =
        "QEMU target/i386/tcg/translate.c:disas_insn, 0f 01 d8–df (independent implementation: #UD unless EFER.SVME (and protected mode), #GP(0) unless CPL 0, before the helper checks the intercept)"
    /// QEMU's and Xen's routing of guest exits by the VMCB's intercept bits.
    public static let interceptRouting =
        "Xen xen/arch/x86/hvm/svm/nestedsvm.c:nsvm_vmcb_guest_intercepts_exitcode + QEMU target/i386/tcg/sysemu/svm_helper.c:cpu_svm_has_intercept (independent implementations: a guest exit reaches the hypervisor iff its VMCB intercepts it)"
    /// MSR permission map lookup (QEMU).
    public static let msrpm =
        "QEMU target/i386/tcg/sysemu/svm_helper.c:cpu_svm_check_intercept_param (independent implementation: MSR_PROT, then the MSRPM bit; an MSR outside the three ranges always exits)"
    /// I/O permission map lookup (QEMU).
    public static let iopm =
        "QEMU target/i386/tcg/sysemu/svm_helper.c:helper_svm_check_io (independent implementation: IOIO_PROT, then the IOPM bits of every byte accessed)"
    /// VMMCALL: #UD unless intercepted.
    public static let vmmcall =
        "QEMU target/i386/tcg/sysemu/svm_helper.c:helper_vmmcall (independent implementation: #VMEXIT if intercepted, else #UD) + Xen nestedsvm.c:nestedsvm_check_intercepts, whose comment leaves the case open (an L2 VMMCALL L1 does not intercept must raise #UD)"
    /// VMLOAD/VMSAVE/STGI/CLGI/INVLPGA complete without an exception once their checks pass.
    public static let qemuExecutes =
        "QEMU target/i386/tcg/sysemu/svm_helper.c:helper_vmload/helper_vmsave/helper_stgi/helper_clgi/helper_invlpga (independent implementation: no exception after the RAX, CPL and intercept checks; physical accesses to unbacked memory do not fault)"
    /// vGIF: STGI/CLGI in a guest change the virtual GIF when vGIF is enabled.
    public static let vgif =
        "QEMU target/i386/tcg/sysemu/svm_helper.c:helper_stgi/helper_clgi/virtual_gif_enabled (independent implementation: with vGIF supported and V_GIF_ENABLE set they change V_GIF, else the real GIF)"
    /// The #VMEXIT itself as evidence.
    public static let traceEvidence =
        "trace evidence: the CPU reported this #VMEXIT for the guest's own instruction and registers"
    /// Exception intercepts.
    public static let exceptionRouting =
        "Xen xen/arch/x86/hvm/svm/nestedsvm.c:nsvm_vmcb_guest_intercepts_exitcode (VMEXIT_EXCEPTION_*: the exception intercept bitmap) + QEMU svm_helper.c:cpu_svm_has_intercept (independent implementations)"
    /// Where the APM text is not at hand and no implementation read decides.
    public static let silent = "no source at hand: the APM text was not found and the implementations read do not decide it"
}

extension Rule {
    /// An `apm.*` rule.
    static func apm(_ id: String, _ question: String, source: String) -> Rule {
        Rule(RuleID(rawValue: "apm.\(id)"), question, kernel: source)
    }

    /// Which level executed: L2 under vmcb12, or L1 as the host.
    public static let apmLevel = apm(
        "level", "which level was running (L2 in guest mode under vmcb12, or L1 as the bare-metal host)?",
        source: "APM vol. 2 §15.5 VMRUN (text not at hand; by definition VMRUN enters guest mode and, with no L0, L1 is the host)")
    /// Exits of L0's own machine (physical interrupts, NMI, SMI, INIT, VINTR, L0's NPF).
    public static let apmL0Event = apm(
        "l0-event", "is this exit an event of L0's machine that a bare-metal L1 never sees?",
        source: "trace evidence: physical INTR/NMI/SMI/INIT, VINTR windows and nested page faults of L0's own tables belong to the host that took them")
    /// Routing of an instruction or event exit by vmcb12 alone.
    public static let apmIntercept = apm(
        "intercept", "does vmcb12 intercept this exit (its intercept bit numbered like the exit code)?",
        source: APMSource.interceptRouting)
    /// CR/DR intercept words.
    public static let apmInterceptCRDR = apm(
        "intercept.cr-dr", "does vmcb12 intercept this CR/DR access (word 0/1 bit = exit code)?",
        source: "QEMU target/i386/tcg/sysemu/svm_helper.c:cpu_svm_has_intercept (independent implementation: CR/DR read and write words)")
    /// The selective CR0 write intercept.
    public static let apmSelectiveCR0 = apm(
        "intercept.selective-cr0", "does the CR0 write change bits other than TS and MP (selective CR0 write intercept)?",
        source: "APM vol. 2 §15.9.1 selective CR0 write intercept (text not at hand) as implemented by Xen nestedsvm.c:nsvm_vmcb_guest_intercepts_exitcode (VMEXIT_CR0_WRITE with ns_cr_intercepts / general1 SELECTIVE_CR0)")
    /// MSR_PROT / MSRPM.
    public static let apmMSR = apm(
        "intercept.msrpm", "does vmcb12 intercept this MSR access (MSR_PROT, MSRPM bit, or an MSR outside the map)?",
        source: APMSource.msrpm)
    /// IOIO_PROT / IOPM.
    public static let apmIO = apm(
        "intercept.iopm", "does vmcb12 intercept this port access (IOIO_PROT and an IOPM bit of any byte)?",
        source: APMSource.iopm)
    /// An instruction vmcb12 does not intercept completes in the guest.
    public static let apmExecutes = apm(
        "insn.executes", "not intercepted: does the instruction complete in the level that ran it, or raise an exception of its own?",
        source: "QEMU target/i386/tcg/sysemu/svm_helper.c:cpu_svm_check_intercept_param (independent implementation: no intercept, no #VMEXIT; the instruction runs its own semantics)")
    /// An instruction the CPU L1 sees does not implement raises #UD before any intercept.
    public static let apmCPUIDFeature = apm(
        "insn.cpuid-feature", "does the CPU L1 sees implement this instruction (its CPUID bit), else #UD before the intercept?",
        source: "QEMU target/i386/tcg/translate.c:disas_insn (independent implementation: RDTSCP, INVPCID, RDPRU, SKINIT raise #UD when their CPUID bit is clear, before the SVM intercept check)")
    /// The exception of an exception exit: raised by the CPU, or L0's own artefact?
    public static let apmExceptionOrigin = apm(
        "exception.origin", "did the CPU raise this exception for the guest's own instruction (same result on bare metal)?",
        source: APMSource.traceEvidence + "; exceptions checked before intercepts do not depend on the intercept bits (QEMU svm_helper.c 'Exceptions are checked before the intercept', independent implementation)")
    /// Exception routing: the exception intercept bitmap.
    public static let apmExceptionIntercept = apm(
        "exception.intercept", "does vmcb12 intercept this exception vector (exception bitmap)?",
        source: APMSource.exceptionRouting)
    /// SVM instruction checks before the intercept: #UD for EFER.SVME, #GP for CPL.
    public static let apmSVMPreChecks = apm(
        "svm-insn.pre-intercept", "does the SVM instruction pass its #UD (EFER.SVME) and #GP (CPL 0) checks, which precede the intercept?",
        source: APMSource.qemuSVMOpcodeChecks)
    /// The RAX check of VMRUN/VMLOAD/VMSAVE.
    public static let apmRAXCheck = apm(
        "svm-insn.rax", "is RAX 4 KiB aligned and below 2^MAXPHYADDR (else #GP(0))?",
        source: APMSource.qemuRAXBeforeIntercept)
    /// Order of the RAX check and the intercept: QEMU and Xen disagree.
    public static let apmRAXOrder = apm(
        "svm-insn.rax-vs-intercept", "with an illegal RAX and vmcb12 intercepting the instruction: #GP or #VMEXIT first?",
        source: APMSource.qemuRAXBeforeIntercept + " versus APM vol. 2 §15.9 as quoted in the review of the 2026 KVM RAX series ('intercepts are checked after simple exceptions but before operand-value exceptions'; text not at hand) and Xen nestedsvm.c:nsvm_vmcb_guest_intercepts_exitcode (independent implementation: reflects VMRUN/VMLOAD/VMSAVE on the intercept bit without a RAX check)")
    /// VMMCALL.
    public static let apmVMMCALL = apm(
        "vmmcall", "is VMMCALL intercepted (else it raises #UD)?", source: APMSource.vmmcall)
    /// VMLOAD/VMSAVE/STGI/CLGI/INVLPGA complete.
    public static let apmSVMExecutes = apm(
        "svm-insn.executes", "not intercepted: the SVM instruction completes (VMLOAD/VMSAVE address, GIF, TLB)",
        source: APMSource.qemuExecutes)
    /// STGI/CLGI with vGIF.
    public static let apmVGIF = apm(
        "svm-insn.vgif", "which GIF does STGI/CLGI change (vGIF supported and V_GIF_ENABLE set: the virtual one)?",
        source: APMSource.vgif)
    /// SKINIT.
    public static let apmSKINIT = apm(
        "skinit", "SKINIT not intercepted: #UD (a CPU without SKINIT), or the secure init?",
        source: APMSource.silent + " (QEMU svm_helper.c:helper_skinit, which does not implement SKINIT, raises #UD after the intercept check)")
    /// VMEXIT_INVALID while L2 runs: vmcb02 rejected.
    public static let apmVMCB02Invalid = apm(
        "vmcb02-invalid", "the CPU rejected L0's vmcb02: would it have rejected vmcb12 (L1's VMRUN fails) or is the bad state L0's own?",
        source: APMSource.consistencyChecks)
    /// Nested page fault while L1 uses nested paging.
    public static let apmNPF = apm(
        "npf.l1-tables", "does the walk of L1's nested page tables fault (an NPF of L1's guest) or only L0's?",
        source: "APM vol. 2 §15.25 nested paging (text not at hand) as implemented by Xen nestedsvm.c:nestedsvm_check_intercepts (VMEXIT_NPF: the L1 walk decides) (independent implementation)")
    /// Exit codes no `apm` rule covers.
    public static let apmUnmodelled = apm(
        "unmodelled", "is there an apm rule for this exit code?", source: APMSource.silent)
    /// VMRUN: VM_HSAVE_PA.
    public static let apmHsave = apm(
        "vmrun.hsave", "is VM_HSAVE_PA relevant to VMRUN's checks?",
        source: "QEMU target/i386/tcg/sysemu/svm_helper.c:helper_vmrun (independent implementation: stores the host state at VM_HSAVE_PA without a check; no VMRUN condition on it in the APM list at hand)")
    /// VMRUN: one check of the APM list.
    public static func apmConsistency(_ check: APMConsistencyCheck) -> Rule {
        apm("vmrun.check.\(check.id)", "does vmcb12 pass: \(check.requirement)?", source: check.source)
    }
    /// VMRUN: all checks pass.
    public static let apmVMRUNEnter = apm(
        "vmrun.enter", "do all of the APM's consistency checks pass (enter L2, inject EVENTINJ without intercept checks)?",
        source: APMSource.consistencyChecks)
    /// A `kvm_nested_vmenter_failed` message, read against the APM list.
    public static let apmFailureMessage = apm(
        "vmrun.failure-message", "is the check KVM failed on one of the APM's VMRUN consistency checks?",
        source: APMSource.consistencyChecks)
    /// Pending events before L2 runs.
    public static let apmPending = apm(
        "pending.intercept", "does vmcb12 intercept this pending event (exception bitmap, INTR/NMI/SMI/INIT, SHUTDOWN)?",
        source: APMSource.interceptRouting)

    /// Every `apm` rule: the static ones, then one per APM consistency check. Ids are unique
    /// (a test checks it); each cites a source.
    public static let architecturalCatalogue: [Rule] = [
        .apmLevel, .apmL0Event, .apmCPUIDFeature, .apmIntercept, .apmInterceptCRDR, .apmSelectiveCR0, .apmMSR, .apmIO, .apmExecutes,
        .apmExceptionOrigin, .apmExceptionIntercept, .apmSVMPreChecks, .apmRAXCheck, .apmRAXOrder, .apmVMMCALL,
        .apmSVMExecutes, .apmVGIF, .apmSKINIT, .apmVMCB02Invalid, .apmNPF, .apmUnmodelled, .apmHsave, .apmVMRUNEnter,
        .apmFailureMessage, .apmPending, .apmFeature, .apmEventInjGate, .apmEventInjDoubleFault, .factKnown,
    ] + APMConsistencyCheck.all.map(Rule.apmConsistency)
}

/// One VMRUN consistency check as the architecture states it.
public struct APMConsistencyCheck: Sendable, Equatable {
    /// Stable id (`apm.vmrun.check.<id>`).
    public var id: String
    /// The condition that must hold, one line.
    public var requirement: String
    /// Where it comes from.
    public var source: String
    /// The KVM check (`ConsistencyCheck.id`) testing the same condition, when there is one:
    /// its fact (`vmrun.check.<id>`) passing means this check passes too.
    public var kvmCheck: String?

    /// The checks: the APM vol. 2 §15.5.1 list (text at hand), plus the two conditions KVM
    /// checks that the list does not name and whose architectural answer is not at hand.
    public static let all: [APMConsistencyCheck] = [
        .init(id: "efer-svme", requirement: "EFER.SVME is set", source: APMSource.consistencyChecks, kvmCheck: "efer-svme"),
        .init(id: "cr0-cd-nw", requirement: "not CR0.NW without CR0.CD", source: APMSource.consistencyChecks, kvmCheck: "cr0-cd-nw"),
        .init(id: "cr0-upper", requirement: "CR0[63:32] are zero", source: APMSource.consistencyChecks, kvmCheck: "cr0-upper"),
        .init(id: "cr3-mbz", requirement: "no MBZ bit of CR3 is set (bits at and above MAXPHYADDR)", source: APMSource.consistencyChecks, kvmCheck: "load-cr3"),
        .init(id: "cr4-mbz", requirement: "no MBZ bit of CR4 is set (for the CPU L1 sees)", source: APMSource.consistencyChecks, kvmCheck: "cr4-valid"),
        .init(id: "dr6-upper", requirement: "DR6[63:32] are zero", source: APMSource.consistencyChecks, kvmCheck: "dr6-upper"),
        .init(id: "dr7-upper", requirement: "DR7[63:32] are zero", source: APMSource.consistencyChecks, kvmCheck: "dr7-upper"),
        .init(id: "efer-mbz", requirement: "no MBZ bit of EFER is set, and LMA/LME only with long mode", source: APMSource.consistencyChecks, kvmCheck: "efer-valid"),
        .init(id: "long-mode-pae", requirement: "EFER.LME and CR0.PG need CR4.PAE", source: APMSource.consistencyChecks, kvmCheck: "long-mode-pae"),
        .init(id: "long-mode-pe", requirement: "EFER.LME and CR0.PG need CR0.PE", source: APMSource.consistencyChecks, kvmCheck: "long-mode-pe"),
        .init(id: "long-mode-cs", requirement: "not EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set", source: APMSource.consistencyChecks, kvmCheck: "long-mode-cs"),
        .init(id: "vmrun-intercept", requirement: "the VMRUN intercept bit is set", source: APMSource.consistencyChecks, kvmCheck: "vmrun-intercept"),
        .init(id: "msrpm-base", requirement: "the MSR permission map ends below 2^MAXPHYADDR", source: APMSource.consistencyChecks, kvmCheck: "msrpm-base"),
        .init(id: "iopm-base", requirement: "the I/O permission map ends below 2^MAXPHYADDR", source: APMSource.consistencyChecks, kvmCheck: "iopm-base"),
        .init(id: "event-inj", requirement: "EVENTINJ is a legal event", source: APMSource.eventInjection, kvmCheck: nil),
        .init(id: "asid", requirement: "the ASID is not zero", source: APMSource.consistencyChecks, kvmCheck: "asid"),
        .init(
            id: "ncr3-valid", requirement: "with NP_ENABLE, nCR3 has no MBZ bit set",
            source: APMSource.silent + " (the §15.5.1 list at hand, an older revision, does not name it; kvm-x86 b71138fcc362 'KVM: nSVM: Add missing consistency check for nCR3 validity' (2026) reads the APM as having it; QEMU svm_helper.c:helper_vmrun loads nested_cr3 without a check)",
            kvmCheck: "nested-cr3"),
        .init(
            id: "vnmi-nmi-intercept", requirement: "V_NMI_ENABLE with the NMI intercept",
            source: APMSource.silent + " (the §15.5.1 list at hand does not name it)", kvmCheck: "vnmi-nmi-intercept"),
    ]

    /// KVM checks that test nothing the architecture checks at VMRUN: a failure of one of
    /// them is a KVM deviation.
    public static let notArchitectural: [String: String] = [
        "np-host-npt": "the APM §15.5.1 list (text at hand) has no NP_ENABLE-without-nested-paging check; QEMU svm_helper.c:helper_vmrun has none (independent implementation); kvm-x86 e0b6f031d64c 'KVM: nSVM: Drop the non-architectural consistency check for NP_ENABLE' (2026) agrees",
        "load-pdptrs": "the APM §15.5.1 list (text at hand) has no PDPTE check; QEMU svm_helper.c:helper_vmrun loads no PDPTEs (independent implementation)",
        "msrpm-read": "the CPU reads the MSRPM at each MSR access, not at VMRUN; KVM copies L1's map into its merged one at VMRUN (svm/nested.c:nested_svm_vmrun_msrpm) and fails the VMRUN when it cannot read it",
    ]
}
