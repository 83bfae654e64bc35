/// One VMRUN consistency check on the cached vmcb12 (`svm/nested.c:__nested_vmcb_check_save`,
/// `__nested_vmcb_check_controls`, `nested_svm_load_cr3`), in the order KVM runs them.
///
/// A failing check emits `kvm_nested_vmenter_failed` with the check's C expression as text;
/// `messages` lists that text per kernel so a trace line maps back to the check id.
public struct ConsistencyCheck: Sendable, Equatable, Hashable {
    /// Stable id, also the suffix of the rule id `svm.vmrun.check.<id>`.
    public var id: String
    /// What the check requires, one line.
    public var requirement: String
    /// `kvm_nested_vmenter_failed` texts that name this check (6.1 and 6.12 spellings).
    public var messages: [String]
    /// Where KVM runs it.
    public var kernel: String
    /// A failure after entering guest mode is reported through `nested_svm_vmexit`
    /// (`out_exit_err`, traced as `kvm_nested_vmexit_inject reason: 0xffffffff`); the
    /// others only write vmcb12.
    public var afterEntry: Bool

    /// The checks in KVM's order: save area, then controls, then CR3 loading.
    public static let all: [ConsistencyCheck] = [
        .init(id: "efer-svme", requirement: "vmcb12 EFER.SVME is set", messages: ["!(save->efer & EFER_SVME)"], kernel: save),
        .init(id: "cr0-cd-nw", requirement: "not CR0.NW without CR0.CD", messages: ["(save->cr0 & X86_CR0_CD) == 0 && (save->cr0 & X86_CR0_NW)"], kernel: save),
        .init(id: "cr0-upper", requirement: "CR0 bits 63:32 are zero", messages: ["save->cr0 & ~0xffffffffULL"], kernel: save),
        .init(id: "dr6-upper", requirement: "DR6 bits 63:32 are zero", messages: ["!kvm_dr6_valid(save->dr6)"], kernel: save),
        .init(id: "dr7-upper", requirement: "DR7 bits 63:32 are zero", messages: ["!kvm_dr7_valid(save->dr7)"], kernel: save),
        .init(id: "long-mode-pae", requirement: "EFER.LME and CR0.PG need CR4.PAE", messages: ["!(save->cr4 & X86_CR4_PAE)"], kernel: save),
        .init(id: "long-mode-pe", requirement: "EFER.LME and CR0.PG need CR0.PE", messages: ["!(save->cr0 & X86_CR0_PE)"], kernel: save),
        .init(id: "long-mode-cr3", requirement: "EFER.LME and CR0.PG need a legal CR3 (below 2^MAXPHYADDR)", messages: ["!kvm_vcpu_is_legal_cr3(vcpu, save->cr3)", "kvm_vcpu_is_illegal_gpa(vcpu, save->cr3)"], kernel: save),
        .init(id: "long-mode-cs", requirement: "EFER.LME and CR0.PG forbid CS.L with CS.D", messages: ["(save->cs.attrib & SVM_SELECTOR_L_MASK) && (save->cs.attrib & SVM_SELECTOR_DB_MASK)"], kernel: save),
        .init(id: "cr4-valid", requirement: "CR4 is valid for the vCPU", messages: ["!__kvm_is_valid_cr4(vcpu, save->cr4)"], kernel: save),
        .init(id: "efer-valid", requirement: "EFER is valid for the vCPU", messages: ["!kvm_valid_efer(vcpu, save->efer)"], kernel: save),
        .init(id: "vmrun-intercept", requirement: "L1 intercepts VMRUN", messages: ["!vmcb12_is_intercept(control, INTERCEPT_VMRUN)"], kernel: controls),
        .init(id: "asid", requirement: "ASID is not 0", messages: ["control->asid == 0"], kernel: controls),
        .init(id: "np-host-npt", requirement: "NP_ENABLE only if L0 uses NPT", messages: ["(control->nested_ctl & SVM_NESTED_CTL_NP_ENABLE) && !npt_enabled"], kernel: controls),
        .init(id: "nested-cr3", requirement: "with NP_ENABLE, nested_cr3 is a legal GPA", messages: ["(control->nested_ctl & SVM_NESTED_CTL_NP_ENABLE) && !kvm_vcpu_is_legal_gpa(vcpu, control->nested_cr3)"], kernel: controls),
        .init(id: "msrpm-base", requirement: "the 8 KiB MSRPM lies below 2^MAXPHYADDR", messages: ["!nested_svm_check_bitmap_pa(vcpu, control->msrpm_base_pa, MSRPM_SIZE)"], kernel: controls),
        .init(id: "iopm-base", requirement: "the 12 KiB IOPM lies below 2^MAXPHYADDR", messages: ["!nested_svm_check_bitmap_pa(vcpu, control->iopm_base_pa, IOPM_SIZE)"], kernel: controls),
        .init(id: "vnmi-nmi-intercept", requirement: "V_NMI_ENABLE needs the NMI intercept", messages: ["(control->int_ctl & V_NMI_ENABLE_MASK) && !vmcb12_is_intercept(control, INTERCEPT_NMI)"], kernel: controls),
        .init(id: "event-inj", requirement: "EVENTINJ is a valid event (2026 kvm-x86)", messages: [], kernel: controls),
        .init(id: "load-cr3", requirement: "CR3 is legal when KVM loads it for L2", messages: ["!kvm_vcpu_is_legal_cr3(vcpu, cr3)", "kvm_vcpu_is_illegal_gpa(vcpu, cr3)"], kernel: "svm/nested.c:nested_svm_load_cr3", afterEntry: true),
        .init(id: "load-pdptrs", requirement: "PAE PDPTEs load (legacy PAE paging without nested NPT)", messages: ["!load_pdptrs(vcpu, cr3)"], kernel: "svm/nested.c:nested_svm_load_cr3", afterEntry: true),
        .init(id: "msrpm-read", requirement: "with MSR_PROT, L1's MSRPM can be read (its pages are backed)", messages: [], kernel: "svm/nested.c:nested_svm_vmrun_msrpm", afterEntry: true),
    ]

    private static let save = "svm/nested.c:__nested_vmcb_check_save"
    private static let controls = "svm/nested.c:__nested_vmcb_check_controls"

    /// Builds a check.
    public init(id: String, requirement: String, messages: [String], kernel: String, afterEntry: Bool = false) {
        self.id = id
        self.requirement = requirement
        self.messages = messages
        self.kernel = kernel
        self.afterEntry = afterEntry
    }

    /// The rule id of this check, `svm.vmrun.check.<id>`.
    public var ruleID: RuleID { RuleID(rawValue: "svm.vmrun.check.\(id)") }

    /// The check a `kvm_nested_vmenter_failed` message names (whitespace-insensitive), or `nil`.
    public static func check(forMessage message: String) -> ConsistencyCheck? {
        let wanted = normalized(message)
        return all.first { $0.messages.contains { normalized($0) == wanted } }
    }

    private static func normalized(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }
}
